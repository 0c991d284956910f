import type { Kysely } from 'kysely';
import { sideSign, type Side } from '../core/types.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { listVenuePositions, snapshotTimes } from '../store/order-intents.ts';
import { listPositionViews, type PositionView } from '../store/position-views.ts';
import type { Database } from '../store/schema.ts';
import { tickerOf } from '../core/instrument.ts';
import type { MarkBook } from './marks.ts';

/** One row of the terminal: a ledger position, a venue position no ledger position explains, or one closed externally. */
export interface TerminalRow extends PositionView {
  readonly kind: 'tracked' | 'untracked' | 'closed_externally';
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
  readonly badge: 'DEMO' | 'LIVE';
  /** Epoch ms of the venue's latest snapshot, null before one. */
  readonly snapshot_at: number | null;
  readonly rows: TerminalRow[];
}

/** How long a position closed externally stays on the terminal (ms). */
export const CLOSED_EXTERNALLY_SHOWN_MS = 24 * 3_600_000;

/**
 * The terminal of one target, as seed 003's web app merges it: the ledger's open positions (strategy,
 * SL/TP, source, opened by) beside what the venue holds; a venue position that no ledger position explains
 * is an `untracked` row; positions the reconciler closed as gone from the exchange stay a day as
 * `closed_externally`. Open rows are marked at the server's latest price when it has one.
 */
export async function terminalView(db: Kysely<Database>, marks: MarkBook, userId: number, targetKey: string, now: number): Promise<TerminalView> {
  const t = parseTargetKey(targetKey);
  const open = await listPositionViews(db, { userId, targetKey: t.key, status: 'open' });
  // An engine's positions on a sim target are in the engine's own simulated exchange: only the engine closes them.
  const rows: TerminalRow[] = open.map((p) => ({ ...marked(p, marks), kind: 'tracked', issue_id: null, closable: !(p.source === 'engine' && t.exchange === 'sim') }));

  const snapshotAt = (await snapshotTimes(db, userId)).get(t.key) ?? null;
  if (snapshotAt !== null) {
    // An engine's positions on a sim target live in the engine's own exchange, not in this venue.
    const explains = open.filter((p) => !(p.source === 'engine' && t.exchange === 'sim'));
    const orphans = await db
      .selectFrom('reconciliation_issues')
      .select(['id', 'symbol', 'side'])
      .where('user_id', '=', userId)
      .where('target_key', '=', t.key)
      .where('kind', '=', 'orphan')
      .where('status', '=', 'open')
      .execute();
    for (const v of await listVenuePositions(db, userId, t.key)) {
      const side = v.side as Side;
      const leg = (v.position_side as Side | null) ?? null;
      const ticker = tickerOf(v.symbol);
      const known = explains.some((p) => tickerOf(p.symbol) === ticker && (leg === null ? true : (p.position_side ?? p.side) === leg));
      if (known) continue;
      const mark = marks.get(v.symbol)?.price ?? v.mark_price ?? v.entry_price;
      const issue = orphans.find((o) => tickerOf(o.symbol) === ticker && o.side === (leg ?? side));
      rows.push({
        id: `venue:${t.key}:${v.symbol}:${leg ?? side}`,
        symbol: v.symbol,
        side,
        position_side: leg,
        size: v.qty,
        entry_price: v.entry_price,
        mark_price: mark,
        pnl: (mark - v.entry_price) * v.qty * sideSign(side),
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
        opened_at: v.fetched_at,
        closed_at: null,
        broker_size: v.qty,
        broker_entry_price: v.entry_price,
        diverged: true,
        kind: 'untracked',
        issue_id: issue?.id ?? null,
        closable: true,
      });
    }
  }

  const closedIds = new Set(
    (
      await db
        .selectFrom('positions')
        .select('id')
        .where('user_id', '=', userId)
        .where('close_reason', '=', 'closed_externally')
        .where('closed_at', '>=', now - CLOSED_EXTERNALLY_SHOWN_MS)
        .execute()
    ).map((r) => r.id),
  );
  const gone = closedIds.size === 0 ? [] : await listPositionViews(db, { userId, targetKey: t.key, status: 'closed' });
  for (const p of gone) if (closedIds.has(p.id)) rows.push({ ...p, kind: 'closed_externally', issue_id: null, closable: false });

  return { target: t.key, exchange: t.exchange, env: t.env, account_type: t.accountType, badge: t.env === 'live' ? 'LIVE' : 'DEMO', snapshot_at: snapshotAt, rows };
}

/** An open position marked at the server's latest price for its ticker, when there is one. */
export function marked(p: PositionView, marks: MarkBook): PositionView {
  const m = p.status === 'open' ? marks.get(p.symbol) : undefined;
  if (!m) return p;
  return { ...p, mark_price: m.price, pnl: (m.price - p.entry_price) * p.size * sideSign(p.side) };
}
