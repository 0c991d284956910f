// `fetchHistory` and `halyard data fetch` against a Binance USDⓈ-M stub on loopback: real ccxt, real HTTP,
// real Parquet files; time and jitter injected.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from 'ccxt';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { computeCvd, rangeCandles, sliceCandles, type CandleColumns } from '../src/core/candles.ts';
import { isHalyardError } from '../src/core/errors.ts';
import { cachePath, mergeCandles, readCacheMeta, readCandles, writeCandles } from '../src/data/cache.ts';
import { exchangeUrlOverride } from '../src/config.ts';
import { createMarketDataExchange } from '../src/data/ccxt-exchange.ts';
import { backoffDelay } from '../src/data/retry.ts';
import { fetchHistory, type FetchHistoryOptions, type FetchSummary } from '../src/data/fetch.ts';
import { SeededRandom } from '../src/core/rng.ts';
import { runHalyard } from './cli-run.ts';
import { authError, BinanceMarketStub, rateLimited, serverError } from './stubs/binance-market.ts';
import { stubSeries, type StubSeries } from './stubs/market-stub-kit.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const SYMBOL = 'BTC/USDT:USDT';
const KLINES = '/fapi/v1/klines';
/** Open interest exists from 10 h into the series (the exchange keeps limited history). */
const OI_FROM = T0 + 600 * M;
const series: StubSeries = stubSeries(3000, T0);

let stub: BinanceMarketStub;
let dir = '';
let cacheRoot = '';
let exchange: Exchange;
let sleeps: number[] = [];

beforeAll(async () => {
  stub = await BinanceMarketStub.start({ series, oiFrom: OI_FROM });
  dir = await mkdtemp(join(tmpdir(), 'halyard-fetch-'));
});
afterAll(async () => {
  await stub.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  cacheRoot = await mkdtemp(join(dir, 'cache-'));
  exchange = createMarketDataExchange('binance', { urls: stub.url, rateLimit: 1, timeout: 300 });
  sleeps = [];
  stub.http.reset();
});
afterEach(async () => {
  await exchange.close();
});

/** fetchHistory on the stub with a clock far past the series, recorded (instant) sleeps and a seeded jitter. */
function fetch(over: Partial<FetchHistoryOptions> = {}): Promise<FetchSummary> {
  return fetchHistory({
    exchange,
    symbol: SYMBOL,
    timeframe: '1m',
    from: T0,
    to: T0 + 2500 * M,
    cacheRoot,
    limit: 1000,
    clock: { now: () => Date.UTC(2025, 0, 1) },
    retry: { sleep: async (ms) => void sleeps.push(ms), random: () => new SeededRandom(3).next() },
    backoff: { attempts: 4, baseMs: 100, maxMs: 1_000 },
    ...over,
  });
}

/** Rows [a, b) of the stub's series with the CVD an exact fetch of exactly those rows computes. */
function expected(a: number, b: number): CandleColumns {
  const c = sliceCandles(series.candles, a, b);
  const out = { ...c, cvd: new Float64Array(b - a) };
  computeCvd(out, series.takerBuy.subarray(a, b));
  return out;
}

/** `c` without rows [a, b), each kept row keeping its own per-bar CVD delta (as a cache with that hole would hold). */
function withoutRows(c: CandleColumns, a: number, b: number): CandleColumns {
  const head = sliceCandles(c, 0, a);
  const tail = sliceCandles(c, b, c.length);
  const rebased = { ...tail, cvd: tail.cvd.map((v) => v - (c.cvd[b - 1] as number)) };
  return mergeCandles(head, rebased);
}

const path = (): string => cachePath(cacheRoot, 'binance', SYMBOL, '1m');
const klineWindows = (): [number, number][] => stub.klineRequests.map((r) => [Number(r.query.startTime), Number(r.query.endTime)]);

function expectOhlcv(got: CandleColumns, want: CandleColumns): void {
  expect(got.length).toBe(want.length);
  for (const f of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) expect(Array.from(got[f]), f).toEqual(Array.from(want[f]));
}

describe('fetchHistory (binance USDⓈ-M stub)', () => {
  it('pages through the range into the cache: the file equals the series, CVD exact from taker-buy volume, OI aligned', async () => {
    const s = await fetch();
    expect(klineWindows()).toEqual([
      [T0, T0 + 1000 * M - 1],
      [T0 + 1000 * M, T0 + 2000 * M - 1],
      [T0 + 2000 * M, T0 + 2500 * M - 1],
    ]); // ceil(2500 / 1000) requests
    expect(s).toMatchObject({ rowsFetched: 2500, cacheRows: 2500, cvd: 'exact', cacheCvd: 'exact', gaps: [], missing: [{ from: T0, to: T0 + 2500 * M }] });
    expect(s.requests).toEqual({ candles: 3, openInterest: 1, retries: 0 });
    const got = await readCandles(path());
    const want = expected(0, 2500);
    expectOhlcv(got, want);
    expect(Array.from(got.cvd)).toEqual(Array.from(want.cvd));
    // Taker-buy CVD differs from the sign approximation the synthetic series itself carries.
    expect(got.cvd[2499]).not.toBe(series.candles.cvd[2499]);
    expect(await readCacheMeta(path())).toMatchObject({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', cvd: 'exact', rows: 2500 });
    // Open interest: the 5m point at or before each candle, NaN before the exchange's history starts.
    expect(s.openInterest).toEqual({ status: 'fetched', period: '5m', points: 380, first: OI_FROM });
    for (let i = 0; i < 2500; i++) {
      const ts = T0 + i * M;
      const at = Math.floor(i / 5) * 5; // row of the 5m point at or before
      const oi = ts < OI_FROM ? Number.NaN : (series.candles.openInterest[at] as number);
      if (!Object.is(got.openInterest[i], oi)) expect.fail(`open interest at row ${i}: ${got.openInterest[i]} ≠ ${oi}`);
    }
  });

  it('resumes: a second run requests no candles; a deleted middle slice and a wider range fetch only what is missing', async () => {
    await fetch();
    stub.http.reset();
    const again = await fetch();
    expect(stub.count(KLINES)).toBe(0);
    expect(again).toMatchObject({ rowsFetched: 0, missing: [], cacheRows: 2500, requests: { candles: 0, openInterest: 0, retries: 0 } });

    // Cut rows 1200..1499 out of the file.
    await writeCandles(path(), withoutRows(await readCandles(path()), 1200, 1500), { exchange: 'binance', symbol: SYMBOL, timeframe: '1m', cvd: 'exact' });
    stub.http.reset();
    const healed = await fetch();
    expect(klineWindows()).toEqual([[T0 + 1200 * M, T0 + 1500 * M - 1]]);
    expect(healed).toMatchObject({ rowsFetched: 300, cacheRows: 2500, missing: [{ from: T0 + 1200 * M, to: T0 + 1500 * M }], gaps: [] });
    const back = await readCandles(path());
    expectOhlcv(back, expected(0, 2500));
    // CVD is rebuilt from per-bar deltas across the seams: equal up to float rounding.
    const want = expected(0, 2500).cvd;
    back.cvd.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThan(1e-6));

    // A wider range: only the part after the cached end is requested.
    stub.http.reset();
    const wider = await fetch({ to: T0 + 3000 * M });
    expect(klineWindows()).toEqual([[T0 + 2500 * M, T0 + 3000 * M - 1]]);
    expect(wider).toMatchObject({ rowsFetched: 500, cacheRows: 3000 });
    expectOhlcv(await readCandles(path()), expected(0, 3000));
  });

  it('keeps what an interrupted run fetched (written every checkpoint) and resumes after it', async () => {
    // The third page fails (two zero-delay passes first).
    stub.inject(KLINES, ...[0, 1].map(() => ({ kind: 'delay' as const, ms: 0 })), authError);
    const err = await fetch({ checkpointBars: 1000 }).catch((e: unknown) => e);
    expect(isHalyardError(err, 'unauthorized')).toBe(true);
    expect((await readCandles(path())).length).toBe(2000);
    stub.http.reset();
    const resumed = await fetch({ checkpointBars: 1000 });
    expect(klineWindows()).toEqual([[T0 + 2000 * M, T0 + 2500 * M - 1]]);
    expect(resumed).toMatchObject({ rowsFetched: 500, cacheRows: 2500 });
    expectOhlcv(await readCandles(path()), expected(0, 2500));
  });

  it('reports bars the exchange does not have as gaps, and stores only closed candles', async () => {
    const s = await fetch({ from: T0 - 10 * M, to: T0 + 100 * M, clock: { now: () => T0 + 60.5 * M } });
    expect(s).toMatchObject({ from: T0 - 10 * M, to: T0 + 60 * M, rowsFetched: 60 });
    expect(s.gaps).toEqual([{ from: T0 - 10 * M, to: T0, count: 10 }]);
    expect(klineWindows()).toEqual([[T0 - 10 * M, T0 + 60 * M - 1]]);
  });

  it('retries a 429 twice, waiting at least the Retry-After, then succeeds', async () => {
    stub.inject(KLINES, rateLimited(2), rateLimited(0));
    const s = await fetch({ to: T0 + 500 * M, openInterest: false, backoff: { attempts: 4, baseMs: 100, maxMs: 5_000 } });
    expect(stub.count(KLINES)).toBe(3);
    expect(s).toMatchObject({ rowsFetched: 500, requests: { candles: 3, openInterest: 0, retries: 2 } });
    // Backoff up to 100 ms then up to 200 ms (full jitter, seeded), the first stretched to the 2 s Retry-After.
    expect(sleeps[0]).toBe(2000);
    expect(sleeps[1]).toBe(backoffDelay({ attempts: 4, baseMs: 100, maxMs: 5_000 }, 2, () => new SeededRandom(3).next()));
    expect(sleeps[1]).toBeLessThan(200);
    expect(s.openInterest.status).toBe('skipped');
  });

  it('retries a 500 and a response slower than the timeout; gives up after the last try with rate_limited', async () => {
    stub.inject(KLINES, serverError, { kind: 'delay', ms: 800 });
    const s = await fetch({ to: T0 + 100 * M, openInterest: false });
    expect(s).toMatchObject({ rowsFetched: 100, requests: { candles: 3, retries: 2 } });

    stub.inject(KLINES, rateLimited(0), rateLimited(0), rateLimited(0), rateLimited(0));
    const err = await fetch({ from: T0 + 100 * M, to: T0 + 200 * M }).catch((e: unknown) => e);
    expect(isHalyardError(err, 'rate_limited')).toBe(true);
    expect((err as Error).message).toMatch(/failed after 4 attempts/);
  });

  it('does not retry an authentication error (401, -2015) and says so', async () => {
    stub.inject(KLINES, authError);
    const err = await fetch().catch((e: unknown) => e);
    expect(isHalyardError(err, 'unauthorized')).toBe(true);
    expect((err as Error).message).toMatch(/not retried/);
    expect((err as Error).message).toContain('-2015');
    expect(stub.count(KLINES)).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('refuses a symbol the exchange does not list, naming what it has, before any candle request', async () => {
    const err = await fetch({ symbol: 'ETH/USDT:USDT' }).catch((e: unknown) => e);
    expect(isHalyardError(err, 'invalid_input')).toBe(true);
    expect((err as Error).message).toMatch(/binance has no market ETH\/USDT:USDT.*BTC\/USDT:USDT/);
    expect(stub.count(KLINES)).toBe(0);
  });

  it('keeps the candles when open interest is refused or unsupported, and says so', async () => {
    stub.inject('/futures/data/openInterestHist', { kind: 'status', status: 400, body: { code: -1130, msg: "Data sent for parameter 'startTime' is not valid." } });
    const refused = await fetch({ to: T0 + 100 * M });
    expect(refused.rowsFetched).toBe(100);
    expect(refused.openInterest).toMatchObject({ status: 'unavailable', points: 0 });
    expect(refused.openInterest.reason).toContain('-1130');
    expect((await readCandles(path())).openInterest.every(Number.isNaN)).toBe(true);

    exchange.has.fetchOpenInterestHistory = false; // as on hyperliquid
    const unsupported = await fetch({ from: T0 + 100 * M, to: T0 + 200 * M });
    expect(unsupported.openInterest).toMatchObject({ status: 'unsupported', points: 0 });
    expect(stub.count('/futures/data/openInterestHist')).toBe(1);
  });
});

describe('market-data exchange settings', () => {
  it('refuses an unsupported exchange and a malformed HALYARD_EXCHANGE_URL_<EXCHANGE>', () => {
    expect(() => createMarketDataExchange('kraken')).toThrow(/exchange "kraken" is not supported for market data; use one of binance, bybit, hyperliquid/);
    expect(exchangeUrlOverride('binance', { HALYARD_EXCHANGE_URL_BINANCE: 'http://127.0.0.1:9/' })).toBe('http://127.0.0.1:9');
    expect(exchangeUrlOverride('bybit', { HALYARD_EXCHANGE_URL_BINANCE: 'http://127.0.0.1:9' })).toBeUndefined();
    expect(() => exchangeUrlOverride('binance', { HALYARD_EXCHANGE_URL_BINANCE: 'not a url' })).toThrow(/HALYARD_EXCHANGE_URL_BINANCE: must be a base URL/);
  });

  it('points every REST URL (and with ws, every websocket URL) at the override', () => {
    const rest = createMarketDataExchange('binance', { urls: 'http://127.0.0.1:9' });
    const api = rest.urls.api as Record<string, unknown>;
    expect(api.fapiPublic).toBe('http://127.0.0.1:9/fapi/v1');
    expect(api.fapiData).toBe('http://127.0.0.1:9/futures/data');
    const ws = createMarketDataExchange('binance', { urls: 'http://127.0.0.1:9', ws: true });
    expect((ws.urls.api as { ws: Record<string, unknown> }).ws.future).toBe('ws://127.0.0.1:9/ws');
    const bybit = createMarketDataExchange('bybit', { urls: 'http://127.0.0.1:9' });
    expect(Object.values(bybit.urls.api as Record<string, unknown>).every((u) => typeof u !== 'string' || u.startsWith('http://127.0.0.1:9'))).toBe(true);
  });
});

describe('halyard data fetch (the real CLI, HALYARD_EXCHANGE_URL_BINANCE → stub)', () => {
  it('fetches a day into --cache-dir as JSON, then a longer range fetches only the missing hour (text output)', async () => {
    const cache = join(dir, 'cli-cache');
    const args = ['data', 'fetch', '--exchange', 'binance', '--symbol', SYMBOL, '--timeframe', '1m', '--from', '2024-01-01', '--to', '2024-01-02', '--cache-dir', cache, '--json'];
    const env = { HALYARD_EXCHANGE_URL_BINANCE: stub.url, CACHE_PATH: join(dir, 'unused') };
    const first = await runHalyard(args, env);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const s = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(s).toMatchObject({
      exchange: 'binance',
      symbol: SYMBOL,
      rowsFetched: 1440,
      cacheRows: 1440,
      requests: { candles: 2, openInterest: 1, retries: 0 },
      ranges: [{ from: '2024-01-01T00:00:00.000Z', to: '2024-01-02T00:00:00.000Z' }],
      cvd: 'exact',
      openInterest: { status: 'fetched', period: '5m' },
      gaps: [],
    });
    const file = cachePath(cache, 'binance', SYMBOL, '1m');
    expect(s.path).toBe(file);
    expectOhlcv(await readCandles(file), expected(0, 1440));
    expect(stub.count(KLINES)).toBe(2);

    // Resumed through the CLI: one more hour needs one request of 60 candles.
    const text = await runHalyard(['data', 'fetch', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2024-01-01', '--to', '2024-01-02T01:00', '--cache-dir', cache, '--no-oi'], env);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^fetched {2}60 rows of binance BTC\/USDT:USDT 1m in 1 request \(0 retries\)$/m);
    expect(text.stdout).toMatch(/^cvd {6}exact, from taker-buy volume$/m);
    expect(text.stdout).toMatch(/^oi {7}skipped \(--no-oi\)$/m);
    expect(stub.count(KLINES)).toBe(3);
    expect(rangeCandles(await readCandles(file), T0, T0 + 1500 * M).length).toBe(1500);
  });

  it('names the problem for an unknown symbol (exit code 2)', async () => {
    const env = { HALYARD_EXCHANGE_URL_BINANCE: stub.url, CACHE_PATH: join(dir, 'cli-errors') };
    const sym = await runHalyard(['data', 'fetch', '--exchange', 'binance', '--symbol', 'ETH/USDT:USDT', '--from', '2024-01-01', '--to', '2024-01-02'], env);
    expect(sym.code).toBe(2);
    expect(sym.stderr).toBe('error [invalid_input]: binance has no market ETH/USDT:USDT among its 1 perpetual markets; e.g. BTC/USDT:USDT\n');
  });
});
