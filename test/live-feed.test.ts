// LiveCandleFeed on ccxt pro's watchOHLCV against the Binance USDⓈ-M stub's kline websocket on loopback:
// the stub streams a known series (several in-progress updates per candle, then the next candle), drops
// the socket mid-stream while it keeps producing candles, and the feed must deliver exactly the closed
// sequence. The stub's clock is the feed's clock.
import type { Exchange } from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { createMarketDataExchange } from '../src/data/ccxt-exchange.ts';
import { LiveCandleFeed, type LiveCandle, type LiveCandleFeedOptions, type LiveFeedEvent } from '../src/data/live-feed.ts';
import { BinanceMarketStub } from './stubs/binance-market.ts';
import { stubSeries } from './stubs/market-stub-kit.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const SYMBOL = 'BTC/USDT:USDT';
const series = stubSeries(100, T0);

/** Candle `i` of the stub's series as the feed should deliver it (final values). */
function closed(i: number): LiveCandle {
  const c = series.candles;
  return { ts: c.ts[i] as number, open: c.open[i] as number, high: c.high[i] as number, low: c.low[i] as number, close: c.close[i] as number, volume: c.volume[i] as number };
}
const closedRange = (a: number, b: number): LiveCandle[] => Array.from({ length: b - a }, (_, k) => closed(a + k));

/** Polls `cond` every 5 ms until it holds (fails after 5 s, saying what was awaited). */
async function until(what: string, cond: () => boolean): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 5_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Running {
  readonly stub: BinanceMarketStub;
  readonly exchange: Exchange;
  readonly feed: LiveCandleFeed;
  readonly delivered: LiveCandle[];
  readonly events: LiveFeedEvent[];
  /** Settles when the iteration ends (rejects with its error). */
  readonly done: Promise<void>;
}

const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.feed.close();
    await r.done.catch(() => undefined);
    await r.stub.close();
  }
});

/** A stub at `time` (then `prepare`d), a ccxt pro exchange on it, and a feed being iterated into `delivered`. */
async function start(time: number, over: Partial<LiveCandleFeedOptions> = {}, prepare?: (stub: BinanceMarketStub) => void): Promise<Running> {
  const stub = await BinanceMarketStub.start({ series, time });
  prepare?.(stub);
  const exchange = createMarketDataExchange('binance', { urls: stub.url, ws: true, rateLimit: 1 });
  const events: LiveFeedEvent[] = [];
  const feed = new LiveCandleFeed({
    exchange,
    symbol: SYMBOL,
    timeframe: '1m',
    clock: stub,
    pollMs: 10,
    backoff: { attempts: 10, baseMs: 50, maxMs: 200 },
    onEvent: (e) => events.push(e),
    ...over,
  });
  const delivered: LiveCandle[] = [];
  const done = (async () => {
    for await (const c of feed) delivered.push(c);
  })();
  const r = { stub, exchange, feed, delivered, events, done };
  running.push(r);
  return r;
}

describe('LiveCandleFeed (binance USDⓈ-M stub)', () => {
  it('delivers every closed candle once, in order, across a dropped websocket, backfilling what it missed over REST', async () => {
    // Candles 0..2 closed before the feed starts: `since` makes it backfill them over REST first.
    const { stub, feed, delivered, events, done } = await start(T0 + 1, { since: T0, closeGraceMs: 3_600_000 }, (s) => s.streamTo(3));
    await until('the subscription', () => stub.subscribers === 1);
    expect(stub.subscribes).toEqual([{ method: 'SUBSCRIBE', params: ['btcusdt@kline_1m'], id: expect.any(Number) }]);
    stub.streamTo(6); // candle 3 (joined mid-way), 4, 5 close; 6 is forming
    await until('candles 0..5', () => delivered.length === 6);
    expect(delivered).toEqual(closedRange(0, 6));

    // Drop the connection; the exchange goes on: candles 6..9 close while nobody listens.
    const restBefore = stub.klineRequests.length;
    stub.dropWebSockets();
    stub.streamTo(10);
    await until('the reconnection', () => stub.subscribers === 1);
    stub.streamTo(13);
    await until('candles 0..12', () => delivered.length >= 13);
    expect(delivered).toEqual(closedRange(0, 13)); // no gap, no duplicate, final values
    expect(stub.connections).toHaveLength(2);

    const afterDrop = stub.klineRequests.slice(restBefore);
    expect(afterDrop.map((r) => [Number(r.query.startTime), r.rows])).toEqual([[T0 + 6 * M, 4]]);
    expect(events.map((e) => e.kind)).toEqual(['backfill', 'reconnect', 'backfill']);
    expect(events[0]).toEqual({ kind: 'backfill', from: T0, to: T0 + 3 * M, candles: 3 });
    expect(events[1]).toMatchObject({ kind: 'reconnect', attempt: 1, error: expect.stringMatching(/connection closed/) });
    expect(events[2]).toEqual({ kind: 'backfill', from: T0 + 6 * M, to: T0 + 10 * M, candles: 4 });

    await feed.close();
    await done;
    expect(delivered).toHaveLength(13);
  });

  it('closes a candle by the clock when no later one comes, taking its final values over REST, and ignores its late updates', async () => {
    const { stub, exchange, delivered, events } = await start(T0 + 1, { closeGraceMs: 100 });
    await until('the subscription', () => stub.subscribers === 1);
    stub.stream(2); // two in-progress updates of candle 0
    await until('the partial candle in ccxt', () => (exchange.ohlcvs[SYMBOL]?.['1m']?.length ?? 0) === 1);
    const partial = exchange.ohlcvs[SYMBOL]?.['1m']?.[0] as number[];
    expect(partial[4]).not.toBe(closed(0).close);

    stub.setTime(T0 + M + 150); // past the close and the grace, no candle 1 yet
    await until('candle 0', () => delivered.length === 1);
    expect(delivered).toEqual([closed(0)]);
    expect(stub.klineRequests.map((r) => [Number(r.query.startTime), r.rows])).toEqual([[T0, 1]]);
    expect(events).toEqual([{ kind: 'backfill', from: T0, to: T0 + M, candles: 1 }]);

    stub.streamTo(3); // candle 0's remaining (late) updates, then 1, 2 and the start of 3
    await until('candles 1 and 2', () => delivered.length >= 3);
    expect(delivered).toEqual(closedRange(0, 3));
  });
});
