import type { Kysely } from 'kysely';
import { errorMessage, isHalyardError } from '../core/errors.ts';
import type { Side } from '../core/types.ts';
import { markBooked } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import type { DispatchLog } from './intent-worker.ts';

/** A signal position's stop-loss or take-profit that filled at a venue, to be booked in its recorder. */
export interface SignalBracketFill {
  readonly userId: number;
  readonly recorderId: number;
  readonly ticker: string;
  readonly positionSide: Side | null;
  /** Average fill price (quote). */
  readonly price: number;
  readonly targetKey: string;
  readonly intentId: number;
  readonly role: string;
  /** What it filled, signed (+ bought, − sold; base units): a reduce-only stop the venue capped fills less than its size. */
  readonly signedQty: number;
}

/**
 * Hands each signal bracket (stop-loss / take-profit) that filled on a target and is not booked yet to
 * `book`, then marks it booked; the intake deduplicates by the order, so a crash between the two books it
 * once. Returns how many it booked.
 */
export async function bookSignalBrackets(db: Kysely<Database>, userId: number, targetKey: string, book: (f: SignalBracketFill) => Promise<void>, log?: DispatchLog): Promise<number> {
  const rows = await db
    .selectFrom('order_intents as i')
    .innerJoin('signals as s', 's.id', 'i.signal_id')
    .selectAll('i')
    .select('s.ticker as ticker')
    .where('i.user_id', '=', userId)
    .where('i.target_key', '=', targetKey)
    .where('i.source', '=', 'signal')
    .where('i.action', '=', 'place')
    .where('i.role', 'in', ['stop_loss', 'take_profit'])
    // Filled, or done with part of it filled (a reduce-only stop the venue capped, then canceled).
    .where('i.status', 'in', ['filled', 'canceled'])
    .whereRef('i.filled_qty', '>', 'i.booked_qty')
    .orderBy('i.updated_at')
    .orderBy('i.id')
    .execute();
  let n = 0;
  for (const i of rows) {
    if (i.recorder_id === null || i.avg_fill_price === null) continue;
    try {
      const signedQty = (i.side === 'buy' ? 1 : -1) * i.filled_qty;
      await book({ userId, recorderId: i.recorder_id, ticker: i.ticker, positionSide: (i.position_side as Side | null) ?? null, price: i.avg_fill_price, targetKey, intentId: i.id, role: i.role, signedQty });
    } catch (e) {
      // A deleted recorder has nothing left to close; anything else is tried again at the next settle.
      if (!isHalyardError(e, 'not_found')) {
        log?.warn({ intent: i.id, target: targetKey, err: errorMessage(e) }, 'booking a signal bracket fill failed');
        continue;
      }
    }
    await markBooked(db, i);
    n += 1;
  }
  return n;
}
