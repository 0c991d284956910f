import type { CandleColumns } from '../core/candles.ts';
import { TIMEFRAME_MS, bucketStart, type Timeframe } from '../core/timeframe.ts';
import type { Indicator } from '../strategy/indicators.ts';
import type { CandleView } from '../strategy/context.ts';
import { CandleBuffer } from './candle-buffer.ts';

type Field = 'open' | 'high' | 'low' | 'close' | 'volume';

/** The base timeframe's view: candle `i` is the latest closed one; nothing after it is reachable. */
export class BaseView implements CandleView {
  /** Index of the latest closed candle (set by the loop). */
  i = -1;
  readonly complete = true;
  /** Indicators fed by this timeframe. */
  readonly indicators: Indicator[] = [];

  constructor(
    readonly timeframe: Timeframe,
    private c: CandleColumns,
  ) {}

  /** Points the view at new columns (a live buffer that grew); the cursor stays. */
  rebind(c: CandleColumns): void {
    this.c = c;
  }

  get length(): number {
    return this.i + 1;
  }
  ts(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.ts[this.i - k] as number) : Number.NaN;
  }
  open(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.open[this.i - k] as number) : Number.NaN;
  }
  high(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.high[this.i - k] as number) : Number.NaN;
  }
  low(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.low[this.i - k] as number) : Number.NaN;
  }
  close(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.close[this.i - k] as number) : Number.NaN;
  }
  volume(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.volume[this.i - k] as number) : Number.NaN;
  }
  openInterest(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.openInterest[this.i - k] as number) : Number.NaN;
  }
  cvd(k = 0): number {
    return k <= this.i && k >= 0 ? (this.c.cvd[this.i - k] as number) : Number.NaN;
  }
  last(field: Field, n: number): number[] {
    const out: number[] = [];
    for (let k = Math.min(n, this.length) - 1; k >= 0; k--) out.push(this[field](k));
    return out;
  }
}

/**
 * A higher timeframe built from base candles as they close. Candle 0 is the current bucket made of the
 * base candles seen so far (partial until its last base candle); older candles come from `agg`, the
 * aggregation of the base series, but only buckets already finished are reachable.
 */
export class HigherView implements CandleView {
  /** Index in `agg` of the current bucket (-1 before the first candle). */
  private idx = -1;
  private bucket = Number.NaN;
  /** End (exclusive, epoch ms) of the current bucket. */
  private end = Number.NEGATIVE_INFINITY;
  private pOpen = Number.NaN;
  private pHigh = Number.NaN;
  private pLow = Number.NaN;
  private pClose = Number.NaN;
  private pVolume = 0;
  private pOi = Number.NaN;
  private pCvd = Number.NaN;
  complete = false;
  /** Whether the current bucket was already fed to the indicators. */
  private fed = false;
  readonly indicators: Indicator[] = [];
  private readonly ms: number;

  /** Live: finished buckets are appended here as they complete (a backtest aggregates in advance). */
  private live: CandleBuffer | null = null;

  constructor(
    readonly timeframe: Timeframe,
    private agg: CandleColumns,
    private readonly baseMs: number,
  ) {
    this.ms = TIMEFRAME_MS[timeframe];
  }

  /** Builds older buckets from the base candles as they arrive instead of from an aggregation made in advance. */
  goLive(): void {
    this.live = new CandleBuffer();
    this.agg = this.live.columns;
  }

  /**
   * `update` with base candle `i` of columns `cols` (the backtest loop: a call with an index, where five
   * prices as arguments would each be boxed, an allocation per candle).
   */
  updateAt(cols: CandleColumns, i: number): void {
    this.update(cols.ts[i] as number, cols.open[i] as number, cols.high[i] as number, cols.low[i] as number, cols.close[i] as number, cols.volume[i] as number, cols.openInterest[i] as number, cols.cvd[i] as number);
  }

  /** Folds base candle (t, o, h, l, c, v, oi, cvd) into the current bucket; feeds indicators on completion. */
  update(t: number, o: number, h: number, l: number, c: number, v: number, oi: number, cvd: number): void {
    if (t >= this.end) {
      // The previous bucket ended without its last base candle (a gap): it is complete now.
      if (this.idx >= 0 && !this.fed) this.feedCurrent();
      if (this.idx >= 0 && this.live) {
        this.live.push(this.bucket, this.pOpen, this.pHigh, this.pLow, this.pClose, this.pVolume, this.pOi, this.pCvd);
        this.agg = this.live.columns;
      }
      this.idx++;
      this.bucket = bucketStart(t, this.timeframe);
      this.end = this.bucket + this.ms;
      this.pOpen = o;
      this.pHigh = h;
      this.pLow = l;
      this.pVolume = 0;
      this.fed = false;
    } else {
      if (h > this.pHigh) this.pHigh = h;
      if (l < this.pLow) this.pLow = l;
    }
    this.pClose = c;
    this.pVolume += v;
    this.pOi = oi;
    this.pCvd = cvd;
    this.complete = t + this.baseMs >= this.end;
    if (this.complete) this.feedCurrent();
  }

  private feedCurrent(): void {
    this.fed = true;
    for (const ind of this.indicators) ind.push(this.pOpen, this.pHigh, this.pLow, this.pClose, this.pVolume);
  }

  get length(): number {
    return this.idx + 1;
  }
  private at(col: Float64Array, partial: number, k: number): number {
    if (k === 0) return this.idx >= 0 ? partial : Number.NaN;
    return k > 0 && k <= this.idx ? (col[this.idx - k] as number) : Number.NaN;
  }
  ts(k = 0): number {
    return this.at(this.agg.ts, this.bucket, k);
  }
  open(k = 0): number {
    return this.at(this.agg.open, this.pOpen, k);
  }
  high(k = 0): number {
    return this.at(this.agg.high, this.pHigh, k);
  }
  low(k = 0): number {
    return this.at(this.agg.low, this.pLow, k);
  }
  close(k = 0): number {
    return this.at(this.agg.close, this.pClose, k);
  }
  volume(k = 0): number {
    return this.at(this.agg.volume, this.pVolume, k);
  }
  openInterest(k = 0): number {
    return this.at(this.agg.openInterest, this.pOi, k);
  }
  cvd(k = 0): number {
    return this.at(this.agg.cvd, this.pCvd, k);
  }
  last(field: Field, n: number): number[] {
    const out: number[] = [];
    for (let k = Math.min(n, this.length) - 1; k >= 0; k--) out.push(this[field](k));
    return out;
  }
}
