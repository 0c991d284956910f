import { averageEntry, type Position } from '../core/ledger.ts';
import type { Portfolio } from '../core/portfolio.ts';
import type { ExitReason, RejectionRecord, TradeRecord } from '../core/results.ts';
import { floorQty, roundPrice } from '../core/round.ts';
import type { Signal } from '../core/signals.ts';
import { openingOrderSide, type OrderSide, type PositionMode, type Side } from '../core/types.ts';
import type { PositionChange } from '../core/ledger.ts';
import { ExitPlans, type ExitSpec } from './exits.ts';
import { RestingOrders, type EntrySignal } from './resting.ts';

/** An open signal. */
type OpenSignal = Extract<Signal, { kind: 'open' }>;

/** Costs and instrument rules of execution. Fees and slippage in basis points. */
export interface ExecutionCosts {
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
  readonly slippageBps: number;
  /** Price tick (quote) and lot (base units). */
  readonly tick: number;
  readonly lot: number;
}

/**
 * One fill the executor decided on: what to trade and at which price. `reference` is the market price
 * before slippage, `price` the price the backtest fills at. `opens` is the side an entry opens (with its
 * levels), null for exits; `position` the position an exit closes.
 */
export interface FillPlan {
  readonly side: OrderSide;
  /** Base units. */
  readonly qty: number;
  readonly positionSide: Side | null;
  readonly reduceOnly: boolean;
  readonly reference: number;
  readonly price: number;
  /** Maker fee (a resting limit) rather than taker. */
  readonly maker: boolean;
  /** Exit reason of any position this fill closes. */
  readonly reason: ExitReason;
  readonly position: Position | null;
  readonly opens: Side | null;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  /** A take-profit ladder or trailing stop the entry brings (entries only). */
  readonly exits?: ExitSpec;
}

/** Turns signals and level hits into fills on a portfolio, and records trades and refusals. */
export class Executor {
  readonly trades: TradeRecord[] = [];
  readonly rejections: RejectionRecord[] = [];
  liquidations = 0;
  /** Resting entries placed by signals. */
  readonly resting: RestingOrders;
  /** Ladders, trailing stops and partial exits of open positions. */
  readonly exits: ExitPlans;
  /**
   * Set once the run places a resting entry or an exit plan exists: from then on the backtest runs the
   * bar's resting entries and trailing stops (a run that never does pays nothing for them per candle).
   */
  extras = false;

  constructor(
    private readonly book: Portfolio,
    private readonly costs: ExecutionCosts,
    private readonly symbol: string,
    private readonly mode: PositionMode,
    private readonly strategy: string,
  ) {
    this.resting = new RestingOrders(costs.tick);
    this.exits = new ExitPlans(costs.tick, costs.lot);
  }

  /** Price after adverse slippage for a market or stop fill, rounded to the tick. */
  slipped(price: number, side: OrderSide): number {
    const s = this.costs.slippageBps / 10_000;
    return roundPrice(side === 'buy' ? price * (1 + s) : price * (1 - s), this.costs.tick);
  }

  private fee(qty: number, price: number, maker: boolean): number {
    return (qty * price * (maker ? this.costs.makerFeeBps : this.costs.takerFeeBps)) / 10_000;
  }

  /** Fee of a fill (quote): qty × price × the maker or taker rate. */
  feeOf(qty: number, price: number, maker: boolean): number {
    return this.fee(qty, price, maker);
  }

  /** Executes a strategy signal as a market order at `price` (before slippage) at time `ts`. */
  execute(sig: Signal, price: number, ts: number): void {
    for (const plan of this.plan(sig, price, ts)) this.apply(plan, plan.price, this.fee(plan.qty, plan.price, plan.maker), plan.qty, ts);
  }

  /**
   * What a signal asks for at market price `price`: the fills to make (none when refused; the refusal is
   * recorded). The backtest applies each at once; the paper runtime sends each to its venue first. A
   * resting entry is placed and a cancel cancels, both without a fill.
   */
  plan(sig: Signal, price: number, ts: number): FillPlan[] {
    if (sig.kind === 'close') return this.planClose(sig.positionId, sig.positionSide, price, ts);
    if (sig.kind === 'reduce') return this.planReduce(sig.side, sig.fraction, sig.qty, price, ts);
    if (sig.kind === 'cancel') {
      if (this.resting.cancel(sig.orderId, ts) === 0) this.reject(ts, null, 'no_order', sig.orderId === null ? 'cancel() with no resting order' : `no resting order ${sig.orderId}`);
      return [];
    }
    if (sig.entry !== null) {
      this.place(sig as EntrySignal, price, ts);
      return [];
    }
    return this.planOpen(sig, price, ts, false, true);
  }

  /** The leg an open acts on, or a refusal (recorded) as a string. */
  private legOf(sig: OpenSignal, ts: number): Side | null | FillPlan[] {
    const leg: Side | null = this.mode === 'hedge' ? (sig.positionSide ?? sig.side) : null;
    if (this.mode === 'oneway' && sig.positionSide) return this.reject(ts, sig.side, 'hedge_mode_required', 'positionSide needs positionMode = "hedge" in the strategy');
    if (leg !== null && leg !== sig.side) return this.reject(ts, sig.side, 'hedge_mode_required', `open${sig.side === 'long' ? 'Long' : 'Short'} cannot act on the ${leg} leg; use close() to reduce a leg`);
    return leg;
  }

  /** A refusal (recorded) when `sig`'s levels are on the wrong side of `entry`, else null. */
  private badLevels(sig: OpenSignal, entry: number, ts: number): FillPlan[] | null {
    const long = sig.side === 'long';
    if (sig.stopLoss !== null && (long ? sig.stopLoss >= entry : sig.stopLoss <= entry)) {
      return this.reject(ts, sig.side, 'invalid_levels', `stop-loss ${sig.stopLoss} is on the wrong side of the entry ${entry}`);
    }
    const tp = sig.takeProfit;
    if (tp !== null && (long ? tp <= entry : tp >= entry)) return this.reject(ts, sig.side, 'invalid_levels', `take-profit ${tp} is on the wrong side of the entry ${entry}`);
    for (const t of sig.targets ?? []) {
      if (long ? t.price <= entry : t.price >= entry) return this.reject(ts, sig.side, 'invalid_levels', `take-profit ${t.price} is on the wrong side of the entry ${entry}`);
    }
    const act = sig.trailing?.activation ?? null;
    if (act !== null && (long ? act <= entry : act >= entry)) return this.reject(ts, sig.side, 'invalid_levels', `trailing stop activation ${act} is on the wrong side of the entry ${entry}`);
    return null;
  }

  /** Places a resting entry at market price `price` (refusals recorded). */
  private place(sig: EntrySignal, price: number, ts: number): void {
    if (Array.isArray(this.legOf(sig, ts))) return;
    if (this.badLevels(sig, roundPrice(sig.entry.price, this.costs.tick), ts) !== null) return;
    const placed = this.resting.place(sig, price, ts);
    if (typeof placed === 'string') this.reject(ts, sig.side, 'invalid_levels', placed);
    else this.extras = true;
  }

  /**
   * The fill of an open at market price `price`: slipped against the trader when `slip` (market and stop
   * entries), at `price` itself otherwise (a limit); the maker fee when `maker`.
   */
  planOpen(sig: OpenSignal, price: number, ts: number, maker: boolean, slip: boolean): FillPlan[] {
    const leg = this.legOf(sig, ts);
    if (Array.isArray(leg)) return leg;
    const side = openingOrderSide(sig.side);
    const fillPrice = slip ? this.slipped(price, side) : price;
    const bad = this.badLevels(sig, fillPrice, ts);
    if (bad !== null) return bad;
    const lev = this.book.leverage;
    const equity = this.book.equity(price);
    const qty = 'qty' in sig.size ? floorQty(sig.size.qty, this.costs.lot) : floorQty(((equity * sig.size.percent) / 100) * lev / fillPrice, this.costs.lot);
    if (!(qty > 0)) return this.reject(ts, sig.side, 'zero_quantity', `size ${JSON.stringify(sig.size)} is below one lot (${this.costs.lot}) at ${fillPrice}`);
    // One-way: an opposite position is closed first (one fill: its quantity plus the new one).
    const opposite = this.mode === 'oneway' ? this.book.ledger.find(this.symbol) : undefined;
    const flipQty = opposite && opposite.side !== sig.side ? opposite.qty : 0;
    const fee = this.fee(qty + flipQty, fillPrice, maker);
    // Margin available after the flip's closing part: that position's margin comes back and its
    // unrealized PnL (marked at `price`) turns into PnL realized at the slipped fill price.
    let available = equity - this.book.usedMargin();
    if (flipQty > 0 && opposite) {
      const dir = opposite.side === 'long' ? 1 : -1;
      available += (opposite.qty * opposite.entryPrice) / lev + (fillPrice - price) * opposite.qty * dir;
    }
    const need = (qty * fillPrice) / lev + fee;
    if (need > available) {
      // Refused for margin; a flip's closing part is not executed either (the order is one order).
      return this.reject(ts, sig.side, 'insufficient_margin', `needs ${need.toFixed(2)} margin + fee, ${available.toFixed(2)} available`);
    }
    const tick = this.costs.tick;
    const stopLoss = sig.stopLoss !== null ? roundPrice(sig.stopLoss, tick) : null;
    const takeProfit = sig.takeProfit !== null ? roundPrice(sig.takeProfit, tick) : null;
    const plan: FillPlan = { side, qty: qty + flipQty, positionSide: leg, reduceOnly: false, reference: price, price: fillPrice, maker, reason: 'flip', position: null, opens: sig.side, stopLoss, takeProfit };
    if (sig.targets === null && sig.trailing === null) return [plan];
    const targets = sig.targets?.map((t) => ({ price: roundPrice(t.price, tick), fraction: t.fraction })) ?? null;
    return [{ ...plan, exits: { targets, trailing: sig.trailing } }];
  }

  /** A reduce signal: part of the open position (hedge: of leg `side`) at market; all of it closes it. */
  private planReduce(side: Side | null, fraction: number | null, qty: number | null, price: number, ts: number): FillPlan[] {
    const open = this.book.positions.filter((p) => p.symbol === this.symbol && (side === null || p.side === side));
    const p = open[0];
    if (p === undefined) return this.reject(ts, side, 'no_position', side === null ? 'reduce() with no open position' : `reduce() with no open ${side} position`);
    if (open.length > 1) return this.reject(ts, null, 'hedge_mode_required', 'reduce() in hedge mode needs the leg: reduce({ side, ... })');
    const q = floorQty(fraction !== null ? p.qty * fraction : (qty as number), this.costs.lot);
    if (fraction === 1 || q >= p.qty) return [this.exitPlan(p, price, 'signal', false, true)];
    if (!(q > 0)) return this.reject(ts, p.side, 'zero_quantity', `reduce of ${fraction !== null ? `${fraction} of ${p.qty}` : qty} is below one lot (${this.costs.lot})`);
    return [this.exitPlan(p, price, 'signal', false, true, q)];
  }

  private planClose(id: string | null, leg: Side | null, price: number, ts: number): FillPlan[] {
    const targets = this.book.positions.filter((p) => p.symbol === this.symbol && (id === null || p.id === id) && (leg === null || p.side === leg));
    if (targets.length === 0) return this.reject(ts, leg, 'no_position', id ? `no open position ${id}` : 'close() with no open position');
    return targets.map((p) => this.exitPlan(p, price, 'signal', false, true));
  }

  /**
   * The fill that closes a whole position for `reason`, at market price `reference`: slipped against the
   * trader when `slip` (market and stop fills), at the reference itself otherwise (take-profit limits and
   * liquidations).
   */
  exitPlan(p: Position, reference: number, reason: ExitReason, maker: boolean, slip: boolean, qty = p.qty): FillPlan {
    const side: OrderSide = p.side === 'long' ? 'sell' : 'buy';
    const price = slip ? this.slipped(reference, side) : reference;
    return { side, qty, positionSide: p.positionSide, reduceOnly: true, reference, price, maker, reason, position: p, opens: null, stopLoss: null, takeProfit: null };
  }

  /**
   * Books a plan's fill of `qty` at `price` with `fee` (quote) at `ts`: the backtest passes the plan's own
   * price and fee, the paper runtime what its venue reported.
   */
  apply(plan: FillPlan, price: number, fee: number, qty: number, ts: number): readonly PositionChange[] {
    if (!(qty > 0)) return [];
    const r = this.book.fill({
      symbol: this.symbol,
      side: plan.side,
      qty,
      price,
      ts,
      fee,
      positionSide: plan.positionSide ?? undefined,
      ...(plan.reduceOnly ? { reduceOnly: true } : { strategy: this.strategy }),
    });
    if (plan.reason === 'liquidation') this.liquidations++;
    this.record(r.changes, plan.reason, ts);
    if (plan.opens !== null) {
      const pos = plan.positionSide ? this.book.ledger.find(this.symbol, plan.positionSide) : this.book.ledger.find(this.symbol);
      if (pos) {
        if (plan.stopLoss !== null) pos.stopLoss = plan.stopLoss;
        if (plan.takeProfit !== null) pos.takeProfit = plan.takeProfit;
        if (plan.exits !== undefined) {
          this.exits.attach(pos, plan.exits, price);
          this.extras = true;
        }
      }
    }
    return r.changes;
  }

  /** Closes a whole position at `price` (already slipped where it applies) for `reason`. */
  exit(p: Position, price: number, ts: number, reason: ExitReason, maker: boolean): void {
    const plan = this.exitPlan(p, price, reason, maker, false);
    this.apply(plan, price, this.fee(plan.qty, price, maker), plan.qty, ts);
  }

  /** Records closed trades (with every exit, when the position left in parts) and partial exits. */
  private record(changes: readonly PositionChange[], reason: ExitReason, ts: number): void {
    for (const ch of changes) {
      if (ch.kind === 'closed') {
        const parts = this.exits.closed(ch.position);
        const trade = toTrade(ch.position, reason);
        this.trades.push(parts === undefined ? trade : { ...trade, exits: [...parts, { ts, price: ch.price, qty: ch.qty, reason }] });
      } else if (ch.kind === 'reduced') {
        this.exits.partial(ch.position, { ts, price: ch.price, qty: ch.qty, reason });
        this.extras = true;
      }
    }
  }

  private reject(ts: number, side: Side | null, reason: RejectionRecord['reason'], detail: string): FillPlan[] {
    this.rejections.push({ ts, symbol: this.symbol, side, reason, detail });
    return [];
  }

  /** Records a refusal that came from outside the executor (the paper runtime's venue). */
  rejectExternal(ts: number, side: Side | null, detail: string): void {
    this.rejections.push({ ts, symbol: this.symbol, side, reason: 'venue_rejected', detail });
  }
}

/** A closed position as a trade record. */
export function toTrade(p: Position, reason: ExitReason): TradeRecord {
  const pnl = p.realizedPnl - p.fees + p.funding;
  const notional = p.maxQty * p.entries[0]!.price;
  return {
    id: p.id,
    symbol: p.symbol,
    side: p.side,
    positionSide: p.positionSide,
    qty: p.maxQty,
    entryPrice: averageEntry(p),
    exitPrice: p.avgExitPrice ?? p.exitPrice ?? Number.NaN,
    entryTime: p.openedAt,
    exitTime: p.closedAt ?? p.openedAt,
    grossPnl: p.realizedPnl,
    fees: p.fees,
    funding: p.funding,
    pnl,
    pnlPercent: notional > 0 ? (pnl / notional) * 100 : 0,
    maxAdverse: p.maxAdverse,
    exitReason: reason,
    entries: p.entries.length,
  };
}

