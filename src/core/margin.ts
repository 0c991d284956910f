import type { Side } from './types.ts';

/** Initial margin of a position (quote): notional / leverage. */
export function initialMargin(qty: number, price: number, leverage: number): number {
  return (qty * price) / leverage;
}

/**
 * Liquidation price of an isolated-margin position (quote), where margin left equals maintenance margin:
 * long `entry × (1 − 1/leverage + mmr)`, short `entry × (1 + 1/leverage − mmr)`. NaN at leverage ≤ 1 for a
 * long (a fully funded long is never liquidated).
 */
export function liquidationPrice(side: Side, entry: number, leverage: number, maintenanceMarginRate: number): number {
  return entry * liquidationFactor(side, leverage, maintenanceMarginRate);
}

/**
 * Liquidation price ÷ entry price for a side (see `liquidationPrice`); NaN when a long cannot be
 * liquidated. The backtest loop computes it once per run instead of once per candle.
 */
export function liquidationFactor(side: Side, leverage: number, maintenanceMarginRate: number): number {
  if (side === 'long') {
    const f = 1 - 1 / leverage + maintenanceMarginRate;
    return leverage <= 1 || f <= 0 ? Number.NaN : f;
  }
  return 1 + 1 / leverage - maintenanceMarginRate;
}

/** Funding paid by a position at one funding time (quote; positive = paid): long pays a positive rate. */
export function fundingPayment(side: Side, qty: number, mark: number, rate: number): number {
  return (side === 'long' ? 1 : -1) * qty * mark * rate;
}
