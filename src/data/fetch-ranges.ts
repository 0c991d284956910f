import { lowerBound } from '../core/candles.ts';

/** A half-open range of candle open times `[from, to)`, epoch ms. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

/**
 * Open times in `[from, to)` (a grid of `step` ms starting at `from`) that `cached` (sorted open times)
 * lacks, as contiguous ranges: what a resumed fetch still has to ask for.
 */
export function missingRanges(cached: Float64Array, from: number, to: number, step: number): TimeRange[] {
  const out: TimeRange[] = [];
  let i = lowerBound(cached, from);
  let t = from;
  while (t < to) {
    while (i < cached.length && (cached[i] as number) < t) i++;
    if (i < cached.length && cached[i] === t) {
      t += step;
      i++;
      continue;
    }
    // A hole from t up to the next cached open time on the grid (or the end).
    const next = i < cached.length ? Math.min(to, cached[i] as number) : to;
    const end = Math.min(to, t + Math.max(step, Math.ceil((next - t) / step) * step));
    out.push({ from: t, to: end });
    t = end;
  }
  return out;
}

/** Splits `range` into request windows of at most `limit` bars of `step` ms, oldest first. */
export function pageWindows(range: TimeRange, step: number, limit: number): TimeRange[] {
  const out: TimeRange[] = [];
  for (let a = range.from; a < range.to; a += limit * step) out.push({ from: a, to: Math.min(range.to, a + limit * step) });
  return out;
}

/** Request windows of all `ranges` grouped so that each group holds at most about `chunkBars` bars (at least one window). */
export function chunkWindows(ranges: readonly TimeRange[], step: number, limit: number, chunkBars: number): TimeRange[][] {
  const out: TimeRange[][] = [];
  let cur: TimeRange[] = [];
  let bars = 0;
  for (const r of ranges) {
    for (const w of pageWindows(r, step, limit)) {
      const n = Math.round((w.to - w.from) / step);
      if (cur.length > 0 && bars + n > chunkBars) {
        out.push(cur);
        cur = [];
        bars = 0;
      }
      cur.push(w);
      bars += n;
    }
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Adjacent windows joined back into ranges. */
export function joinWindows(windows: readonly TimeRange[]): TimeRange[] {
  const out: TimeRange[] = [];
  for (const w of windows) {
    const last = out.at(-1);
    if (last && last.to === w.from) out[out.length - 1] = { from: last.from, to: w.to };
    else out.push(w);
  }
  return out;
}

/** Bars of `step` ms in the ranges. */
export function barsIn(ranges: readonly TimeRange[], step: number): number {
  return ranges.reduce((n, r) => n + Math.ceil((r.to - r.from) / step), 0);
}

/**
 * Writes into `out[i]` the latest open-interest value whose time is at or before `candleTs[i]` (points
 * sorted by time), NaN where no point is that early. Returns how many candles got a value.
 */
export function alignOpenInterest(candleTs: Float64Array, pointTs: readonly number[], values: readonly number[], out: Float64Array): number {
  let j = -1;
  let filled = 0;
  for (let i = 0; i < candleTs.length; i++) {
    const t = candleTs[i] as number;
    while (j + 1 < pointTs.length && (pointTs[j + 1] as number) <= t) j++;
    out[i] = j >= 0 ? (values[j] as number) : Number.NaN;
    if (j >= 0) filled++;
  }
  return filled;
}
