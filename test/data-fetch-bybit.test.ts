// `fetchHistory` on bybit (linear) through ccxt's unified fetchOHLCV against a Bybit v5 stub on loopback:
// no taker-buy volume, so CVD is the `volume × sign(close − open)` approximation; open interest from
// /v5/market/open-interest.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sliceCandles } from '../src/core/candles.ts';
import { cachePath, readCacheMeta, readCandles } from '../src/data/cache.ts';
import { createMarketDataExchange } from '../src/data/ccxt-exchange.ts';
import { fetchHistory } from '../src/data/fetch.ts';
import { BybitMarketStub } from './stubs/bybit-market.ts';
import { stubSeries } from './stubs/market-stub-kit.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const SYMBOL = 'BTC/USDT:USDT';
const series = stubSeries(2000, T0, 5);

let stub: BybitMarketStub;
let dir = '';
let exchange: Exchange;

beforeAll(async () => {
  stub = await BybitMarketStub.start(series);
  dir = await mkdtemp(join(tmpdir(), 'halyard-fetch-bybit-'));
  exchange = createMarketDataExchange('bybit', { urls: stub.url, rateLimit: 1 });
});
afterAll(async () => {
  await exchange.close();
  await stub.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fetchHistory (bybit linear stub)', () => {
  it('pages newest-first klines into the cache with approximate CVD and 5m open interest, then resumes with no requests', async () => {
    const run = () =>
      fetchHistory({ exchange, symbol: SYMBOL, timeframe: '1m', from: T0, to: T0 + 1500 * M, cacheRoot: dir, clock: { now: () => Date.UTC(2025, 0, 1) } });
    const s = await run();
    expect(stub.count('/v5/market/kline')).toBe(2); // ceil(1500 / 1000)
    expect(s).toMatchObject({ exchange: 'bybit', rowsFetched: 1500, cvd: 'approximate', cacheCvd: 'approximate', gaps: [] });
    // 300 points of 5m, 200 per request, walked back from the end of the range.
    expect(s.openInterest).toEqual({ status: 'fetched', period: '5m', points: 300, first: T0 });
    expect(s.requests).toEqual({ candles: 2, openInterest: 2, retries: 0 });

    const path = cachePath(dir, 'bybit', SYMBOL, '1m');
    const got = await readCandles(path);
    const want = sliceCandles(series.candles, 0, 1500);
    // The synthetic series carries the same approximation from its first row: CVD equal exactly.
    for (const f of ['ts', 'open', 'high', 'low', 'close', 'volume', 'cvd'] as const) expect(Array.from(got[f]), f).toEqual(Array.from(want[f]));
    for (let i = 0; i < 1500; i++) {
      const oi = series.candles.openInterest[Math.floor(i / 5) * 5];
      if (got.openInterest[i] !== oi) expect.fail(`open interest at row ${i}: ${got.openInterest[i]} ≠ ${oi}`);
    }
    expect(await readCacheMeta(path)).toMatchObject({ exchange: 'bybit', cvd: 'approximate' });

    const again = await run();
    expect(again).toMatchObject({ rowsFetched: 0, requests: { candles: 0, openInterest: 0 } });
    expect(stub.count('/v5/market/kline')).toBe(2);
  });
});
