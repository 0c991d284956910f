import type { Kysely } from 'kysely';
import { Ledger, type PositionChange } from '../core/ledger.ts';
import type { OrderSide, Side } from '../core/types.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { audit } from '../store/reconciliation.ts';
import { inLedgerForm, savePositionChanges } from '../store/positions.ts';
import type { Database } from '../store/schema.ts';
import { KeyedLock } from './keyed-lock.ts';
import { tickerOf } from '../core/instrument.ts';

/** A fill of an order the user placed from the API or the dashboard. */
export interface WebappFill {
  readonly targetKey: string;
  /** Any form; stored as the ticker (`BTCUSDT`), like signal positions. */
  readonly symbol: string;
  readonly side: OrderSide;
  /** Hedge mode: the leg. */
  readonly positionSide: Side | null;
  /** Base units. */
  readonly qty: number;
  /** Quote. */
  readonly price: number;
  /** Only reduces the user's position (reduce-only orders and closes). */
  readonly reduceOnly: boolean;
  /** Levels of the bracket placed with the order (shown on the position). */
  readonly stopLoss?: number | null;
  readonly takeProfit?: number | null;
  /** Epoch ms. */
  readonly ts: number;
}

/** One lock per user × target for every write to its dashboard positions (fills, brackets, closes). */
export const webappLocks = new KeyedLock();

/**
 * The ledger's record of positions opened from the dashboard / API (seed 003: "on success, add the
 * position with source webapp"): each filled order moves the user's `webapp` position of that target ×
 * symbol × leg through the one ledger (DCA, reduce, flip, close), with an entry, a trade when it closes
 * and an audit row. The reconciler treats these like engine positions: gone from the exchange after
 * consecutive flat reports → closed externally. Runs in the caller's transaction, under `webappLocks` for the target; returns the ids of the positions it touched.
 */
export async function applyWebappFillIn(trx: Kysely<Database>, userId: number, f: WebappFill): Promise<string[]> {
  const ticker = tickerOf(f.symbol);
  const rows = await trx.selectFrom('positions').selectAll().where('user_id', '=', userId).where('target_key', '=', f.targetKey).where('source', '=', 'webapp').execute();
  const hedge = f.positionSide !== null;
  const open = rows.filter((r) => r.status === 'open' && r.symbol === ticker && (r.position_side !== null) === hedge);
  const t = parseTargetKey(f.targetKey);
  const ledger = new Ledger({ mode: hedge ? 'hedge' : 'oneway', idPrefix: `w${userId}-${t.exchange}-${t.env}` });
  ledger.restore(await inLedgerForm(trx, open), rows.length);
  const held = ledger.find(ticker, f.positionSide ?? undefined);
  // A reduce-only fill with no position of ours to reduce moved someone else's position (a signal's).
  if (f.reduceOnly && !held) return [];
  const { changes } = ledger.apply({
    symbol: ticker,
    side: f.side,
    qty: f.qty,
    price: f.price,
    ts: f.ts,
    ...(f.positionSide ? { positionSide: f.positionSide } : {}),
    reduceOnly: f.reduceOnly,
    source: 'webapp',
    strategy: null,
  });
  const touched = [...new Set(changes.map((c: PositionChange) => c.position))];
  // An order's levels belong to what it opened or added to, never to a position it only reduced.
  const grown = new Set(changes.filter((c) => c.kind === 'opened' || c.kind === 'increased').map((c) => c.position));
  for (const p of grown) {
    if (p.closedAt !== null) continue;
    if (f.stopLoss !== undefined && f.stopLoss !== null) p.stopLoss = f.stopLoss;
    if (f.takeProfit !== undefined && f.takeProfit !== null) p.takeProfit = f.takeProfit;
  }
  await savePositionChanges(trx, { userId, recorderId: null, targetKey: f.targetKey, openedBy: 'user', strategy: null }, changes, touched, () => f.price, f.ts, null);
  const ids = touched.map((p) => p.id);
  await audit(trx, userId, ids, 'webapp', 'order_filled', { target: f.targetKey, symbol: ticker, side: f.side, position_side: f.positionSide, qty: f.qty, price: f.price, reduce_only: f.reduceOnly }, f.ts);
  return ids;
}
