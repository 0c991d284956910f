import { denoise } from '../core/round.ts';
import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { sideSign, type OrderSide, type Side } from '../core/types.ts';
import { clientOrderId } from '../exchange/client-id.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey, type Target } from '../exchange/targets.ts';
import { userIntent, type IntentRow } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import type { PositionRow } from '../store/positions.ts';
import type { OrderDispatcher } from './dispatcher.ts';
import { venueHoldsStored } from './fill-booking.ts';
import type { SignalIntake } from './intake.ts';
import type { ManualOrder, ManualOrders } from './manual-orders.ts';
import type { MarkBook } from './marks.ts';
import type { VenueRegistry } from './venue-registry.ts';
import { attributedOn } from './attributed.ts';

const EPS = 1e-9;

/** What to close on a target: one ledger position by id, or what the venue holds of a symbol that no ledger position explains. */
export type CloseRequest = { readonly positionId: string } | { readonly symbol: string; readonly positionSide?: Side };

/**
 * Closes exactly the row a user chose on a target's terminal — its quantity, its leg — and books the fill
 * against that position, so the venue keeps holding what the ledger says everyone else holds:
 * - a **signal** position is the recorder's: it closes with a CLOSE signal of its ticker and leg (stored in
 *   the signal log, `dashboard` format), which sends the exit to every target the recorder is linked to;
 * - a **dashboard**, **engine** or **adopted** position closes with a market order of its size the other
 *   way that names it; the fill reduces that position only (reduce-only unless the venue nets it with a
 *   position the other way); an engine's position in its own simulated exchange is the engine's to close;
 * - without a position id, the part of the venue's position that no ledger position explains (an
 *   untracked row) closes; a symbol the ledger fully explains is refused with the positions to close.
 */
export class PositionCloser {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly orders: ManualOrders,
    private readonly intake: SignalIntake,
    private readonly dispatcher: OrderDispatcher,
    private readonly venues: VenueRegistry,
    private readonly marks: MarkBook,
    private readonly clock: Clock,
  ) {}

  /** Closes what `req` names on `targetKey` for `userId`; answers the close's order on that target. */
  async close(userId: number, targetKey: string, req: CloseRequest): Promise<IntentRow> {
    const target = parseTargetKey(targetKey);
    if ('positionId' in req) return this.closePosition(userId, target, req.positionId);
    return this.closeUntracked(userId, target, req.symbol, req.positionSide);
  }

  private async closePosition(userId: number, target: Target, positionId: string): Promise<IntentRow> {
    const row = await this.db.selectFrom('positions').selectAll().where('id', '=', positionId).where('user_id', '=', userId).executeTakeFirst();
    const links = row?.recorder_id != null ? await this.db.selectFrom('recorder_targets').select(['target_key', 'multiplier']).where('recorder_id', '=', row.recorder_id).execute() : [];
    const onTarget = row !== undefined && (row.target_key === target.key || (row.target_key === null && links.some((l) => l.target_key === target.key)));
    if (!row || !onTarget) throw new HalyardError('not_found', `no position ${positionId} on ${target.key}`);
    if (row.status !== 'open') throw new HalyardError('conflict', `position ${positionId} is ${row.status} already: nothing to close`);
    if (row.source === 'signal') return this.closeSignalPosition(userId, target, row);
    if (row.source === 'engine' && target.exchange === 'sim') {
      throw new HalyardError('invalid_input', `position ${positionId} is in its engine's own simulated exchange: only the engine closes it`);
    }
    const symbol = venueSymbol(row.symbol, target.exchange);
    const side: OrderSide = row.side === 'long' ? 'sell' : 'buy';
    const leg = (row.position_side as Side | null) ?? null;
    await this.dispatcher.settle(userId, target.key); // the venue's positions as of now, for the reduce-only choice
    const reduceOnly = leg === null && (await venueHoldsStored(this.db, userId, target.key, symbol, row.side as Side, row.qty));
    const o: ManualOrder = { targetKey: target.key, symbol, side, type: 'market', qty: row.qty, ...(leg ? { positionSide: leg } : reduceOnly ? { reduceOnly: true } : {}) };
    const clientId = clientOrderId([userId, target.key, 'close', positionId, this.clock.now()]);
    const intent = await this.orders.placeIntent(userId, { role: 'close', clientId, targetKey: target.key, symbol, side, type: 'market', qty: row.qty, o, positionId });
    await this.dispatcher.settle(userId, target.key);
    return userIntent(this.db, userId, intent.id);
  }

  /** A CLOSE signal of the recorder's ticker and leg, at the server's latest price; answers this target's exit order. */
  private async closeSignalPosition(userId: number, target: Target, row: PositionRow): Promise<IntentRow> {
    const leg = (row.position_side as Side | null) ?? null;
    const price = this.marks.get(userId, row.symbol)?.price ?? row.last_price ?? null;
    const answer = await this.intake.closeFromDashboard(userId, row.recorder_id ?? 0, row.symbol, leg, price);
    if (answer.status !== 'accepted') throw new HalyardError('conflict', answer.status === 'rejected' ? `the close was refused: ${answer.reason}` : `the close was already sent as signal ${answer.duplicate_of}`);
    await this.dispatcher.runTarget(userId, target.key);
    await this.dispatcher.settle(userId, target.key);
    const exitOf = () => this.db
      .selectFrom('order_intents')
      .selectAll()
      .where('user_id', '=', userId)
      .where('signal_id', '=', answer.signal_id)
      .where('target_key', '=', target.key)
      .where('action', '=', 'place')
      .where('role', 'in', ['exit', 'entry'])
      .orderBy('id')
      .executeTakeFirst();
    let exit = await exitOf();
    // A pass already under way may be sending it: wait for its answer (briefly) rather than show it mid-flight.
    for (let i = 0; i < 100 && exit && (exit.status === 'sending' || (exit.status === 'pending' && exit.attempts === 0)); i += 1) {
      await new Promise((r) => setTimeout(r, 20));
      exit = await exitOf();
    }
    if (!exit) throw new HalyardError('conflict', `position ${row.id} closed in the signal log (signal ${answer.signal_id}), but ${target.key} got no exit order: its size there rounds to nothing`);
    return exit;
  }

  /** Closes the part of the venue's position of `ticker` (and leg) that no ledger position explains. */
  private async closeUntracked(userId: number, target: Target, ticker: string, positionSide: Side | undefined): Promise<IntentRow> {
    const symbol = venueSymbol(ticker, target.exchange);
    const venue = await this.venues.get(userId, target.key);
    const held = (await venue.fetchPositions([symbol])).filter((p) => p.symbol === symbol && (!positionSide || p.positionSide === positionSide));
    const [p, other] = held;
    if (!p) throw new HalyardError('not_found', `no open ${symbol}${positionSide ? ` ${positionSide}` : ''} position on ${target.key}`);
    if (other) throw new HalyardError('invalid_input', `${symbol} has a long and a short leg on ${target.key}: say position_side`);
    const leg = p.positionSide;
    const { net: ours, ids: explaining } = await attributedOn(this.db, userId, target.key, symbol, leg);
    const venueSigned = sideSign(p.side) * p.qty;
    const extra = venueSigned - ours;
    // Only what the venue holds beyond the ledger, on the venue's own side, is untracked.
    if (!(Math.abs(extra) > EPS) || Math.sign(extra) !== Math.sign(venueSigned)) {
      throw new HalyardError('conflict', `${symbol} on ${target.key} is what the ledger holds (${explaining.join(', ')}): close those positions by position_id`);
    }
    const qty = denoise(Math.min(Math.abs(extra), p.qty));
    const side: OrderSide = p.side === 'long' ? 'sell' : 'buy';
    const o: ManualOrder = { targetKey: target.key, symbol, side, type: 'market', qty, ...(leg ? { positionSide: leg } : { reduceOnly: true }) };
    const clientId = clientOrderId([userId, target.key, 'close', symbol, p.side, this.clock.now()]);
    const intent = await this.orders.placeIntent(userId, { role: 'close', clientId, targetKey: target.key, symbol, side, type: 'market', qty, o });
    await this.dispatcher.settle(userId, target.key);
    return userIntent(this.db, userId, intent.id);
  }
}
