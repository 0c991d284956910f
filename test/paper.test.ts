import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandleColumns } from '../src/core/candles.ts';
import { ManualClock } from '../src/core/ports.ts';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import { PaperRuntime, type PaperSettings, type RuntimeCandle } from '../src/engine/paper/runtime.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import type { Store } from '../src/store/db.ts';
import type { Strategy } from '../src/strategy/strategy.ts';
import HedgeBreakout from '../strategies/hedge-breakout.ts';
import SmaCross from '../strategies/sma-cross.ts';
import { DIALECTS } from './db.ts';

const SYMBOL = 'BTC/USDT:USDT';
const COSTS = { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 2, tick: 0.1, lot: 0.001 };

function candleAt(c: CandleColumns, i: number): RuntimeCandle {
  return { ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: c.openInterest[i]!, cvd: c.cvd[i]! };
}

function settings(runId: string, strategy: Strategy, path: string): PaperSettings {
  return {
    runId,
    strategy,
    strategyName: strategy.name,
    strategyPath: path,
    symbol: SYMBOL,
    target: 'sim:paper',
    timeframe: '1m',
    mode: 'replay',
    initialBalance: 10_000,
    leverage: 10,
    costs: COSTS,
    fill: 'close',
    slTpPolicy: 'conservative',
    maintenanceMarginRate: 0.005,
    funding: 0,
    extra: {},
    publishEvents: true,
  };
}

function simFor(clock: ManualClock): SimVenue {
  return new SimVenue({ clock, balance: 10_000, leverage: 10, makerFeeBps: COSTS.makerFeeBps, takerFeeBps: COSTS.takerFeeBps, slippageBps: COSTS.slippageBps });
}

async function drive(store: Store, s: PaperSettings, c: CandleColumns, to: number): Promise<PaperRuntime> {
  const clock = new ManualClock(c.ts[0]!);
  const venue = simFor(clock);
  const rt = await PaperRuntime.open(s, { db: store.db, clock, venue, market: venue });
  const cursor = rt.lastProcessed;
  for (let i = 0; i < to; i++) {
    const candle = candleAt(c, i);
    clock.set(candle.ts + 60_000);
    if (cursor !== null && candle.ts <= cursor) rt.warm(candle);
    else await rt.process(candle);
  }
  return rt;
}

for (const d of DIALECTS) {
  describe(`paper runtime (${d.name})`, () => {
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

    const cases: [string, () => Strategy, string, number][] = [
      ['one-way SMA cross', () => new SmaCross({ fast: 10, slow: 40, percent: 10, sl: 0.004, tp: 0.006 }), 'strategies/sma-cross.ts', 3_000],
      ['hedge legs on 1m + 4h', () => new HedgeBreakout({ trend: 20, htfTrend: 3, percent: 5, sl: 0.006, tp: 0.008, hedgeSl: 0.003, hedgeTp: 0.002 }), 'strategies/hedge-breakout.ts', 2_400],
    ];
    for (const [name, make, path, n] of cases) {
      it(`parity: a paper replay on the simulated exchange makes the backtest's trades (${name})`, async () => {
        const c = syntheticCandles({ seed: 11, count: n });
        const bt = runBacktest({ strategy: make(), exchange: 'sim', symbol: SYMBOL, candles: c, timeframe: '1m', initialBalance: 10_000, leverage: 10, ...COSTS });
        const rt = await drive(store, settings(`parity-${d.name}-${path}`, make(), path), c, n);
        const paperTrades = rt.kernel.exec.trades;
        // The backtest closes what is still open at the end of the data; the paper run keeps it open.
        const closedInBoth = bt.trades.filter((t) => t.exitReason !== 'end_of_data');
        expect(closedInBoth.length).toBeGreaterThan(10);
        expect(paperTrades).toEqual(closedInBoth);
        expect(rt.kernel.book.positions.map((p) => p.id)).toEqual(bt.trades.filter((t) => t.exitReason === 'end_of_data').map((t) => t.id));
        expect(bt.rejections.length).toBe(rt.kernel.exec.rejections.length);
      });
    }

    it('a run stopped mid-way and resumed in a new process ends in the state of an uninterrupted run', async () => {
      const n = 3_000;
      const c = syntheticCandles({ seed: 5, count: n });
      const make = () => new SmaCross({ fast: 10, slow: 40, percent: 10, sl: 0.004, tp: 0.006 });
      const whole = await drive(store, settings(`whole-${d.name}`, make(), 'strategies/sma-cross.ts'), c, n);
      // Interrupted twice: the first process is dropped without any shutdown (as if killed).
      await drive(store, settings(`cut-${d.name}`, make(), 'strategies/sma-cross.ts'), c, 1_234);
      await drive(store, settings(`cut-${d.name}`, make(), 'strategies/sma-cross.ts'), c, 2_222);
      const resumed = await drive(store, settings(`cut-${d.name}`, make(), 'strategies/sma-cross.ts'), c, n);
      expect(resumed.isResumed).toBe(true);
      expect(resumed.kernel.exec.trades).toEqual(whole.kernel.exec.trades);
      expect(resumed.kernel.book.balance).toBe(whole.kernel.book.balance);
      expect(resumed.kernel.book.positions).toEqual(whole.kernel.book.positions);
      const rows = (id: string) => store.db.selectFrom('run_trades').select(['position_id', 'pnl']).where('run_id', '=', id).orderBy('position_id').execute();
      expect(await rows(`cut-${d.name}`)).toEqual(await rows(`whole-${d.name}`));
      const events = (id: string) => store.db.selectFrom('outbox').select(['event_type', 'payload']).where('run_id', '=', id).orderBy('id').execute();
      const strip = (rs: { event_type: string; payload: string }[]) => rs.map((r) => [r.event_type, (JSON.parse(r.payload) as { data: unknown }).data]);
      expect(strip(await events(`cut-${d.name}`))).toEqual(strip(await events(`whole-${d.name}`)));
    });

    it('refuses to resume a run name with other settings', async () => {
      const c = syntheticCandles({ seed: 5, count: 10 });
      await drive(store, settings(`named-${d.name}`, new SmaCross(), 'strategies/sma-cross.ts'), c, 5);
      await expect(drive(store, settings(`named-${d.name}`, new HedgeBreakout(), 'strategies/hedge-breakout.ts'), c, 5)).rejects.toThrow(/exists with other settings/);
      // A live run never silently resumes a replay run of the same name (nor the other way round).
      await expect(drive(store, { ...settings(`named-${d.name}`, new SmaCross(), 'strategies/sma-cross.ts'), mode: 'live' }, c, 5)).rejects.toThrow(
        `run "named-${d.name}" is a replay run and this one is live: resume it the way it started, or choose another --run name`,
      );
    });
  });
}
