import type { Kysely } from 'kysely';
import { Ledger, type PositionChange } from '../core/ledger.ts';
import { sideSign, type OrderSide, type PositionSource, type Side } from '../core/types.ts';
import { clientOrderId } from '../exchange/client-id.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { insertIntents, markBooked, type IntentRow, type NewIntent } from '../store/order-intents.ts';
import { inLedgerForm, savePositionChanges, type PositionRow } from '../store/positions.ts';
import { lockForTransaction } from '../store/leases.ts';
import { audit } from '../store/reconciliation.ts';
import type { Database } from '../store/schema.ts';
import { applyWebappFillIn, webappLocks } from './webapp-book.ts';

const EPS = 1e-12;

/** What one booking pass wrote: the bracket orders and cancels that keep dashboard positions' stop-loss / take-profit in step (ids). */
export interface BookingOutcome {
  readonly written: readonly number[];
}

/** The intents group of one dashboard position's bracket: its cancels and places go out in order. */
export function bracketGroup(userId: number, targetKey: string, positionId: string): string {
  return `${targetKey}|u${userId}|pos|${positionId}`;
}

/**
 * Books the fills of a user's dashboard / API orders on one target that the ledger has not booked yet —
 * a market order seen at once, a limit, stop or bracket fill seen by a later snapshot, or any of them
 * after a restart — exactly once each (`booked_qty` moves in the same transaction as the positions).
 * An order that names a position (a close of one row, a dashboard position's bracket) moves only that
 * position; any other dashboard order moves the user's `webapp` position of its symbol and leg. Then each
 * dashboard position the fills touched gets its bracket brought in step: the old stop-loss / take-profit
 * canceled, new ones for the whole position placed (written here, sent by the dispatcher).
 */
export async function bookFills(db: Kysely<Database>, userId: number, targetKey: string, now: number): Promise<BookingOutcome> {
  return webappLocks.run(`${userId}|${targetKey}`, () =>
    db.transaction().execute(async (trx) => {
      // Another server booking the same target waits here, then reads what this one booked.
      await lockForTransaction(trx, `book:${userId}|${targetKey}`);
      const due = await trx
        .selectFrom('order_intents')
        .selectAll()
        .where('user_id', '=', userId)
        .where('target_key', '=', targetKey)
        .where('action', '=', 'place')
        .where('source', '=', 'webapp')
        .whereRef('filled_qty', '>', 'booked_qty')
        .orderBy('updated_at')
        .orderBy('id')
        .execute();
      const touched = new Set<string>();
      for (const i of due) {
        const qty = i.filled_qty - i.booked_qty;
        if (i.avg_fill_price !== null && qty > EPS) {
          // The new part's own price: what the average says the whole cost, less what was booked before.
          const cost = i.avg_fill_price * i.filled_qty - i.booked_cost;
          const price = cost > 0 ? cost / qty : i.avg_fill_price;
          for (const id of await bookOne(trx, userId, i, qty, price, now)) touched.add(id);
        }
        await markBooked(trx, i);
      }
      // Positions whose bracket the venue dropped (one-way netting cancels a reduce-only order whose side
      // the venue no longer holds) are redrawn too, as are those the fills moved.
      const guarded = await trx
        .selectFrom('positions')
        .select('id')
        .where('user_id', '=', userId)
        .where('target_key', '=', targetKey)
        .where('source', '=', 'webapp')
        .where('status', '=', 'open')
        .where((eb) => eb.or([eb('stop_loss', 'is not', null), eb('take_profit', 'is not', null)]))
        .execute();
      const sync = new Set([...touched, ...guarded.map((g) => g.id)]);
      const written = sync.size > 0 ? await syncBrackets(trx, userId, targetKey, [...sync], now) : [];
      return { written };
    }),
  );
}

/** Books one new fill; returns the positions it moved. */
async function bookOne(trx: Kysely<Database>, userId: number, i: IntentRow, qty: number, price: number, ts: number): Promise<string[]> {
  if (i.position_id !== null) return reducePosition(trx, userId, i, qty, price, ts);
  // A close of what no ledger position explains (an untracked row): nothing of ours moves.
  if (i.role === 'close') return [];
  const leg = (i.position_side as Side | null) ?? null;
  const closingLeg = leg !== null && (leg === 'long') !== (i.side === 'buy');
  return applyWebappFillIn(trx, userId, {
    targetKey: i.target_key,
    symbol: i.symbol,
    side: i.side as OrderSide,
    positionSide: leg,
    qty,
    price,
    reduceOnly: i.reduce_only === 1 || closingLeg,
    stopLoss: i.stop_loss,
    takeProfit: i.take_profit,
    ts,
  });
}

/** Reduces (or closes) the one position an order names — a close of its row, or its bracket — by `qty` at `price`. */
async function reducePosition(trx: Kysely<Database>, userId: number, i: IntentRow, qty: number, price: number, ts: number): Promise<string[]> {
  const row = await trx.selectFrom('positions').selectAll().where('id', '=', i.position_id ?? '').where('user_id', '=', userId).executeTakeFirst();
  if (!row || row.status !== 'open') {
    if (row) await audit(trx, userId, [row.id], 'webapp', 'fill_after_close', { order_id: i.id, role: i.role, side: i.side, qty, price }, ts);
    return [];
  }
  const leg = (row.position_side as Side | null) ?? null;
  const ledger = new Ledger({ mode: leg ? 'hedge' : 'oneway', idPrefix: `x${userId}-` });
  ledger.restore(await inLedgerForm(trx, [row]), 0);
  const { changes } = ledger.apply({
    symbol: row.symbol,
    side: i.side as OrderSide,
    qty: Math.min(qty, row.qty),
    price,
    ts,
    ...(leg ? { positionSide: leg } : {}),
    reduceOnly: true,
    source: row.source as PositionSource,
    strategy: row.strategy,
  });
  const touched = [...new Set(changes.map((c: PositionChange) => c.position))];
  await savePositionChanges(trx, { userId, recorderId: row.recorder_id, targetKey: row.target_key, openedBy: row.opened_by, strategy: row.strategy }, changes, touched, () => price, ts, null);
  const closed = touched.some((p) => p.closedAt !== null);
  if (closed && row.source !== 'webapp') {
    await trx.updateTable('positions').set({ close_reason: i.role === 'close' ? 'closed_from_dashboard' : i.role }).where('id', '=', row.id).execute();
  }
  await audit(trx, userId, [row.id], 'webapp', i.role === 'close' ? 'closed_from_dashboard' : `${i.role}_filled`, { order_id: i.id, target: i.target_key, side: i.side, qty, price, closed }, ts);
  return [row.id];
}

/**
 * Keeps each dashboard position's resting stop-loss / take-profit equal to what it says: for the whole
 * open quantity at its levels, none once it is closed. Brackets that differ are canceled and placed anew
 * (one group per position, so the cancel goes out before the new one). Returns the intents written.
 */
async function syncBrackets(trx: Kysely<Database>, userId: number, targetKey: string, positionIds: readonly string[], now: number): Promise<number[]> {
  const positions = await trx.selectFrom('positions').selectAll().where('id', 'in', [...positionIds]).where('user_id', '=', userId).where('source', '=', 'webapp').execute();
  const exchange = parseTargetKey(targetKey).exchange;
  const written: number[] = [];
  for (const p of positions) {
    const symbol = venueSymbol(p.symbol, exchange);
    const placed = await trx
      .selectFrom('order_intents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('position_id', '=', p.id)
      .where('action', '=', 'place')
      .where('role', 'in', ['stop_loss', 'take_profit'])
      .orderBy('id')
      .execute();
    const resting = placed.filter((b) => ['pending', 'sending', 'open'].includes(b.status));
    const want = p.status === 'open' ? wantedBrackets(p) : [];
    const keep = resting.filter((b) => want.some((w) => w.role === b.role && w.trigger === b.trigger_price && Math.abs(b.qty - p.qty) <= EPS));
    const group = bracketGroup(userId, targetKey, p.id);
    const intents: NewIntent[] = [];
    for (const b of resting) {
      if (keep.includes(b)) continue;
      intents.push({
        ...webappBase(userId, targetKey, group),
        action: 'cancel',
        role: b.role,
        cancels_intent_id: b.id,
        client_id: clientOrderId([userId, targetKey, 'cancel', b.id]),
        symbol: b.symbol,
        side: b.side,
        type: b.type,
        qty: 0,
        price: null,
        trigger_price: null,
        position_side: b.position_side,
        reduce_only: 0,
        position_id: p.id,
      });
    }
    const leg = (p.position_side as Side | null) ?? null;
    const reduceOnly = leg === null && (await venueHoldsStored(trx, userId, targetKey, symbol, p.side as Side, p.qty));
    for (const w of want) {
      if (keep.some((b) => b.role === w.role)) continue;
      // The same bracket refused before would be refused again: it stays refused (and visible) until the position changes.
      const last = placed.filter((b) => b.role === w.role).at(-1);
      if (last && (last.status === 'rejected' || last.status === 'failed') && last.trigger_price === w.trigger && Math.abs(last.qty - p.qty) <= EPS) continue;
      intents.push({
        ...webappBase(userId, targetKey, group),
        action: 'place',
        role: w.role,
        cancels_intent_id: null,
        // The n-th bracket of this role for this position: a new id each time the bracket is redrawn.
        client_id: clientOrderId([userId, targetKey, 'bracket', p.id, w.role, placed.filter((b) => b.role === w.role).length]),
        symbol,
        side: p.side === 'long' ? 'sell' : 'buy',
        type: w.role === 'stop_loss' ? 'stop' : 'take_profit',
        qty: p.qty,
        price: null,
        trigger_price: w.trigger,
        position_side: leg,
        // One-way: reduce-only when the venue holds this side (at least the position); when it nets the
        // position with another one the other way (a signal's), a reduce-only exit would be refused.
        reduce_only: reduceOnly ? 1 : 0,
        position_id: p.id,
      });
    }
    if (intents.length > 0) written.push(...(await insertIntents(trx, intents, now)));
  }
  return written;
}

/** The bracket a dashboard position asks for: a stop at its stop-loss, a take-profit at its take-profit. */
function wantedBrackets(p: PositionRow): { role: 'stop_loss' | 'take_profit'; trigger: number }[] {
  const out: { role: 'stop_loss' | 'take_profit'; trigger: number }[] = [];
  if (p.stop_loss !== null) out.push({ role: 'stop_loss', trigger: p.stop_loss });
  if (p.take_profit !== null) out.push({ role: 'take_profit', trigger: p.take_profit });
  return out;
}

/** The fields every dashboard intent shares. */
export function webappBase(userId: number, targetKey: string, groupKey: string) {
  return { user_id: userId, target_key: targetKey, recorder_id: null, signal_id: null, group_key: groupKey, source: 'webapp', opened_by: 'user' } as const;
}

/**
 * True when the venue's one-way position of `symbol` at its latest stored snapshot (taken after every
 * order) is on `side` with at least `qty`, so a reduce-only order of that size the other way is taken.
 */
export async function venueHoldsStored(db: Kysely<Database>, userId: number, targetKey: string, symbol: string, side: Side, qty: number): Promise<boolean> {
  const rows = await db.selectFrom('venue_positions').select(['side', 'qty']).where('user_id', '=', userId).where('target_key', '=', targetKey).where('symbol', '=', symbol).where('position_side', 'is', null).execute();
  let signed = 0;
  for (const r of rows) signed += sideSign(r.side as Side) * r.qty;
  return sideSign(side) * signed >= qty - 1e-9;
}
