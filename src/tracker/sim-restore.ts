import type { Kysely } from 'kysely';
import type { Side } from '../core/types.ts';
import type { SimVenue } from '../exchange/sim/index.ts';
import { targetIntents, venueRequestOf } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';

/**
 * Puts a user's simulated-exchange account back after a restart: the recorded fills are replayed in the
 * order they happened (each at its own price), then the orders that still rested are placed again. The
 * sim keeps no state of its own; the order intents are its log.
 */
export async function restoreSimVenue(db: Kysely<Database>, userId: number, targetKey: string, venue: SimVenue): Promise<void> {
  for (const i of await targetIntents(db, userId, targetKey, ['filled'])) {
    if (!(i.filled_qty > 0) || i.avg_fill_price === null) continue;
    const hedge = i.position_side !== null;
    if (venue.positionMode() !== (hedge ? 'hedge' : 'oneway')) await venue.setPositionMode(hedge ? 'hedge' : 'oneway');
    await venue.setPrice(i.symbol, i.avg_fill_price);
    await venue.createOrder({
      clientId: i.client_id,
      symbol: i.symbol,
      side: i.side === 'sell' ? 'sell' : 'buy',
      type: 'market',
      qty: i.filled_qty,
      ...(hedge ? { positionSide: i.position_side as Side } : {}),
      ...(i.reduce_only === 1 ? { reduceOnly: true } : {}),
    });
  }
  for (const i of await targetIntents(db, userId, targetKey, ['open'])) {
    await venue
      .createOrder(venueRequestOf(i))
      .catch(() => undefined); // refused now (its position is gone): the next snapshot records it as gone
  }
}
