import { HalyardError } from '../../core/errors.ts';
import { Ledger, unrealizedPnl, type Position } from '../../core/ledger.ts';
import type { Clock } from '../../core/ports.ts';
import { floorQty, roundPrice } from '../../core/round.ts';
import { sideOfOrder, type OrderSide, type PositionMode, type Side } from '../../core/types.ts';
import type { Venue, VenueBalance, VenueOrder, VenueOrderRequest, VenuePosition } from '../../core/venue.ts';
import { executionPrice, immediateTrigger, isResting, move, toVenueOrder, type SimOrder } from './book.ts';
import { DEFAULT_SIM_INSTRUMENTS, instrumentOf, type SimInstrument } from './instruments.ts';

/** Settings of a simulated exchange account. */
export interface SimVenueOptions {
  readonly clock: Clock;
  /** Target key reported by the venue (default `sim:paper`). */
  readonly target?: string;
  /** Starting wallet balance (quote, default 10,000). */
  readonly balance?: number;
  /** Settlement currency (default USDT). */
  readonly currency?: string;
  /** Maker fee in basis points (resting limits; default 2). */
  readonly makerFeeBps?: number;
  /** Taker fee in basis points (market and triggered orders; default 5). */
  readonly takerFeeBps?: number;
  /** Slippage of market and triggered fills in basis points (default 0). */
  readonly slippageBps?: number;
  /** Leverage used for the margin check (default 10). */
  readonly leverage?: number;
  readonly mode?: PositionMode;
  readonly instruments?: Readonly<Record<string, SimInstrument>>;
}

/**
 * The simulated exchange: market, limit, stop and take-profit orders, reduce-only, one-way and hedge modes
 * (the core ledger does the position math), fees, a wallet and a margin check, filling from the prices it
 * is given with `setPrice`. Reduce-only orders of a leg that goes flat are canceled, so a bracket's other
 * side never opens a new position (one-cancels-other).
 */
export class SimVenue implements Venue {
  readonly target: string;
  readonly supportsHedge = true;
  private readonly clock: Clock;
  private readonly currency: string;
  /** Fees in basis points. */
  private readonly makerFee: number;
  private readonly takerFee: number;
  private readonly slippage: number;
  private readonly leverage: number;
  private readonly instruments: Readonly<Record<string, SimInstrument>>;
  private ledger: Ledger;
  private generation = 0;
  private orderSeq = 0;
  private readonly orders = new Map<string, SimOrder>();
  /** The orders resting in the book (a subset of `orders`), so price updates never walk the history. */
  private readonly resting = new Map<string, SimOrder>();
  private readonly byClientId = new Map<string, SimOrder>();
  private readonly marks = new Map<string, number>();
  /** Wallet balance: deposit + realized PnL − fees (quote). */
  private wallet: number;

  constructor(options: SimVenueOptions) {
    this.clock = options.clock;
    this.target = options.target ?? 'sim:paper';
    this.currency = options.currency ?? 'USDT';
    this.wallet = options.balance ?? 10_000;
    this.makerFee = options.makerFeeBps ?? 2;
    this.takerFee = options.takerFeeBps ?? 5;
    this.slippage = (options.slippageBps ?? 0) / 10_000;
    this.leverage = options.leverage ?? 10;
    this.instruments = options.instruments ?? DEFAULT_SIM_INSTRUMENTS;
    this.ledger = new Ledger({ mode: options.mode ?? 'oneway', idPrefix: 'simpos0-' });
  }

  /** The last price given for `symbol` (quote), if any. */
  markPrice(symbol: string): number | undefined {
    return this.marks.get(symbol);
  }

  /** Sets the market price of `symbol` (quote) and executes every resting order it reaches, oldest first. */
  async setPrice(symbol: string, price: number): Promise<void> {
    if (!(price > 0) || !Number.isFinite(price)) throw new HalyardError('invalid_input', `sim: price must be > 0, got ${price}`, { symbol });
    this.marks.set(symbol, price);
    for (const o of [...this.resting.values()]) {
      if (o.symbol !== symbol || !isResting(o)) continue;
      const at = executionPrice(o, price);
      if (at === null) continue;
      const triggered = o.type !== 'limit';
      this.execute(o, triggered ? this.slipped(o.side, at) : at, triggered ? this.takerFee : this.makerFee);
    }
  }

  positionMode(): PositionMode {
    return this.ledger.mode;
  }

  async setPositionMode(mode: PositionMode): Promise<void> {
    if (mode === this.ledger.mode) return;
    if (this.ledger.open.length > 0) throw new HalyardError('venue_rejected', 'sim: the position mode cannot change while positions are open');
    if (this.resting.size > 0) throw new HalyardError('venue_rejected', 'sim: the position mode cannot change while orders are open');
    this.generation += 1;
    this.ledger = new Ledger({ mode, idPrefix: `simpos${this.generation}-` });
  }

  async createOrder(req: VenueOrderRequest): Promise<VenueOrder> {
    const inst = instrumentOf(this.instruments, req.symbol);
    this.validate(req);
    if (this.byClientId.has(req.clientId)) throw new HalyardError('conflict', `sim: client order id ${req.clientId} was already used`, { clientId: req.clientId });
    const qty = floorQty(req.qty, inst.lot);
    if (qty < inst.minQty) throw new HalyardError('venue_rejected', `sim: quantity ${req.qty} is below the minimum ${inst.minQty} of ${req.symbol}`, { symbol: req.symbol });
    const mark = this.marks.get(req.symbol);
    if (mark === undefined) throw new HalyardError('venue_rejected', `sim: no market price for ${req.symbol} yet`, { symbol: req.symbol });
    const leg = this.legOf(req);
    const reducing = this.reduces(req, leg);
    if ((req.reduceOnly ?? false) && !reducing) throw new HalyardError('venue_rejected', `sim: reduce-only ${req.side} on ${req.symbol} has no position to reduce`, { symbol: req.symbol });
    if (req.type === 'stop' || req.type === 'take_profit') {
      const why = immediateTrigger(req.type, req.side, req.triggerPrice ?? NaN, mark);
      if (why) throw new HalyardError('venue_rejected', `sim: ${why}`, { symbol: req.symbol });
    }
    if (!reducing) this.checkMargin(req, qty, req.type === 'limit' ? (req.price ?? mark) : mark);
    const now = this.clock.now();
    const o: SimOrder = {
      id: String(++this.orderSeq),
      clientId: req.clientId,
      symbol: req.symbol,
      side: req.side,
      type: req.type,
      qty,
      price: req.type === 'limit' ? roundPrice(req.price ?? NaN, inst.tick) : null,
      triggerPrice: req.type === 'stop' || req.type === 'take_profit' ? roundPrice(req.triggerPrice ?? NaN, inst.tick) : null,
      positionSide: req.positionSide ?? null,
      reduceOnly: (req.reduceOnly ?? false) || (this.ledger.mode === 'hedge' && reducing),
      status: 'new',
      filledQty: 0,
      avgFillPrice: null,
      fee: 0,
      createdAt: now,
      updatedAt: now,
      reason: null,
    };
    this.orders.set(o.id, o);
    this.byClientId.set(o.clientId, o);
    move(o, 'accept', now);
    this.track(o);
    if (o.type === 'market') this.execute(o, this.slipped(o.side, mark), this.takerFee);
    else if (o.type === 'limit' && executionPrice(o, mark) !== null) this.execute(o, mark, this.takerFee);
    return toVenueOrder(o);
  }

  async cancelOrder(id: string, symbol: string): Promise<VenueOrder> {
    const o = this.orders.get(id);
    if (!o || o.symbol !== symbol || !isResting(o)) throw new HalyardError('not_found', `sim: no open order ${id} on ${symbol}`, { id, symbol });
    move(o, 'cancel', this.clock.now(), 'canceled by user');
    this.track(o);
    return toVenueOrder(o);
  }

  async fetchOrderByClientId(clientId: string, symbol: string): Promise<VenueOrder | null> {
    const o = this.byClientId.get(clientId);
    return o && o.symbol === symbol ? toVenueOrder(o) : null;
  }

  async fetchOpenOrders(symbol?: string): Promise<VenueOrder[]> {
    return [...this.resting.values()].filter((o) => symbol === undefined || o.symbol === symbol).map(toVenueOrder);
  }

  async fetchPositions(symbols?: readonly string[]): Promise<VenuePosition[]> {
    return this.ledger.open.filter((p) => !symbols || symbols.includes(p.symbol)).map((p) => this.toVenuePosition(p));
  }

  async fetchBalance(): Promise<VenueBalance[]> {
    const a = this.account();
    const raw = Object.freeze({ wallet: this.wallet, unrealized: a.unrealized, used: a.used });
    return [Object.freeze({ currency: this.currency, total: a.total, free: Math.max(0, a.free), used: a.used, raw })];
  }

  async close(): Promise<void> {}

  private validate(req: VenueOrderRequest): void {
    if (!(req.qty > 0) || !Number.isFinite(req.qty)) throw new HalyardError('invalid_input', `order quantity must be > 0, got ${req.qty}`);
    if (!/^[A-Za-z0-9_-]{1,36}$/.test(req.clientId)) throw new HalyardError('invalid_input', `client order id must be 1-36 characters of [A-Za-z0-9_-], got "${req.clientId}"`);
    if (req.type === 'limit' && !(req.price !== undefined && req.price > 0)) throw new HalyardError('invalid_input', 'a limit order needs a price > 0');
    if ((req.type === 'stop' || req.type === 'take_profit') && !(req.triggerPrice !== undefined && req.triggerPrice > 0)) {
      throw new HalyardError('invalid_input', `a ${req.type} order needs a trigger price > 0`);
    }
    if (this.ledger.mode === 'hedge' && !req.positionSide) throw new HalyardError('venue_rejected', 'sim: hedge mode needs positionSide (long or short) on every order');
    if (this.ledger.mode === 'oneway' && req.positionSide) throw new HalyardError('venue_rejected', 'sim: positionSide is only valid in hedge mode (the account is in one-way mode)');
  }

  /** The leg an order acts on in hedge mode. */
  private legOf(req: VenueOrderRequest): Side | undefined {
    return this.ledger.mode === 'hedge' ? req.positionSide : undefined;
  }

  /** True when the order would reduce an open position rather than open or add. */
  private reduces(order: { readonly symbol: string; readonly side: OrderSide }, leg: Side | undefined): boolean {
    const p = this.ledger.find(order.symbol, leg);
    if (this.ledger.mode === 'hedge') return leg !== undefined && sideOfOrder(order.side) !== leg && p !== undefined;
    return p !== undefined && p.side !== sideOfOrder(order.side);
  }

  private checkMargin(req: VenueOrderRequest, qty: number, price: number): void {
    const balance = this.account().free;
    const need = (qty * price) / this.leverage + (qty * price * this.takerFee) / 10_000;
    if (need > balance) {
      throw new HalyardError('venue_rejected', `sim: margin is insufficient: ${req.side} ${qty} ${req.symbol} needs ${need.toFixed(2)} ${this.currency}, ${balance.toFixed(2)} available`, {
        symbol: req.symbol,
      });
    }
  }

  /** The account now (quote): unrealized PnL at the marks, equity (`total`), margin held, and what is left. */
  private account(): { unrealized: number; total: number; used: number; free: number } {
    let unrealized = 0;
    for (const p of this.ledger.open) unrealized += unrealizedPnl(p, this.marks.get(p.symbol) ?? p.entryPrice);
    const used = this.usedMargin();
    const total = this.wallet + unrealized;
    return { unrealized, total, used, free: total - used };
  }

  /** Margin held by positions and by resting opening orders (quote). */
  private usedMargin(): number {
    let used = 0;
    for (const p of this.ledger.open) used += (p.qty * (this.marks.get(p.symbol) ?? p.entryPrice)) / this.leverage;
    for (const o of this.resting.values()) {
      if (!o.reduceOnly && o.type === 'limit' && o.price !== null) used += ((o.qty - o.filledQty) * o.price) / this.leverage;
    }
    return used;
  }

  private slipped(side: OrderSide, price: number): number {
    return side === 'buy' ? price * (1 + this.slippage) : price * (1 - this.slippage);
  }

  /** Fills the rest of `o` at `price` through the ledger, then cancels reduce-only orders of legs gone flat. */
  private execute(o: SimOrder, price: number, feeBps: number): void {
    const now = this.clock.now();
    const inst = instrumentOf(this.instruments, o.symbol);
    const px = roundPrice(price, inst.tick);
    const want = o.qty - o.filledQty;
    if (o.reduceOnly && !this.reduces(o, o.positionSide ?? undefined)) {
      move(o, 'cancel', now, 'reduce-only order with no position left to reduce');
      this.track(o);
      return;
    }
    // The engine's formula, so a paper run on the sim books the very fee its backtest does.
    const fee = (want * px * feeBps) / 10_000;
    const result = this.ledger.apply({
      symbol: o.symbol,
      side: o.side,
      qty: want,
      price: px,
      ts: now,
      fee,
      ...(o.positionSide ? { positionSide: o.positionSide } : {}),
      reduceOnly: o.reduceOnly,
      source: 'exchange',
    });
    const filled = want - result.unfilledQty;
    const paid = (fee * filled) / want;
    let realized = 0;
    for (const c of result.changes) if (c.kind === 'reduced' || c.kind === 'closed') realized += c.realizedPnl;
    this.wallet += realized - paid;
    // A first fill reports its own price exactly (a weighted mean of one price can drift in the last bit).
    if (filled > 0) o.avgFillPrice = o.filledQty === 0 ? px : ((o.avgFillPrice ?? 0) * o.filledQty + px * filled) / (o.filledQty + filled);
    o.filledQty += filled;
    o.fee += paid;
    if (filled > 0) move(o, 'fill', now);
    else move(o, 'cancel', now, 'reduce-only order with no position left to reduce');
    this.track(o);
    this.cancelOrphanedReduceOnly(o.symbol, now);
  }

  /** One-cancels-other: reduce-only orders whose leg is flat can only be stale brackets. */
  private cancelOrphanedReduceOnly(symbol: string, now: number): void {
    for (const r of [...this.resting.values()]) {
      if (r.symbol !== symbol || !r.reduceOnly) continue;
      if (this.reduces(r, r.positionSide ?? undefined)) continue;
      move(r, 'cancel', now, 'position closed');
      this.track(r);
    }
  }

  /** Keeps `resting` in step with an order's status. */
  private track(o: SimOrder): void {
    if (isResting(o)) this.resting.set(o.id, o);
    else this.resting.delete(o.id);
  }

  private toVenuePosition(p: Position): VenuePosition {
    const mark = this.marks.get(p.symbol) ?? null;
    // The ledger keeps float sums; the venue reports whole lots, as exchanges do.
    const qty = floorQty(p.qty, instrumentOf(this.instruments, p.symbol).lot);
    return Object.freeze({
      symbol: p.symbol,
      side: p.side,
      positionSide: p.positionSide,
      qty,
      entryPrice: p.entryPrice,
      markPrice: mark,
      unrealizedPnl: mark === null ? null : unrealizedPnl(p, mark),
      liquidationPrice: null,
      raw: Object.freeze({ id: p.id, qty: p.qty, entryPrice: p.entryPrice, realizedPnl: p.realizedPnl, fees: p.fees, openedAt: p.openedAt }),
    });
  }
}
