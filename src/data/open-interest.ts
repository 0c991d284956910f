import type { Exchange } from 'ccxt';
import { isHalyardError } from '../core/errors.ts';
import { bucketStart, TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import type { TimeRange } from './fetch-ranges.ts';

/** What became of open interest in a fetch: `fetched`, `skipped` (--no-oi), `unsupported` by the exchange, or `unavailable` (it refused). */
export interface OpenInterestSummary {
  readonly status: 'fetched' | 'skipped' | 'unsupported' | 'unavailable';
  /** Sampling period of the exchange's history used. */
  readonly period?: Timeframe;
  /** Points received. */
  readonly points: number;
  /** Time of the earliest point received, epoch ms. */
  readonly first?: number;
  /** Why there is less than asked: the exchange's error, or where its history ended. */
  readonly reason?: string;
}

/** Summary of two successive (older, then newer) open-interest fetches of one run. */
export function combineOpenInterest(a: OpenInterestSummary, b: OpenInterestSummary): OpenInterestSummary {
  const points = a.points + b.points;
  const first = a.first ?? b.first;
  const reason = b.reason ?? a.reason;
  const status = points > 0 ? 'fetched' : b.status;
  const period = b.period ?? a.period;
  return { status, points, ...(period ? { period } : {}), ...(first !== undefined ? { first } : {}), ...(reason !== undefined ? { reason } : {}) };
}

/** Open-interest history points sorted by time: `ts` epoch ms, `value` in base units. */
export interface OpenInterestPoints {
  readonly ts: number[];
  readonly value: number[];
}

/** Periods each exchange's open-interest history offers (none finer than 5m), and points per request. */
const OI_HISTORY: Readonly<Record<string, { readonly periods: readonly Timeframe[]; readonly limit: number }>> = {
  binance: { periods: ['5m', '15m', '30m', '1h', '2h', '4h', '6h', '12h', '1d'], limit: 500 },
  bybit: { periods: ['5m', '15m', '30m', '1h', '4h', '1d'], limit: 200 },
};
const DEFAULT_OI = { periods: ['5m', '15m', '30m', '1h', '4h', '1d'] as readonly Timeframe[], limit: 200 };

/** The coarsest offered period not coarser than `tf` (5m for 1m and 3m candles). */
export function openInterestPeriod(tf: Timeframe, periods: readonly Timeframe[]): Timeframe {
  let best = periods[0] ?? '5m';
  for (const p of periods) if (TIMEFRAME_MS[p] <= TIMEFRAME_MS[tf]) best = p;
  return best;
}

/**
 * Open-interest history covering `ranges` (candle open times), walking back from the newest range in
 * windows of the exchange's page size, so that a history limited to recent data (binance keeps about a
 * month) yields what exists: the walk stops at the first empty window or at an error that retrying would
 * not cure. `call` wraps each request (retries, counting).
 */
export async function fetchOpenInterestHistory(
  exchange: Exchange,
  symbol: string,
  tf: Timeframe,
  ranges: readonly TimeRange[],
  call: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
): Promise<{ points: OpenInterestPoints; summary: OpenInterestSummary }> {
  const empty: OpenInterestPoints = { ts: [], value: [] };
  if (!exchange.has.fetchOpenInterestHistory) {
    return { points: empty, summary: { status: 'unsupported', points: 0, reason: `${exchange.id} has no open-interest history in ccxt` } };
  }
  const cfg = OI_HISTORY[exchange.id] ?? DEFAULT_OI;
  const period = openInterestPeriod(tf, cfg.periods);
  const pms = TIMEFRAME_MS[period];
  const chunks: OpenInterestPoints[] = [];
  let reason: string | undefined;
  walk: for (let k = ranges.length - 1; k >= 0; k--) {
    const r = ranges[k] as TimeRange;
    // From the period bucket holding the first candle, so that candle has a point at or before it.
    const start = bucketStart(r.from, period);
    for (let end = r.to; end > start; ) {
      const since = Math.max(start, end - cfg.limit * pms);
      let got;
      try {
        got = await call('open-interest history', () => exchange.fetchOpenInterestHistory(symbol, period, since, cfg.limit, { until: end - 1 }));
      } catch (e) {
        if (isHalyardError(e, 'unauthorized') || isHalyardError(e, 'rate_limited')) throw e;
        reason = (e as Error).message;
        break walk;
      }
      const ts: number[] = [];
      const value: number[] = [];
      for (const p of got) {
        const v = p.openInterestAmount ?? p.baseVolume;
        if (p.timestamp === undefined || v === undefined || p.timestamp < since || p.timestamp >= end) continue;
        ts.push(p.timestamp);
        value.push(v);
      }
      if (ts.length === 0) {
        reason = `no open interest before ${new Date(end).toISOString()} (the exchange's history ends there)`;
        break walk;
      }
      chunks.push({ ts, value });
      end = since;
    }
  }
  // Chunks were gathered newest first; each is ascending within.
  const points: OpenInterestPoints = { ts: [], value: [] };
  for (const c of chunks.reverse()) {
    const order = c.ts.map((_, i) => i).sort((a, b) => (c.ts[a] as number) - (c.ts[b] as number));
    for (const i of order) {
      if (points.ts.length > 0 && (c.ts[i] as number) <= (points.ts.at(-1) as number)) continue;
      points.ts.push(c.ts[i] as number);
      points.value.push(c.value[i] as number);
    }
  }
  const n = points.ts.length;
  const status = n === 0 && reason !== undefined ? 'unavailable' : 'fetched';
  const summary: OpenInterestSummary = { status, period, points: n, ...(n > 0 ? { first: points.ts[0] } : {}), ...(reason !== undefined ? { reason } : {}) };
  return { points, summary };
}
