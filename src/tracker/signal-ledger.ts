import { Ledger, unrealizedPnl, type LedgerFill, type Position, type PositionChange } from '../core/ledger.ts';
import { openingOrderSide, type OrderSide, type PositionMode, type Side } from '../core/types.ts';
import type { SignalAction } from './signal.ts';

/** A signal with its effective quantity and price decided (what is stored and what a rebuild replays). */
export interface EffectiveSignal {
  readonly action: SignalAction;
  readonly ticker: string;
  /** Quantity (> 0): the signal's own or the recorder's default. */
  readonly qty: number;
  /** Price (> 0): the signal's own or the latest known for the ticker. */
  readonly price: number;
  /** Time of the change (epoch ms): when the signal was received. */
  readonly ts: number;
  readonly targetSize: number | null;
  readonly positionSide: Side | null;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
}

/** What a signal did: the ledger's changes (possibly none), or why it cannot apply. */
export type SignalEffect =
  | { readonly kind: 'applied'; readonly changes: readonly PositionChange[]; readonly touched: readonly Position[] }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * A recorder's signal-based positions: the core ledger fed by signals, plus the latest price per ticker
 * (for unrealized PnL and max adverse excursion). No exchange is involved.
 */
export class SignalBook {
  readonly ledger: Ledger;
  /** Latest signal price per ticker (quote). */
  readonly lastPrice = new Map<string, number>();
  /** Realized PnL of every position the recorder ever had (quote). */
  realized = 0;

  constructor(
    readonly mode: PositionMode,
    idPrefix: string,
  ) {
    this.ledger = new Ledger({ mode, idPrefix });
  }

  /** Applies one signal. Refusals leave the book untouched. */
  apply(s: EffectiveSignal): SignalEffect {
    const plan = this.plan(s);
    if (typeof plan === 'string') return { kind: 'refused', reason: plan };
    this.mark(s.ticker, s.price);
    const changes: PositionChange[] = [];
    for (const step of plan) {
      if (step.kind === 'close') changes.push(...this.ledger.close(s.ticker, s.price, s.ts, step.positionSide ? { positionSide: step.positionSide } : {}));
      else changes.push(...this.ledger.apply(step.fill).changes);
    }
    for (const c of changes) if (c.kind === 'reduced' || c.kind === 'closed') this.realized += c.realizedPnl;
    const touched = new Set<Position>(changes.map((c) => c.position));
    if (s.stopLoss !== null || s.takeProfit !== null) {
      for (const c of changes) {
        if (c.kind !== 'opened' && c.kind !== 'increased') continue;
        if (s.stopLoss !== null) c.position.stopLoss = s.stopLoss;
        if (s.takeProfit !== null) c.position.takeProfit = s.takeProfit;
      }
    }
    for (const p of this.ledger.open) if (p.symbol === s.ticker) touched.add(p);
    return { kind: 'applied', changes, touched: [...touched] };
  }

  /** Unrealized PnL of all open positions at the latest prices (quote). */
  unrealized(): number {
    let u = 0;
    for (const p of this.ledger.open) u += unrealizedPnl(p, this.lastPrice.get(p.symbol) ?? p.entryPrice);
    return u;
  }

  /** Records a price for `ticker` and widens the max adverse excursion of its open positions. */
  private mark(ticker: string, price: number): void {
    this.lastPrice.set(ticker, price);
    for (const p of this.ledger.open) {
      if (p.symbol !== ticker) continue;
      const adverse = -unrealizedPnl(p, price);
      if (adverse > p.maxAdverse) p.maxAdverse = adverse;
    }
  }

  private plan(s: EffectiveSignal): Step[] | string {
    if (s.action === 'CANCEL') return [];
    if (s.targetSize !== null && s.action !== 'ADD') return this.mode === 'oneway' ? this.toTarget(s) : this.legToTarget(s);
    if (s.action === 'CLOSE') return this.closeSteps(s);
    if (this.mode === 'oneway') {
      if (s.positionSide) return `position_side is for hedge-mode recorders; this recorder is one-way`;
      if (s.action === 'ADD') {
        const p = this.ledger.find(s.ticker);
        if (!p) return `ADD needs an open ${s.ticker} position to add to; there is none`;
        return [this.fill(s, openingOrderSide(p.side), undefined)];
      }
      return [this.fill(s, s.action === 'BUY' ? 'buy' : 'sell', undefined)];
    }
    if (s.action === 'ADD') {
      const legs = this.ledger.open.filter((p) => p.symbol === s.ticker && (!s.positionSide || p.side === s.positionSide));
      const [leg] = legs;
      if (!leg) return `ADD needs an open ${s.ticker}${s.positionSide ? ` ${s.positionSide}` : ''} position to add to; there is none`;
      if (legs.length > 1) return `ADD is ambiguous: ${s.ticker} has a long and a short leg; say position_side`;
      return [this.fill(s, openingOrderSide(leg.side), leg.side)];
    }
    // Hedge: BUY opens/adds the long leg (or, with position_side short, reduces the short leg); SELL mirrors.
    const side: OrderSide = s.action === 'BUY' ? 'buy' : 'sell';
    const leg: Side = s.positionSide ?? (side === 'buy' ? 'long' : 'short');
    if (openingOrderSide(leg) !== side && !this.ledger.find(s.ticker, leg)) return `${s.action} on the ${leg} leg reduces it, but ${s.ticker} has no ${leg} leg open`;
    return [this.fill(s, side, leg)];
  }

  private closeSteps(s: EffectiveSignal): Step[] | string {
    if (this.mode === 'oneway' && s.positionSide) {
      const p = this.ledger.find(s.ticker);
      return p && p.side === s.positionSide ? [{ kind: 'close', positionSide: undefined }] : [];
    }
    return [{ kind: 'close', positionSide: s.positionSide ?? undefined }];
  }

  private toTarget(s: EffectiveSignal): Step[] | string {
    if (s.positionSide) {
      // One-way: a leg only makes sense as "exit long → flat" or a target on that same side.
      const target = s.targetSize ?? 0;
      if (target === 0) return this.closeSteps(s);
      if ((target > 0 ? 'long' : 'short') !== s.positionSide) return `position_side ${s.positionSide} contradicts target size ${target} on a one-way recorder`;
    }
    const fill = this.ledger.fillToTarget(s.ticker, s.targetSize ?? 0, s.price, s.ts);
    return fill ? [{ kind: 'fill', fill: { ...fill, source: 'signal' } }] : [];
  }

  private legToTarget(s: EffectiveSignal): Step[] | string {
    const target = s.targetSize ?? 0;
    if (target === 0 && !s.positionSide) return [{ kind: 'close', positionSide: undefined }];
    const leg: Side = s.positionSide ?? (target > 0 ? 'long' : 'short');
    const want = Math.abs(target);
    const have = this.ledger.find(s.ticker, leg)?.qty ?? 0;
    const delta = want - have;
    if (Math.abs(delta) <= 1e-12) return [];
    const side = delta > 0 ? openingOrderSide(leg) : openingOrderSide(leg === 'long' ? 'short' : 'long');
    return [this.fill({ ...s, qty: Math.abs(delta) }, side, leg)];
  }

  private fill(s: EffectiveSignal, side: OrderSide, positionSide: Side | undefined): Step {
    const fill: LedgerFill = { symbol: s.ticker, side, qty: s.qty, price: s.price, ts: s.ts, source: 'signal', ...(positionSide ? { positionSide } : {}) };
    return { kind: 'fill', fill };
  }
}

type Step = { readonly kind: 'fill'; readonly fill: LedgerFill } | { readonly kind: 'close'; readonly positionSide: Side | undefined };
