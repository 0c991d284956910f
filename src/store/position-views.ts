import type { Kysely } from 'kysely';
import { sideSign, type Side } from '../core/types.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { listVenuePositions, snapshotTimes } from './order-intents.ts';
import { positionCore } from './positions.ts';
import type { Database } from './schema.ts';

/** A position as the API shows it (the fields of the positions response, plus ids and PnL detail). */
export interface PositionView {
  readonly id: string;
  readonly symbol: string;
  readonly side: Side;
  /** Hedge-mode leg, null in one-way mode. */
  readonly position_side: Side | null;
  /** Open quantity on this target (signal size × the recorder's multiplier). */
  readonly size: number;
  readonly entry_price: number;
  readonly mark_price: number;
  /** Unrealized PnL at mark_price (quote). */
  readonly pnl: number;
  readonly realized_pnl: number;
  /** Worst unrealized loss seen (quote, ≥ 0): the position's drawdown. */
  readonly max_adverse: number;
  readonly exchange: string;
  readonly env: string;
  readonly account_type: string;
  readonly target: string;
  readonly strategy: string | null;
  readonly tp_price: number | null;
  readonly sl_price: number | null;
  readonly source: string;
  readonly opened_by: string;
  readonly recorder_id: number | null;
  readonly status: string;
  readonly opened_at: number;
  readonly closed_at: number | null;
  /** Why it closed: null for a signal, order or engine close; `closed_externally`, `closed_from_dashboard`, … */
  readonly close_reason: string | null;
  /** Size the venue holds for this symbol (and leg) at its latest snapshot; null before any snapshot. */
  readonly broker_size: number | null;
  readonly broker_entry_price: number | null;
  /** True when the venue's position differs from this one (size or side). */
  readonly diverged: boolean;
}

/** Filters of a positions query. */
export interface PositionFilter {
  readonly userId: number;
  /** Only this target (`exchange:env`). */
  readonly targetKey?: string;
  /** Only targets on this exchange (any env). */
  readonly exchange?: string;
  readonly recorderId?: number;
  /** `open` (default), `closed` or `all`. */
  readonly status?: 'open' | 'closed' | 'all';
  /** Only positions closed for this reason (e.g. `closed_externally`). */
  readonly closeReason?: string;
  /** Only positions closed at or after this time (epoch ms). */
  readonly closedSince?: number;
  readonly symbol?: string;
}

/**
 * The user's positions per target. A signal position belongs to the recorder and shows on each target the
 * recorder is linked to, scaled by the link's multiplier; other positions carry their target themselves.
 */
export async function listPositionViews(db: Kysely<Database>, f: PositionFilter): Promise<PositionView[]> {
  let q = db
    .selectFrom('positions as p')
    .leftJoin('recorder_targets as rt', 'rt.recorder_id', 'p.recorder_id')
    .selectAll('p')
    .select(['rt.target_key as link_target', 'rt.multiplier as multiplier'])
    .where('p.user_id', '=', f.userId);
  const status = f.status ?? 'open';
  if (status !== 'all') q = q.where('p.status', '=', status);
  if (f.recorderId !== undefined) q = q.where('p.recorder_id', '=', f.recorderId);
  if (f.symbol !== undefined) q = q.where('p.symbol', '=', f.symbol);
  if (f.closeReason !== undefined) q = q.where('p.close_reason', '=', f.closeReason);
  if (f.closedSince !== undefined) q = q.where('p.closed_at', '>=', f.closedSince);
  if (f.targetKey !== undefined) {
    const key = f.targetKey;
    q = q.where((eb) => eb.or([eb('p.target_key', '=', key), eb('rt.target_key', '=', key)]));
  }
  if (f.exchange !== undefined) {
    const prefix = `${f.exchange}:%`;
    q = q.where((eb) => eb.or([eb('p.target_key', 'like', prefix), eb('rt.target_key', 'like', prefix)]));
  }
  const rows = await q.orderBy('p.opened_at').orderBy('p.id').execute();
  const broker = await brokerLookup(db, f.userId);
  const out: PositionView[] = [];
  const groups = new Map<string, { broker: number; ours: number; rows: number[] }>();
  for (const r of rows) {
    const key = r.target_key ?? r.link_target;
    if (!key) continue;
    const t = parseTargetKey(key);
    const m = r.target_key ? 1 : (r.multiplier ?? 1);
    const size = r.qty * m;
    const mark = r.last_price ?? r.entry_price;
    const side = r.side as Side;
    // An engine's positions on a sim target are in the engine's own simulated exchange, not the server's.
    const ownSim = r.source === 'engine' && t.exchange === 'sim';
    const held = r.status === 'open' && !ownSim ? broker(t.key, t.exchange, r.symbol, (r.position_side as Side | null) ?? null) : null;
    const brokerSigned = held ? held.signed : null;
    out.push({
      id: r.id,
      symbol: r.symbol,
      side,
      position_side: (r.position_side as Side | null) ?? null,
      size,
      entry_price: r.entry_price,
      mark_price: mark,
      pnl: r.status === 'open' ? (mark - r.entry_price) * size * sideSign(side) : 0,
      realized_pnl: r.realized_pnl * m,
      max_adverse: r.max_adverse * m,
      exchange: t.exchange,
      env: t.env,
      account_type: t.accountType,
      target: t.key,
      strategy: r.strategy,
      tp_price: r.take_profit,
      sl_price: r.stop_loss,
      source: r.source,
      opened_by: r.opened_by,
      recorder_id: r.recorder_id,
      status: r.status,
      opened_at: r.opened_at,
      closed_at: r.closed_at,
      close_reason: r.close_reason,
      broker_size: brokerSigned === null ? null : Math.abs(brokerSigned),
      broker_entry_price: held?.entry ?? null,
      diverged: false,
    });
    if (brokerSigned !== null) {
      // The venue nets every position of a symbol and leg: compare it with all of ours there, not with each.
      const key = `${t.key}|${held?.symbol}|${r.position_side ?? ''}`;
      const g = groups.get(key) ?? { broker: brokerSigned, ours: 0, rows: [] as number[] };
      g.ours += sideSign(side) * size;
      g.rows.push(out.length - 1);
      groups.set(key, g);
    }
  }
  for (const g of groups.values()) {
    const diverged = Math.abs(g.broker - g.ours) > 1e-9 * Math.max(1, Math.abs(g.ours));
    for (const i of g.rows) out[i] = { ...out[i]!, diverged };
  }
  return out;
}

/**
 * Finds what a venue holds for a position's symbol and leg at the latest snapshot: signed size (0 when
 * the venue is flat there) and entry; null when the target was never snapshotted or the ticker has no
 * venue symbol.
 */
async function brokerLookup(db: Kysely<Database>, userId: number) {
  const times = await snapshotTimes(db, userId);
  const rows = times.size > 0 ? await listVenuePositions(db, userId) : [];
  return (targetKey: string, exchange: Parameters<typeof venueSymbol>[1], ticker: string, leg: Side | null): { signed: number; entry: number | null; symbol: string } | null => {
    if (!times.has(targetKey)) return null;
    let symbol: string;
    try {
      symbol = venueSymbol(ticker, exchange);
    } catch {
      return null;
    }
    const mine = rows.filter((v) => v.target_key === targetKey && v.symbol === symbol && (leg === null || v.position_side === leg));
    let signed = 0;
    for (const v of mine) signed += sideSign(v.side as Side) * v.qty;
    return { signed, entry: mine[0]?.entry_price ?? null, symbol };
  };
}

/** A recorder's signal positions (one per position, unscaled), with their entries, newest first. */
export async function recorderPositions(db: Kysely<Database>, recorderId: number, status: 'open' | 'closed' | 'all') {
  let q = db.selectFrom('positions').selectAll().where('recorder_id', '=', recorderId);
  if (status !== 'all') q = q.where('status', '=', status);
  const rows = await q.orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(500).execute();
  const entries =
    rows.length === 0
      ? []
      : await db
          .selectFrom('position_entries')
          .select(['position_id', 'kind', 'qty', 'price', 'realized_pnl', 'ts', 'signal_id'])
          .where(
            'position_id',
            'in',
            rows.map((r) => r.id),
          )
          .orderBy('id')
          .execute();
  return rows.map((r) => {
    const mark = r.last_price ?? r.entry_price;
    return {
      ...positionCore(r),
      mark_price: mark,
      pnl: r.status === 'open' ? (mark - r.entry_price) * r.qty * sideSign(r.side as Side) : 0,
      max_adverse: r.max_adverse,
      exit_price: r.avg_exit_price,
      entries: entries.filter((e) => e.position_id === r.id).map(({ position_id: _p, ...e }) => e),
    };
  });
}

/** A recorder's equity curve: realized + unrealized after each signal that moved or marked its positions. */
export async function recorderEquity(db: Kysely<Database>, recorderId: number) {
  const rows = await db.selectFrom('equity_points').select(['ts', 'realized', 'unrealized']).where('recorder_id', '=', recorderId).orderBy('id').execute();
  let peak = 0;
  return rows.map((r) => {
    const equity = r.realized + r.unrealized;
    if (equity > peak) peak = equity;
    return { ts: r.ts, realized: r.realized, unrealized: r.unrealized, equity, drawdown: peak - equity };
  });
}
