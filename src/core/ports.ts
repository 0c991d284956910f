import type { CandleColumns } from './candles.ts';
import type { Timeframe } from './timeframe.ts';

/** Source of time. Backtests use a clock driven by the candles; live code a system clock. */
export interface Clock {
  /** Current time, epoch ms. */
  now(): number;
}

/** A clock set by whoever drives the loop (the backtest sets it to each candle's close). */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  /** Current time, epoch ms. */
  now(): number {
    return this.t;
  }
  /** Moves the clock (epoch ms). */
  set(t: number): void {
    this.t = t;
  }
}

/** A feed of closed candles (historical or live) for one symbol and timeframe. */
export interface CandleFeed {
  /** Candles with open time in [from, to), epoch ms. */
  history(symbol: string, tf: Timeframe, from: number, to: number): Promise<CandleColumns>;
}

/** Where alerts go (Discord, Telegram, ...). */
export interface Notifier {
  notify(message: { readonly kind: string; readonly text: string }): Promise<void>;
}
