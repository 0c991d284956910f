import { HalyardError } from './errors.ts';
import { IdSequence } from './ids.ts';
import { floorQty } from './round.ts';
import { sideOfOrder, sideSign, type OrderSide, type PositionMode, type PositionSource, type Side } from './types.ts';

/** One addition to a position: price (quote), quantity (base units), time (epoch ms). */
export interface Entry {
  readonly price: number;
  readonly qty: number;
  readonly ts: number;
}

/**
 * A position (or one hedge-mode leg). Mutable while open; the ledger hands it back when closed.
 * Quantities are in base units, prices and money in quote currency, times in epoch ms.
 */
export interface Position {
  readonly id: string;
  readonly symbol: string;
  readonly side: Side;
  /** Leg this position is in hedge mode (`null` in one-way mode). */
  readonly positionSide: Side | null;
  /** Open quantity (base units, > 0 while open). */
  qty: number;
  /** Largest quantity held during the position's life (base units). */
  maxQty: number;
  /** Volume-weighted average entry price of the open quantity. */
  entryPrice: number;
  entries: Entry[];
  /** Realized PnL before fees and funding (quote). */
  realizedPnl: number;
  /** Fees paid (quote, positive = paid). */
  fees: number;
  /** Funding received (quote, negative = paid). */
  funding: number;
  /** Worst unrealized loss seen (quote, >= 0). */
  maxAdverse: number;
  /** Absolute stop-loss price, or null. */
  stopLoss: number | null;
  /** Absolute take-profit price, or null. */
  takeProfit: number | null;
  openedAt: number;
  closedAt: number | null;
  /** Price of the fill that closed the position (null while open). */
  exitPrice: number | null;
  /** Quantity-weighted average price of all reductions (null before the first). */
  avgExitPrice: number | null;
  /** Quantity reduced so far (base units). */
  exitedQty: number;
  source: PositionSource;
  strategy: string | null;
}

/** A fill the ledger applies: an order's executed quantity at a price. */
export interface LedgerFill {
  readonly symbol: string;
  readonly side: OrderSide;
  /** Executed quantity (base units, > 0). */
  readonly qty: number;
  /** Fill price (quote). */
  readonly price: number;
  /** Fill time (epoch ms). */
  readonly ts: number;
  /** Fee charged on the whole fill (quote); split pro rata when a fill both closes and opens. */
  readonly fee?: number;
  /** Hedge mode: which leg the order acts on. Required in hedge mode, refused in one-way mode. */
  readonly positionSide?: Side;
  /** Only reduce: never opens or flips; any excess is reported as `unfilledQty`. */
  readonly reduceOnly?: boolean;
  readonly source?: PositionSource;
  readonly strategy?: string | null;
}

/** What one fill did to positions, in order. Frozen value objects tagged with `kind`. */
export type PositionChange =
  | { readonly kind: 'opened'; readonly position: Position; readonly qty: number; readonly price: number }
  | { readonly kind: 'increased'; readonly position: Position; readonly qty: number; readonly price: number }
  | { readonly kind: 'reduced'; readonly position: Position; readonly qty: number; readonly price: number; readonly realizedPnl: number }
  | { readonly kind: 'closed'; readonly position: Position; readonly qty: number; readonly price: number; readonly realizedPnl: number };

/** The result of applying a fill. */
export interface FillResult {
  readonly changes: readonly PositionChange[];
  /** Quantity the ledger could not apply (reduce-only excess, or a reduce beyond a hedge leg). */
  readonly unfilledQty: number;
}

/** Options of a ledger. */
export interface LedgerOptions {
  readonly mode: PositionMode;
  /** Prefix of position ids (deterministic sequence). */
  readonly idPrefix?: string;
  /** Lot size used to decide when a remainder is dust (base units). */
  readonly lot?: number;
}

/**
 * The one position ledger. Same side adds with a volume-weighted average entry (DCA); the opposite side
 * reduces, realizing PnL; in one-way mode an excess flips into a new position with the remainder; CLOSE
 * flattens. Hedge mode keeps a long and a short leg per symbol and routes by `positionSide`.
 */
export class Ledger {
  readonly mode: PositionMode;
  /** Open positions in opening order (an array, so the hot loop can walk it without allocating). */
  readonly open: Position[] = [];
  private readonly ids: IdSequence;
  private readonly lot: number;

  constructor(options: LedgerOptions) {
    this.mode = options.mode;
    this.ids = new IdSequence(options.idPrefix ?? 'pos');
    this.lot = options.lot ?? 0;
  }

  /**
   * Puts persisted open positions back (after a restart) and continues the id sequence after `issued`
   * ids, so the next position gets the id it would have had without the restart.
   */
  restore(positions: readonly Position[], issued: number): void {
    if (this.open.length > 0 || this.ids.issued > 0) throw new HalyardError('conflict', 'restore() needs a fresh ledger');
    for (const p of positions) {
      if (!(p.qty > 0)) throw new HalyardError('data_corrupt', `position ${p.id} is not open (qty ${p.qty})`);
      if ((this.mode === 'hedge') !== (p.positionSide !== null)) throw new HalyardError('data_corrupt', `position ${p.id} does not fit ${this.mode} mode`);
      this.open.push(p);
    }
    this.ids.resume(issued);
  }

  /** The open position of `symbol` (one-way) or its `positionSide` leg (hedge), if any. */
  find(symbol: string, positionSide?: Side): Position | undefined {
    for (const p of this.open) {
      if (p.symbol !== symbol) continue;
      if (this.mode === 'oneway' || p.side === positionSide) return p;
    }
    return undefined;
  }

  /** Applies a fill and returns what it changed. */
  apply(fill: LedgerFill): FillResult {
    if (!(fill.qty > 0) || !Number.isFinite(fill.qty)) throw new HalyardError('invalid_input', `fill quantity must be > 0, got ${fill.qty}`);
    if (!(fill.price > 0) || !Number.isFinite(fill.price)) throw new HalyardError('invalid_input', `fill price must be > 0, got ${fill.price}`);
    if (this.mode === 'hedge') {
      if (!fill.positionSide) throw new HalyardError('invalid_input', 'hedge mode: a fill needs positionSide (long or short)', { symbol: fill.symbol });
      return this.applyHedge(fill, fill.positionSide);
    }
    if (fill.positionSide) throw new HalyardError('invalid_input', 'one-way mode: positionSide is only valid in hedge mode', { symbol: fill.symbol });
    return this.applyNetting(fill);
  }

  /** Flattens the position (one-way) or the given leg / both legs (hedge) at `price`. */
  close(symbol: string, price: number, ts: number, opts: { positionSide?: Side; feeRate?: number } = {}): PositionChange[] {
    const changes: PositionChange[] = [];
    for (const p of [...this.open]) {
      if (p.symbol !== symbol) continue;
      if (opts.positionSide && p.side !== opts.positionSide) continue;
      const fee = (opts.feeRate ?? 0) * p.qty * price;
      changes.push(...this.reduce(p, p.qty, price, ts, fee));
    }
    return changes;
  }

  /**
   * The fill that brings `symbol` to a signed target size (one-way mode): positive long, negative short,
   * zero flat. Returns undefined when already there.
   */
  fillToTarget(symbol: string, target: number, price: number, ts: number): LedgerFill | undefined {
    if (this.mode !== 'oneway') throw new HalyardError('invalid_input', 'a target position size applies to one-way mode only');
    const p = this.find(symbol);
    const current = p ? sideSign(p.side) * p.qty : 0;
    const delta = target - current;
    if (Math.abs(delta) <= Math.max(this.lot / 2, 1e-12)) return undefined;
    return { symbol, side: delta > 0 ? 'buy' : 'sell', qty: Math.abs(delta), price, ts };
  }

  private applyNetting(fill: LedgerFill): FillResult {
    const p = this.find(fill.symbol);
    const fillSide = sideOfOrder(fill.side);
    const fee = fill.fee ?? 0;
    if (!p || p.side === fillSide) {
      if (fill.reduceOnly) return { changes: [], unfilledQty: fill.qty };
      return { changes: [p ? this.increase(p, fill, fee) : this.openNew(fill, fillSide, null, fill.qty, fee)], unfilledQty: 0 };
    }
    const closing = Math.min(p.qty, fill.qty);
    const rest = this.dust(fill.qty - closing);
    const closeFee = (fee * closing) / fill.qty;
    const changes = this.reduce(p, closing, fill.price, fill.ts, closeFee);
    if (rest > 0) {
      if (fill.reduceOnly) return { changes, unfilledQty: rest };
      changes.push(this.openNew(fill, fillSide, null, rest, fee - closeFee));
    }
    return { changes, unfilledQty: 0 };
  }

  private applyHedge(fill: LedgerFill, leg: Side): FillResult {
    const p = this.find(fill.symbol, leg);
    const adds = sideOfOrder(fill.side) === leg;
    const fee = fill.fee ?? 0;
    if (adds) {
      if (fill.reduceOnly) return { changes: [], unfilledQty: fill.qty };
      return { changes: [p ? this.increase(p, fill, fee) : this.openNew(fill, leg, leg, fill.qty, fee)], unfilledQty: 0 };
    }
    // A sell on the long leg (or buy on the short leg) reduces that leg only; it never flips.
    if (!p) return { changes: [], unfilledQty: fill.qty };
    const closing = Math.min(p.qty, fill.qty);
    return { changes: this.reduce(p, closing, fill.price, fill.ts, (fee * closing) / fill.qty), unfilledQty: this.dust(fill.qty - closing) };
  }

  private openNew(fill: LedgerFill, side: Side, positionSide: Side | null, qty: number, fee: number): PositionChange {
    const position: Position = {
      id: this.ids.next(),
      symbol: fill.symbol,
      side,
      positionSide,
      qty,
      maxQty: qty,
      entryPrice: fill.price,
      entries: [{ price: fill.price, qty, ts: fill.ts }],
      realizedPnl: 0,
      fees: fee,
      funding: 0,
      maxAdverse: 0,
      stopLoss: null,
      takeProfit: null,
      openedAt: fill.ts,
      closedAt: null,
      exitPrice: null,
      avgExitPrice: null,
      exitedQty: 0,
      source: fill.source ?? 'engine',
      strategy: fill.strategy ?? null,
    };
    this.open.push(position);
    return Object.freeze({ kind: 'opened', position, qty, price: fill.price });
  }

  private increase(p: Position, fill: LedgerFill, fee: number): PositionChange {
    const qty = p.qty + fill.qty;
    p.entryPrice = (p.entryPrice * p.qty + fill.price * fill.qty) / qty;
    p.qty = qty;
    if (qty > p.maxQty) p.maxQty = qty;
    p.entries.push({ price: fill.price, qty: fill.qty, ts: fill.ts });
    p.fees += fee;
    return Object.freeze({ kind: 'increased', position: p, qty: fill.qty, price: fill.price });
  }

  private reduce(p: Position, qty: number, price: number, ts: number, fee: number): PositionChange[] {
    const realizedPnl = (price - p.entryPrice) * qty * sideSign(p.side);
    p.realizedPnl += realizedPnl;
    p.fees += fee;
    p.avgExitPrice = ((p.avgExitPrice ?? 0) * p.exitedQty + price * qty) / (p.exitedQty + qty);
    p.exitedQty += qty;
    const left = this.dust(p.qty - qty);
    if (left > 0) {
      p.qty = left;
      return [Object.freeze({ kind: 'reduced', position: p, qty, price, realizedPnl })];
    }
    p.qty = 0;
    p.closedAt = ts;
    p.exitPrice = price;
    const i = this.open.indexOf(p);
    if (i >= 0) this.open.splice(i, 1);
    return [Object.freeze({ kind: 'closed', position: p, qty, price, realizedPnl })];
  }

  /** Treats float leftovers below half a lot (or 1e-12) as zero. */
  private dust(q: number): number {
    const eps = Math.max(this.lot / 2, 1e-12);
    if (q <= eps) return 0;
    return this.lot > 0 ? floorQty(q, this.lot) || q : q;
  }
}

/** Unrealized PnL of a position at `mark` (quote). */
export function unrealizedPnl(p: Position, mark: number): number {
  return (mark - p.entryPrice) * p.qty * sideSign(p.side);
}

/** Quantity-weighted average of every entry: the entry price of the whole round trip (quote). */
export function averageEntry(p: Position): number {
  let q = 0;
  let v = 0;
  for (const e of p.entries) {
    q += e.qty;
    v += e.qty * e.price;
  }
  return q > 0 ? v / q : p.entryPrice;
}
