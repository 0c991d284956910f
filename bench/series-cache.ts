/**
 * What the shared indicator series (src/strategy/series-cache.ts) save, in one thread and in CPU time (a
 * busy machine moves wall time more): the same combinations run alternately with and without the cache,
 * interleaved, for the SMA cross and for an EMA/RSI strategy whose indicators cost more per candle.
 *
 *   node --import tsx bench/series-cache.ts   (npm run bench -- --only optimize runs it too)
 */
import { loadavg } from 'node:os';
import type { CandleColumns } from '../src/core/candles.ts';
import { cachePath, readCandles } from '../src/data/index.ts';
import { runCombination, type RunMarket } from '../src/research/run-combination.ts';
import type { Combination } from '../src/research/space.ts';
import { SeriesCache } from '../src/strategy/series-cache.ts';
import { Strategy, openLong, openShort, type Indicator, type SignalOutput, type StrategyContext, type StrategyClass } from '../src/strategy/index.ts';
import SmaCross from '../strategies/sma-cross.ts';

const defaults = { fast: 20, slow: 100, rsi: 14 };

/** EMA cross confirmed by RSI: three streaming indicators per run, few trades. */
class EmaRsi extends Strategy<typeof defaults> {
  static override readonly defaults = defaults;
  private fast!: Indicator;
  private slow!: Indicator;
  private rsi!: Indicator;

  override onInit(ctx: StrategyContext): void {
    this.fast = ctx.indicators.ema(this.params.fast);
    this.slow = ctx.indicators.ema(this.params.slow);
    this.rsi = ctx.indicators.rsi(this.params.rsi);
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    if (!this.slow.ready || !this.rsi.ready) return;
    const price = ctx.candles().close();
    if (this.fast.crossedAbove(this.slow) && this.rsi.value > 55) return openLong({ qty: 1, stopLoss: price * 0.98, takeProfit: price * 1.04 });
    if (this.fast.crossedBelow(this.slow) && this.rsi.value < 45) return openShort({ qty: 1, stopLoss: price * 1.02, takeProfit: price * 0.96 });
  }
}

/** CPU ms per run with and without the cache (medians over rounds), and the saving. */
export interface CacheFigures {
  strategy: string;
  combinations: number;
  cpuMsPerRunShared: number;
  cpuMsPerRunOwn: number;
  savedPercent: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number): number => Math.round(x * 100) / 100;

function measure(Cls: StrategyClass, combos: readonly Combination[], candles: CandleColumns, rounds: number): CacheFigures {
  const market: RunMarket = { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m', candles, finer: new Map() };
  const settings = { initialBalance: 10_000, fill: 'next-open' as const, makerFeeBps: 0, takerFeeBps: 0, tick: 0.1, lot: 0.001 };
  const shared: number[] = [];
  const own: number[] = [];
  for (let k = 0; k < rounds; k++) {
    for (const on of [true, false]) {
      const cache = on ? new SeriesCache(candles) : undefined;
      const u = process.cpuUsage();
      for (const p of combos) runCombination(Cls, p, market, settings, cache);
      const cpu = process.cpuUsage(u);
      (on ? shared : own).push((cpu.user + cpu.system) / 1000 / combos.length);
    }
  }
  const s = median(shared);
  const o = median(own);
  return { strategy: Cls.name, combinations: combos.length, cpuMsPerRunShared: round(s), cpuMsPerRunOwn: round(o), savedPercent: round((1 - s / o) * 100) };
}

/** Both strategies on the year of 1m in `cache` (a bench cache root). */
export async function runCacheBench(cacheRoot: string, rounds = 3): Promise<{ load: number[]; figures: CacheFigures[] }> {
  const candles = await readCandles(cachePath(cacheRoot, 'binance', 'BTC/USDT:USDT', '1m'));
  const sma: Combination[] = [];
  for (const fast of [20, 50, 80]) for (const slow of [150, 250, 350]) sma.push({ fast, slow, qty: 1 });
  const ema: Combination[] = [];
  for (const fast of [10, 30]) for (const slow of [100, 200]) for (const rsi of [7, 14]) ema.push({ fast, slow, rsi });
  const load = loadavg().map(round);
  return { load, figures: [measure(SmaCross, sma, candles, rounds), measure(EmaRsi, ema, candles, rounds)] };
}

/** Prints the figures. */
export function printCache(r: { load: number[]; figures: CacheFigures[] }): void {
  console.log(`\n  shared indicator series, one thread, CPU per run (load average ${r.load.join(' ')})`);
  for (const f of r.figures) {
    console.log(`    ${f.strategy.padEnd(10)} ${f.combinations} combinations: ${f.cpuMsPerRunShared} ms shared vs ${f.cpuMsPerRunOwn} ms computed per run (${f.savedPercent} % saved)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) printCache(await runCacheBench(new URL('../data/bench-cache/year', import.meta.url).pathname));
