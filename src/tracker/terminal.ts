import type { Kysely } from 'kysely';
import { sideSign, type Side } from '../core/types.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { listVenuePositions, snapshotTimes } from '../store/order-intents.ts';
import { listPositionViews, type PositionView } from '../store/position-views.ts';
import type { Database } from '../store/schema.ts';
import { marked, type MarkBook } from './marks.ts';
import { untrackedHoldings } from './reconcile.ts';

/** One row of the terminal: a ledger position, a venue position no ledger position explains, or one closed externally. */
export interface TerminalRow extends PositionView {
  readonly kind: 'tracked' | 'untracked' | 'closed' | 'closed_externally';
  /** A signal position's recorder targets (closing it closes it on each); empty for other rows. */
  readonly linked_targets: string[];
  /** The open orphan issue of an untracked row (to adopt or dismiss), null otherwise. */
  readonly issue_id: number | null;
  /** The target's venue holds it, so the terminal can close it there. */
  readonly closable: boolean;
}

/** A target's positions as the terminal shows them. */
export interface TerminalView {
  readonly target: string;
  readonly exchange: string;
  readonly env: string;
  readonly account_type: string;
  readonly badge: 'DEMO' | 'REAL';
  /** Epoch ms of the venue's latest snapshot, null before one. */
  readonly snapshot_at: number | null;
  readonly rows: TerminalRow[];
}

/** How long a position closed externally stays on the terminal (ms). */
export const CLOSED_EXTERNALLY_SHOWN_MS = 24 * 3_600_000;

/**
 * The terminal of one target, as seed 003's web app merges it: the ledger's open positions (strategy,
 * SL/TP, source, opened by) beside what the venue holds; what the venue holds and the ledger does not (the
 * reconciler's orphans, by its own rule) is an `untracked` row; positions the reconciler closed as gone from the exchange stay a day as
 * `closed_externally`. Open rows are marked at the server's latest price when it has one.
 */
export async function terminalView(db: Kysely<Database>, marks: MarkBook, userId: number, targetKey: string, now: number): Promise<TerminalView> {
  const t = parseTargetKey(targetKey);
  const open = await listPositionViews(db, { userId, targetKey: t.key, status: 'open' });
  // An engine's positions on a sim target are in the engine's own simulated exchange: only the engine closes them.
  const recorders = [...new Set(open.map((p) => p.recorder_id).filter((x): x is number => x !== null))];
  const links = recorders.length === 0 ? [] : await db.selectFrom('recorder_targets').select(['recorder_id', 'target_key']).where('recorder_id', 'in', recorders).orderBy('target_key').execute();
  const linkedOf = (p: PositionView): string[] => (p.source === 'signal' ? links.filter((l) => l.recorder_id === p.recorder_id).map((l) => l.target_key) : []);
  const rows: TerminalRow[] = open.map((p) => ({ ...marked(p, marks, userId), kind: 'tracked', linked_targets: linkedOf(p), issue_id: null, closable: !(p.source === 'engine' && t.exchange === 'sim') }));

  const snapshotAt = (await snapshotTimes(db, userId)).get(t.key) ?? null;
  if (snapshotAt !== null) {
    const venue = await listVenuePositions(db, userId, t.key);
    const held = venue.map((v) => ({ symbol: v.symbol, side: v.side as Side, leg: (v.position_side as Side | null) ?? null, qty: v.qty, entryPrice: v.entry_price }));
    const orphans = await db
      .selectFrom('reconciliation_issues')
      .select(['id', 'symbol', 'side'])
      .where('user_id', '=', userId)
      .where('target_key', '=', t.key)
      .where('kind', '=', 'orphan')
      .where('status', '=', 'open')
      .execute();
    for (const f of await untrackedHoldings(db, userId, t.key, held, snapshotAt)) {
      const e = f.exchange;
      if (!e) continue;
      const leg = f.hedge ? f.side : null;
      const entry = e.price ?? 0;
      const v = venue.find((x) => x.symbol === f.symbol && (leg === null || x.position_side === leg));
      const mark = marks.get(userId, f.symbol)?.price ?? v?.mark_price ?? entry;
      rows.push({
        id: `venue:${t.key}:${f.symbol}:${f.side}`,
        symbol: f.symbol,
        side: e.side,
        position_side: leg,
        size: e.qty,
        entry_price: entry,
        mark_price: mark,
        pnl: (mark - entry) * e.qty * sideSign(e.side),
        realized_pnl: 0,
        max_adverse: 0,
        exchange: t.exchange,
        env: t.env,
        account_type: t.accountType,
        target: t.key,
        strategy: null,
        tp_price: null,
        sl_price: null,
        source: 'exchange',
        opened_by: 'exchange',
        recorder_id: null,
        status: 'open',
        opened_at: v?.fetched_at ?? snapshotAt,
        closed_at: null,
        close_reason: null,
        broker_size: e.qty,
        broker_entry_price: e.price,
        diverged: true,
        kind: 'untracked',
        linked_targets: [],
        issue_id: orphans.find((o) => o.symbol === f.symbol && o.side === f.side)?.id ?? null,
        closable: true,
      });
    }
  }

  // Positions closed on this target in the last day: their realized PnL is what the summary's realized card sums.
  const closed = await listPositionViews(db, { userId, targetKey: t.key, status: 'closed', closedSince: now - CLOSED_EXTERNALLY_SHOWN_MS });
  for (const p of closed.sort((a, b) => (b.closed_at ?? 0) - (a.closed_at ?? 0))) {
    rows.push({ ...p, kind: p.close_reason === 'closed_externally' ? 'closed_externally' : 'closed', linked_targets: [], issue_id: null, closable: false });
  }

  return { target: t.key, exchange: t.exchange, env: t.env, account_type: t.accountType, badge: t.env === 'live' ? 'REAL' : 'DEMO', snapshot_at: snapshotAt, rows };
}
