// The example strategy that uses what strategies can say (strategies/breakout-trail.ts) on the shared real
// Binance data: resting stop entries that expire or are canceled, risk sizing, a take-profit ladder and a
// trailing stop, plotted series, a warm-up — and the same trades through the paper runtime.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sliceCandles, lowerBound, type CandleColumns } from '../src/core/candles.ts';
import { ManualClock } from '../src/core/ports.ts';
import { parseKlineCsv } from '../src/data/index.ts';
import { runBacktest, type BacktestInput } from '../src/engine/backtest.ts';
import { PaperRuntime } from '../src/engine/paper/runtime.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import type { Store } from '../src/store/db.ts';
import { warmupOf } from '../src/strategy/strategy.ts';
import BreakoutTrail from '../strategies/breakout-trail.ts';
import { DIALECTS } from './db.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const M1_FILE = join(ROOT, '..', 'shared', 'data', 'binance-spot-BTCUSDT-1m-365d.csv.gz');
const SYMBOL = 'BTC/USDT:USDT';
const COSTS = { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 1, tick: 0.1, lot: 0.001 };
const DAY = 86_400_000;

describe.skipIf(!existsSync(M1_FILE))('breakout-trail on real BTC data', () => {
  let year: CandleColumns;
  beforeAll(async () => {
    year = (await parseKlineCsv(M1_FILE, '1m')).candles;
  }, 60_000);

  /** `days` of candles from `start` after the strategy's warm-up. */
  function input(start: number, days: number): BacktestInput {
    const warm = warmupOf(new BreakoutTrail());
    const i = lowerBound(year.ts, start);
    const candles = sliceCandles(year, i - warm, lowerBound(year.ts, start + days * DAY));
    return { strategy: new BreakoutTrail(), exchange: 'binance', symbol: SYMBOL, candles, timeframe: '1m', initialBalance: 10_000, leverage: 3, ...COSTS, tradeFrom: start };
  }

  it('trades a quarter with resting stops, a ladder, trailing stops and plots, starting warm', () => {
    const start = Date.UTC(2023, 9, 1);
    const r = runBacktest(input(start, 91));
    const s = r.summary;
    expect(r.config.from).toBe(start);
    expect(r.config.warmup).toBe(warmupOf(new BreakoutTrail()));
    expect(s.trades).toBeGreaterThan(30);
    // The first trade comes within the first day: the channel and ATR were ready at the start.
    expect(r.trades[0]!.entryTime).toBeLessThan(start + DAY);
    const reasons = new Set(r.trades.map((t) => t.exitReason));
    expect(reasons.has('trailing_stop')).toBe(true);
    expect(reasons.has('stop_loss')).toBe(true);
    expect(r.trades.some((t) => t.exits?.[0]?.reason === 'take_profit')).toBe(true);
    const statuses = new Set(r.orders?.map((o) => o.status));
    expect([...statuses].sort()).toEqual(['canceled', 'expired', 'filled']);
    expect(r.rejections.filter((x) => x.reason === 'invalid_levels')).toEqual([]);
    // Risk sizing: a stop-loss exit without partial exits loses about 0.5 % of equity (plus fees and slippage).
    const plain = r.trades.filter((t) => t.exitReason === 'stop_loss' && t.exits === undefined);
    expect(plain.length).toBeGreaterThan(5);
    for (const t of plain) expect(-t.grossPnl).toBeLessThan(0.006 * 12_000);
    expect(r.plots?.map((p) => [p.name, p.values.length])).toEqual([
      ['EMA 60 (hlc3)', r.candles.length],
      ['channel high', r.candles.length],
      ['channel low', r.candles.length],
    ]);
    expect(r.plots?.[1]?.values.some(Number.isNaN)).toBe(false); // ready from the first candle
  });

  const sqlite = DIALECTS.find((d) => d.name === 'sqlite')!;
  describe('through the paper runtime', () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const f = await sqlite.fresh();
      store = await f.open();
      drop = async () => {
        await store.close();
        await f.drop();
      };
    });
    afterAll(async () => drop?.());

    it('makes the backtest trades on two days of real candles after the same warm-up', async () => {
      const start = Date.UTC(2024, 2, 4);
      const bt = runBacktest(input(start, 2));
      const c = bt.candles;
      const all = input(start, 2).candles;
      const warm = all.length - c.length;
      const clock = new ManualClock(all.ts[0]!);
      const venue = new SimVenue({ clock, balance: 10_000, leverage: 3, makerFeeBps: COSTS.makerFeeBps, takerFeeBps: COSTS.takerFeeBps, slippageBps: COSTS.slippageBps });
      const strategy = new BreakoutTrail();
      const rt = await PaperRuntime.open(
        {
          runId: 'breakout', strategy, strategyName: strategy.name, strategyPath: 'strategies/breakout-trail.ts', symbol: SYMBOL, target: 'sim:paper', timeframe: '1m', mode: 'replay',
          initialBalance: 10_000, leverage: 3, costs: COSTS, fill: 'close', slTpPolicy: 'conservative', maintenanceMarginRate: 0.005, funding: 0, extra: {}, publishEvents: false,
        },
        { db: store.db, clock, venue, market: venue },
      );
      for (let i = 0; i < all.length; i++) {
        const candle = { ts: all.ts[i]!, open: all.open[i]!, high: all.high[i]!, low: all.low[i]!, close: all.close[i]!, volume: all.volume[i]!, openInterest: all.openInterest[i]!, cvd: all.cvd[i]! };
        clock.set(candle.ts + 60_000);
        if (i < warm) rt.warm(candle);
        else await rt.process(candle);
      }
      const closed = bt.trades.filter((t) => t.exitReason !== 'end_of_data');
      expect(closed.length).toBeGreaterThan(2);
      expect(rt.kernel.exec.trades).toEqual(closed);
      expect(rt.kernel.exec.resting.done).toEqual((bt.orders ?? []).filter((o) => o.reason !== 'end of data'));
    }, 120_000);
  });
});
