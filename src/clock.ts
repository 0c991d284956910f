import type { Clock } from './core/ports.ts';

/** The wall clock, for live code (the server, paper and live trading). Backtests never use it. */
export class SystemClock implements Clock {
  /** Current time, epoch ms. */
  now(): number {
    return Date.now();
  }
}
