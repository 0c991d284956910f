import type { Columns, Cursor, Indicator } from './indicators.ts';

/** Default bound of a cache: 256 MiB of series (about 60 series of a year of 1m candles). */
const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

/**
 * Indicator series over one set of candle columns, shared by the runs of a parameter sweep: the first
 * indicator of a key (SMA(50) on close) computes its whole series, every later one with the same key reads
 * it. Least recently used series are dropped past `maxBytes`.
 */
export class SeriesCache {
  private readonly map = new Map<string, Float64Array>();
  private bytes = 0;
  /** Series read from the cache, and series computed (benchmarks print them). */
  hits = 0;
  misses = 0;

  constructor(
    readonly columns: Columns,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /**
   * Makes `ind` read the shared series of its key over `cols` at `cursor`, computing it first when the
   * cache has none; false (nothing done) when `cols` are not this cache's columns or `ind` cannot be shared.
   */
  adopt(ind: Indicator, cols: Columns, cursor: Cursor): boolean {
    if (cols !== this.columns) return false;
    const key = ind.shareKey();
    if (key === null) return false;
    let series = this.map.get(key);
    if (series !== undefined) {
      this.hits++;
      this.map.delete(key); // re-inserted below: the most recently used is last
    } else {
      this.misses++;
      ind.precompute(cols, cursor);
      series = ind.precomputedSeries as Float64Array;
      this.bytes += series.byteLength;
      for (const [k, s] of this.map) {
        if (this.bytes <= this.maxBytes) break;
        this.map.delete(k);
        this.bytes -= s.byteLength;
      }
    }
    this.map.set(key, series);
    ind.adoptSeries(series, cursor);
    return true;
  }
}
