import { describe, expect, it } from 'vitest';
import { syntheticCandles } from '../data/synthetic.ts';
import { SeriesCache } from '../strategy/series-cache.ts';
import SmaCross from '../../strategies/sma-cross.ts';
import { comboResult, runCombination, type RunMarket } from './run-combination.ts';
import { columnsOf, shareColumns } from './shared-columns.ts';
import type { Combination } from './space.ts';

const candles = syntheticCandles({ seed: 5, from: Date.UTC(2024, 0, 1), count: 20 * 1440 });
const settings = { initialBalance: 10_000, fill: 'next-open' as const, takerFeeBps: 5, makerFeeBps: 2, tick: 0.1, lot: 0.001 };

describe('runCombination', () => {
  it('runs on shared columns and a shared indicator cache exactly as on the original columns alone', () => {
    const plain: RunMarket = { exchange: 'synthetic', symbol: 'BTC/USDT:USDT', timeframe: '1m', candles, finer: new Map() };
    const sharedCols = columnsOf(shareColumns(candles));
    const shared: RunMarket = { ...plain, candles: sharedCols };
    const cache = new SeriesCache(sharedCols);
    const combos: Combination[] = [{ fast: 20, slow: 100 }, { fast: 20, slow: 200 }, { fast: 50, slow: 100 }, { fast: 20, slow: 100, short: false }];
    for (const params of combos) {
      const a = runCombination(SmaCross, params, plain, settings);
      const b = runCombination(SmaCross, params, shared, settings, cache);
      expect(JSON.stringify(b.summary)).toBe(JSON.stringify(a.summary));
      expect(b.equity).toEqual(a.equity);
      expect(b.trades.length).toBeGreaterThan(5);
      const d = comboResult(b).daily;
      expect(d).toHaveLength(20);
      expect(d.reduce((acc, r) => acc * (1 + r), 1)).toBeCloseTo(b.summary.finalEquity / 10_000, 9);
    }
    // SMA 20, 100, 200, 50: computed once each, then read.
    expect([cache.misses, cache.hits]).toEqual([4, 4]);
  });
});
