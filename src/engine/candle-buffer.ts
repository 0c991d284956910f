import { allocCandles, type CandleColumns } from '../core/candles.ts';

/**
 * Candle columns that grow as live candles close: capacity doubles when full, and `columns` is replaced
 * then (views re-read it). `columns.length` is the number of candles held.
 */
export class CandleBuffer {
  private cols: CandleColumns;
  private n = 0;

  constructor(capacity = 1024) {
    this.cols = { ...allocCandles(Math.max(16, capacity)), length: 0 };
  }

  /** The candles so far (a view over the buffer's arrays; replaced when the buffer grows). */
  get columns(): CandleColumns {
    return this.cols;
  }

  /** Candles held. */
  get length(): number {
    return this.n;
  }

  /** Appends one candle: open time (epoch ms), prices (quote), volume, open interest and CVD (base units). */
  push(t: number, o: number, h: number, l: number, c: number, v: number, oi: number, cvd: number): void {
    let cols = this.cols;
    if (this.n === cols.ts.length) {
      const bigger = allocCandles(cols.ts.length * 2);
      for (const k of ['ts', 'open', 'high', 'low', 'close', 'volume', 'openInterest', 'cvd'] as const) bigger[k].set(cols[k]);
      cols = bigger;
    }
    const i = this.n++;
    cols.ts[i] = t;
    cols.open[i] = o;
    cols.high[i] = h;
    cols.low[i] = l;
    cols.close[i] = c;
    cols.volume[i] = v;
    cols.openInterest[i] = oi;
    cols.cvd[i] = cvd;
    this.cols = { ...cols, length: this.n };
  }
}
