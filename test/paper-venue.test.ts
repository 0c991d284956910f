import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { drive } from '../src/engine/paper/driver.ts';
import { PaperRuntime, type PaperSettings, type RuntimeCandle } from '../src/engine/paper/runtime.ts';
import { createCcxtVenue } from '../src/exchange/ccxt/index.ts';
import { openStore, type Store } from '../src/store/db.ts';
import SmaCross from '../strategies/sma-cross.ts';
import { startBybitStub } from './stubs/bybit-trade.ts';
import type { TradeStub } from './stubs/trade-shared.ts';
import { quickRetry, stubSettings } from './venue-helpers.ts';

const BTC = 'BTC/USDT:USDT';

describe('paper runtime on a real venue (Bybit demo through ccxt → stub)', () => {
  let stub: TradeStub;
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    stub = await startBybitStub();
    dir = mkdtempSync(join(tmpdir(), 'halyard-pv-'));
    store = await openStore({ path: join(dir, 'h.db') });
  });
  afterAll(async () => {
    await stub.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends every fill as an order, books the venue\'s fills, and a restart places nothing twice', async () => {
    const c = syntheticCandles({ seed: 11, count: 900 });
    const settings = (): PaperSettings => ({
      runId: 'bybit-run',
      strategy: new SmaCross({ fast: 10, slow: 40, qty: 0.01, sl: 0.004, tp: 0.006 }),
      strategyName: 'SmaCross',
      strategyPath: 'strategies/sma-cross.ts',
      symbol: BTC,
      target: 'bybit:paper',
      timeframe: '1m',
      mode: 'replay',
      initialBalance: 10_000,
      leverage: 10,
      costs: { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 0, tick: 0.1, lot: 0.001 },
      fill: 'close',
      slTpPolicy: 'conservative',
      maintenanceMarginRate: 0.005,
      funding: 0,
      extra: {},
      publishEvents: false,
    });
    const open = async (clock: ManualClock) => {
      const venue = createCcxtVenue({ exchange: 'bybit', env: 'paper', credentials: { apiKey: 'bybit-key', secret: 'bybit-secret' }, ...stubSettings(stub.url, { retry: quickRetry() }) });
      return { venue, rt: await PaperRuntime.open(settings(), { db: store.db, clock, venue, market: null }) };
    };
    const clock = new ManualClock(c.ts[0]!);
    const candle = (i: number) => ({ ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: Number.NaN, cvd: Number.NaN });
    // The exchange's market follows the candles: each closes at the candle's close.
    let { venue, rt } = await open(clock);
    for (let i = 0; i < 500; i++) {
      clock.set(c.ts[i]! + 60_000);
      await stub.setPrice(BTC, c.close[i]!);
      await rt.process(candle(i));
    }
    await venue.close();
    // A new process: warm up to the cursor, then go on.
    ({ venue, rt } = await open(clock));
    expect(rt.isResumed).toBe(true);
    for (let i = 0; i < 900; i++) {
      clock.set(c.ts[i]! + 60_000);
      if (i < 500) rt.warm(candle(i));
      else {
        await stub.setPrice(BTC, c.close[i]!);
        await rt.process(candle(i));
      }
    }
    await venue.close();
    const orders = await store.db.selectFrom('run_orders').selectAll().where('run_id', '=', 'bybit-run').orderBy('candle_ts').orderBy('seq').execute();
    const creates = stub.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v5/order/create'));
    expect(rt.kernel.exec.trades.length).toBeGreaterThan(5);
    expect(orders.length).toBe(creates.length);
    expect(orders.every((o) => o.status === 'filled' && o.venue_order_id !== null && o.type === 'market')).toBe(true);
    // The venue's fills are what the run booked: entries at the venue's price.
    const first = orders.find((o) => o.reduce_only === 0)!;
    expect(first.fill_price).toBe(c.close[c.ts.indexOf(first.candle_ts)]);
    // The exchange holds what the run holds.
    const held = await stub.sim.fetchPositions([BTC]);
    expect(held.map((p) => [p.side, p.qty])).toEqual(rt.kernel.book.positions.map((p) => [p.side, p.qty]));
  }, 120_000);

  it('errors by category: a venue still down after its retries is tried once more on a reopened run; refused keys stop the run', async () => {
    // A fresh exchange account: the first test left a position on the stub's.
    await stub.close();
    stub = await startBybitStub();
    const c = syntheticCandles({ seed: 11, count: 300 });
    const rows: RuntimeCandle[] = [];
    for (let i = 0; i < c.length; i++) rows.push({ ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: 1, openInterest: Number.NaN, cvd: Number.NaN });
    const settings = (runId: string): PaperSettings => ({
      runId, strategy: new SmaCross({ fast: 5, slow: 20, qty: 0.01, sl: 0.004, tp: 0.006 }), strategyName: 'SmaCross', strategyPath: 'strategies/sma-cross.ts', symbol: BTC, target: 'bybit:paper',
      timeframe: '1m', mode: 'replay', initialBalance: 10_000, leverage: 10, costs: { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 0, tick: 0.1, lot: 0.001 },
      fill: 'close', slTpPolicy: 'conservative', maintenanceMarginRate: 0.005, funding: 0, extra: {}, publishEvents: false,
    });
    const clock = new ManualClock(c.ts[0]!);
    const open = (runId: string, apiKey = 'bybit-key') => {
      const venue = createCcxtVenue({ exchange: 'bybit', env: 'paper', credentials: { apiKey, secret: 'bybit-secret' }, ...stubSettings(stub.url, { retry: quickRetry([1, 1]) }) });
      return PaperRuntime.open(settings(runId), { db: store.db, clock, venue, market: null });
    };
    async function* feed(): AsyncGenerator<RuntimeCandle> {
      for (const r of rows) {
        clock.set(r.ts + 60_000);
        await stub.setPrice(BTC, r.close);
        yield r;
      }
    }
    // The exchange answers 500 to the next 8 order requests: the venue's own 4 attempts run out, the paper
    // executor looks the order up and tries once more (4 more), then the candle fails as recoverable: the
    // driver reopens the run from the store and processes the candle again, and this time it goes through.
    stub.clearFaults();
    const before = stub.requests.filter((r) => r.path.startsWith('/v5/order/create')).length;
    stub.failNext(8, '500', '/v5/order/create');
    const seen: { persisted: boolean; code: string }[] = [];
    const first = await open('flaky');
    const res = await drive(() => open('flaky'), first, feed(), [], new AbortController().signal, {
      onRecoverable: (e, persisted) => seen.push({ persisted, code: (e as { code?: string }).code ?? '' }),
    });
    expect(res.status).toBe('finished');
    expect(seen).toEqual([{ persisted: false, code: 'venue_unavailable' }]);
    const orders = await store.db.selectFrom('run_orders').selectAll().where('run_id', '=', 'flaky').execute();
    const creates = stub.requests.filter((r) => r.path.startsWith('/v5/order/create')).length - before;
    expect(orders.length).toBeGreaterThan(2);
    expect(orders.map((o) => o.status).filter((x) => x !== 'filled')).toEqual([]);
    expect(creates).toBe(orders.length + 8); // each order placed once; the 8 failed attempts placed nothing
    expect(res.runtime.kernel.exec.trades.length).toBe((await store.db.selectFrom('run_trades').select('position_id').where('run_id', '=', 'flaky').execute()).length);

    // Refused credentials are critical: the run stops as failed at its first order.
    const bad = await open('badkey', 'wrong-key');
    const stop = await drive(() => open('badkey', 'wrong-key'), bad, feed(), [], new AbortController().signal, { onRecoverable: () => undefined });
    expect(stop.status).toBe('failed');
    expect(String(stop.reason)).toMatch(/key|auth|credential/i);
  }, 120_000);
});
