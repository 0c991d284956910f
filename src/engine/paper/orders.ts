import type { Kysely } from 'kysely';
import { HalyardError, errorMessage } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { Venue, VenueOrder, VenueOrderRequest } from '../../core/venue.ts';
import { clientOrderId } from '../../exchange/client-id.ts';
import { isTransient } from '../../exchange/retry.ts';
import { recordSending } from '../../store/paper-runs.ts';
import type { Database, RunOrdersTable } from '../../store/schema.ts';
import type { FillPlan } from '../execution.ts';

/** Tells an in-process venue (the simulated exchange) what the market price is; real venues know it. */
export interface MarketDriver {
  setPrice(symbol: string, price: number): Promise<void>;
}

/** What became of one plan at the venue. */
export type PlanOutcome =
  | { readonly kind: 'filled'; readonly qty: number; readonly price: number; readonly fee: number | null; readonly row: RunOrdersTable }
  | { readonly kind: 'rejected'; readonly reason: string; readonly row: RunOrdersTable };

/** How the paper runtime's orders reach its venue. */
export interface PaperOrdersOptions {
  readonly db: Kysely<Database>;
  readonly runId: string;
  readonly symbol: string;
  readonly venue: Venue;
  /** Present for the simulated exchange: fills happen at the prices the runtime gives it. */
  readonly market: MarketDriver | null;
  readonly clock: Clock;
  /** Called when an order failed for a reason worth retrying and is tried once more. */
  readonly onRetry?: (error: unknown) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The paper executor: sends the kernel's fill plans to the venue as orders with deterministic client ids
 * (run × candle × sequence), so a candle processed again after a crash finds its orders instead of
 * placing them twice. Market orders for entries, signal exits and stops; for the simulated exchange,
 * take-profits, liquidations and resting limit entries are limit orders at their level, so the venue
 * books them like the backtest does (a resting take-profit or limit entry pays the maker fee without
 * slippage). On a real venue the run watches its resting entries itself and sends a market order when a
 * candle reaches one, as it does for stop-losses and take-profits.
 */
export class PaperOrders {
  constructor(private readonly o: PaperOrdersOptions) {}

  /** Sends `plan` (the `seq`-th order of the candle opened at `candleTs`) and waits for its outcome. */
  async send(plan: FillPlan, candleTs: number, seq: number): Promise<PlanOutcome> {
    const { market, symbol } = this.o;
    const clientId = clientOrderId([this.o.runId, candleTs, seq]);
    const asLimit = market !== null && ((plan.reduceOnly && (plan.reason === 'take_profit' || plan.reason === 'liquidation')) || (plan.opens !== null && plan.maker));
    const req: VenueOrderRequest = {
      clientId,
      symbol,
      side: plan.side,
      type: asLimit ? 'limit' : 'market',
      qty: plan.qty,
      ...(asLimit ? { price: plan.reference } : {}),
      ...(plan.positionSide ? { positionSide: plan.positionSide } : {}),
      ...(plan.reduceOnly ? { reduceOnly: true } : {}),
    };
    const now = this.o.clock.now();
    const row: RunOrdersTable = {
      run_id: this.o.runId,
      client_id: clientId,
      candle_ts: candleTs,
      seq,
      symbol,
      side: plan.side,
      type: req.type,
      qty: plan.qty,
      position_side: plan.positionSide,
      reduce_only: plan.reduceOnly ? 1 : 0,
      reason: plan.opens !== null ? 'entry' : plan.reason,
      reference: plan.reference,
      limit_price: asLimit ? plan.reference : null,
      maker: asLimit && plan.maker ? 1 : 0,
      status: 'sending',
      filled_qty: 0,
      fill_price: null,
      fee: null,
      venue_order_id: null,
      error: null,
      raw: null,
      created_at: now,
      updated_at: now,
    };
    // A real venue: `sending` is committed before the request leaves, and an order a crashed run already
    // placed is found by its client id instead of being placed again.
    if (market === null) await recordSending(this.o.db, row);
    try {
      const order = await this.place(req, plan, asLimit);
      return this.outcome(order, row);
    } catch (e) {
      if (e instanceof HalyardError && (e.code === 'venue_rejected' || e.code === 'invalid_input')) {
        return { kind: 'rejected', reason: e.message, row: { ...row, status: 'rejected', error: e.message, updated_at: this.o.clock.now() } };
      }
      throw e;
    }
  }

  private async place(req: VenueOrderRequest, plan: FillPlan, asLimit: boolean): Promise<VenueOrder> {
    const { venue, market } = this.o;
    if (market !== null) {
      // A resting take-profit is in the book before the price reaches it (maker); anything else trades
      // against the price of the moment.
      if (asLimit && plan.maker) {
        // A limit entry rests on the side the market comes from (the engine saw it rest there).
        if (plan.opens !== null) await market.setPrice(req.symbol, restingSide(req.side, plan.reference));
        const order = await venue.createOrder(req);
        await market.setPrice(req.symbol, plan.reference);
        return (await venue.fetchOrderByClientId(req.clientId, req.symbol)) ?? order;
      }
      await market.setPrice(req.symbol, plan.reference);
      return venue.createOrder(req);
    }
    const earlier = await venue.fetchOrderByClientId(req.clientId, req.symbol);
    if (earlier) return this.settle(earlier);
    try {
      return await this.settle(await venue.createOrder(req));
    } catch (e) {
      // Recoverable: the venue stayed unreachable through its own retries. Look the order up and try once more.
      if (!isTransient(e)) throw e;
      this.o.onRetry?.(e);
      const found = await venue.fetchOrderByClientId(req.clientId, req.symbol).catch(() => null);
      if (found) return this.settle(found);
      return this.settle(await venue.createOrder(req));
    }
  }

  /** Waits (briefly) for a market order the venue accepted to report its fill. */
  private async settle(order: VenueOrder): Promise<VenueOrder> {
    let o = order;
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let k = 0; k < 10 && o.status !== 'filled' && o.status !== 'canceled' && o.status !== 'rejected' && o.status !== 'expired'; k++) {
      await sleep(200 * (k + 1));
      o = (await this.o.venue.fetchOrderByClientId(o.clientId ?? '', o.symbol)) ?? o;
    }
    return o;
  }

  private outcome(order: VenueOrder, row: RunOrdersTable): PlanOutcome {
    const now = this.o.clock.now();
    const base = { ...row, venue_order_id: order.id, raw: safeJson(order.raw), updated_at: now };
    if (order.filledQty > 0 && order.avgFillPrice !== null) {
      const filled = { ...base, status: order.status === 'filled' ? 'filled' : 'partial', filled_qty: order.filledQty, fill_price: order.avgFillPrice, fee: order.fee };
      return { kind: 'filled', qty: order.filledQty, price: order.avgFillPrice, fee: order.fee, row: filled };
    }
    const reason = `the venue reported ${order.status} with nothing filled`;
    return { kind: 'rejected', reason, row: { ...base, status: 'rejected', error: reason } };
  }
}

function safeJson(v: unknown): string | null {
  try {
    return v === undefined ? null : JSON.stringify(v);
  } catch (e) {
    return JSON.stringify({ unserializable: errorMessage(e) });
  }
}

/**
 * A price just on the side a resting limit waits from (above a buy, below a sell, by a billionth), so the
 * simulated exchange rests the order before the market reaches its price and books a maker fill.
 */
export function restingSide(side: 'buy' | 'sell', price: number): number {
  return side === 'buy' ? price * (1 + 1e-9) : price * (1 - 1e-9);
}
