import { Ledger, unrealizedPnl, type FillResult, type LedgerFill, type Position } from './ledger.ts';
import { fundingPayment, initialMargin } from './margin.ts';
import type { PositionMode } from './types.ts';

/** Settings of a portfolio. Rates are fractions (0.0004 = 4 bps). */
export interface PortfolioOptions {
  /** Starting wallet balance (quote). */
  readonly initialBalance: number;
  readonly leverage: number;
  readonly mode: PositionMode;
  /** Maintenance margin rate for liquidation prices (fraction of notional). */
  readonly maintenanceMarginRate: number;
  /** Lot size (base units) for dust handling. */
  readonly lot?: number;
  readonly idPrefix?: string;
}

/**
 * Wallet balance, isolated margin and PnL on top of the one ledger. Balance = initial + realized PnL − fees
 * + funding; equity adds unrealized PnL at a mark price. Totals are kept from fills, never guessed.
 */
export class Portfolio {
  readonly ledger: Ledger;
  readonly initialBalance: number;
  readonly leverage: number;
  readonly maintenanceMarginRate: number;
  /** Wallet balance (quote). */
  balance: number;
  /** Fees paid so far (quote). */
  feesPaid = 0;
  /** Funding received so far (quote, negative = paid). */
  fundingNet = 0;

  constructor(o: PortfolioOptions) {
    this.ledger = new Ledger({ mode: o.mode, lot: o.lot, idPrefix: o.idPrefix });
    this.initialBalance = o.initialBalance;
    this.balance = o.initialBalance;
    this.leverage = o.leverage;
    this.maintenanceMarginRate = o.maintenanceMarginRate;
  }

  /** Open positions (hedge mode: legs). */
  get positions(): readonly Position[] {
    return this.ledger.open;
  }

  /** Isolated margin held by open positions (quote). */
  usedMargin(): number {
    let m = 0;
    for (const p of this.ledger.open) m += initialMargin(p.qty, p.entryPrice, this.leverage);
    return m;
  }

  /** Unrealized PnL of all open positions at `mark` (single-symbol marking). */
  unrealized(mark: number): number {
    let u = 0;
    for (const p of this.ledger.open) u += unrealizedPnl(p, mark);
    return u;
  }

  /** Balance + unrealized PnL at `mark` (quote). */
  equity(mark: number): number {
    return this.balance + this.unrealized(mark);
  }

  /** Applies a fill to the ledger and books its realized PnL and fee into the balance. */
  fill(f: LedgerFill): FillResult {
    const r = this.ledger.apply(f);
    const fee = f.fee ?? 0;
    let realized = 0;
    for (const ch of r.changes) if (ch.kind === 'reduced' || ch.kind === 'closed') realized += ch.realizedPnl;
    // A fill the ledger could not fully apply pays the fee only on what it applied.
    const feeBooked = r.unfilledQty > 0 ? (fee * (f.qty - r.unfilledQty)) / f.qty : fee;
    this.balance += realized - feeBooked;
    this.feesPaid += feeBooked;
    return r;
  }

  /** Books funding for every open position at `mark` with `rate` per interval; returns the net received. */
  fund(mark: number, rate: number): number {
    let net = 0;
    for (const p of this.ledger.open) {
      const received = -fundingPayment(p.side, p.qty, mark, rate);
      p.funding += received;
      net += received;
    }
    this.balance += net;
    this.fundingNet += net;
    return net;
  }
}
