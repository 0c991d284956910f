import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandleColumns } from '../../src/core/candles.ts';
import { ManualClock } from '../../src/core/ports.ts';
import { runBacktest } from '../../src/engine/backtest.ts';
import { PaperRuntime, type PaperSettings, type RuntimeCandle } from '../../src/engine/paper/runtime.ts';
import { SimVenue } from '../../src/exchange/sim/index.ts';
import type { Store } from '../../src/store/db.ts';
import { DIALECTS } from '../db.ts';
import { ALL_CASES, backtestInput, COSTS, ladder, limitTouch, trailActivation, type FeatureCase } from './feature-cases.ts';

function candleAt(c: CandleColumns, i: number): RuntimeCandle {
  return { ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: c.openInterest[i]!, cvd: c.cvd[i]! };
}

function settings(runId: string, fc: FeatureCase): PaperSettings {
  const strategy = fc.strategy();
  return {
    runId,
    strategy,
    strategyName: strategy.name,
    strategyPath: `test/${fc.name}`,
    symbol: 'BTC/USDT:USDT',
    target: 'sim:paper',
    timeframe: '1m',
    mode: 'replay',
    initialBalance: 10_000,
    leverage: 10,
    costs: { ...COSTS, slippageBps: fc.slippageBps ?? 0 },
    fill: fc.fill ?? 'close',
    slTpPolicy: 'conservative',
    maintenanceMarginRate: 0.005,
    funding: 0,
    extra: {},
    publishEvents: false,
  };
}

/**
 * Replays candles [0, to) of a case through a paper runtime on the simulated exchange: the warm-up
 * candles and those a resumed run already processed are warmed, the rest processed.
 */
async function replay(store: Store, runId: string, fc: FeatureCase, to = fc.candles.length): Promise<PaperRuntime> {
  const c = fc.candles;
  const clock = new ManualClock(c.ts[0]!);
  const venue = new SimVenue({ clock, balance: 10_000, leverage: 10, makerFeeBps: COSTS.makerFeeBps, takerFeeBps: COSTS.takerFeeBps, slippageBps: fc.slippageBps ?? 0 });
  const rt = await PaperRuntime.open(settings(runId, fc), { db: store.db, clock, venue, market: venue });
  const cursor = rt.lastProcessed;
  for (let i = 0; i < to; i++) {
    const candle = candleAt(c, i);
    clock.set(candle.ts + 60_000);
    if (i < (fc.warmup ?? 0) || (cursor !== null && candle.ts <= cursor)) rt.warm(candle);
    else await rt.process(candle);
  }
  return rt;
}

for (const d of DIALECTS) {
  describe(`what strategies can say, through the paper runtime (${d.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const f = await d.fresh();
      store = await f.open();
      drop = async () => {
        await store.close();
        await f.drop();
      };
    });
    afterAll(async () => drop());

    ALL_CASES.forEach((fc, k) => {
      it(`gives the backtest's trades: ${fc.name}`, async () => {
        const bt = runBacktest(backtestInput(fc));
        const rt = await replay(store, `case-${k}`, fc);
        const closed = bt.trades.filter((t) => t.exitReason !== 'end_of_data');
        expect(rt.kernel.exec.trades).toEqual(closed);
        expect(rt.kernel.exec.rejections).toEqual(bt.rejections);
        const done = (bt.orders ?? []).filter((o) => o.reason !== 'end of data');
        expect(rt.kernel.exec.resting.done).toEqual(done);
        expect(rt.kernel.ambiguous).toBe(bt.summary.ambiguousCandles);
      });
    });

    // Stopped after each candle and resumed in a new process: resting entries, ladders and trailing stops come back.
    for (const fc of [limitTouch, ladder, trailActivation]) {
      it(`resumes with its resting entries and exit plans after every candle: ${fc.name}`, async () => {
        const bt = runBacktest(backtestInput(fc));
        const id = `resume-${fc.name.slice(0, 20).replace(/\W+/g, '-')}`;
        let rt: PaperRuntime | undefined;
        for (let to = 1; to <= fc.candles.length; to++) rt = await replay(store, id, fc, to);
        expect(rt?.kernel.exec.trades).toEqual(bt.trades.filter((t) => t.exitReason !== 'end_of_data'));
      });
    }
  });
}
