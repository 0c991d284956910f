import { copyFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocCandles, CANDLE_FIELDS, type CandleColumns } from '../core/candles.ts';
import { isHalyardError } from '../core/errors.ts';
import { cachePath, listCache, mergeCandles, readCacheMeta, readCandles, symbolDir, writeCandles } from './cache.ts';
import { columnsPath } from './columns-file.ts';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** Candles at the given hour offsets from T0, with values derived from `base` so sources are distinguishable. */
function series(hours: readonly number[], base: number, withOi = false): CandleColumns {
  const c = allocCandles(hours.length);
  hours.forEach((h, i) => {
    c.ts[i] = T0 + h * H;
    c.open[i] = base + h;
    c.high[i] = base + h + 2.5;
    c.low[i] = base + h - 1.25;
    c.close[i] = base + h + 0.1;
    c.volume[i] = 1.001 * (h + 1);
    if (withOi) c.openInterest[i] = 500 + h;
    c.cvd[i] = (i + 1) * 10; // per-bar delta of 10 in every source
  });
  return c;
}

let root = '';
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'halyard-cache-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('cache paths', () => {
  it('maps ccxt symbols to folder names and rejects unsafe names', () => {
    expect(symbolDir('BTC/USDT:USDT')).toBe('BTC-USDT-USDT');
    expect(symbolDir('ETH/USDT')).toBe('ETH-USDT');
    expect(cachePath('/c', 'binance', 'BTC/USDT:USDT', '1m')).toBe('/c/binance/BTC-USDT-USDT/1m.parquet');
    expect(() => cachePath('/c', '../etc', 'BTC/USDT', '1m')).toThrow(/exchange/);
    expect(() => symbolDir('..')).toThrow(/cache folder/);
  });
});

describe('writeCandles / readCandles', () => {
  it('round-trips every column exactly, NaN open interest included, with the series in the metadata', async () => {
    const c = series([0, 1, 2, 5, 6], 42_000.1);
    c.openInterest[1] = 123.456; // mixed NaN and values
    c.cvd[2] = -0.30000000000000004;
    const path = cachePath(root, 'binance', 'BTC/USDT:USDT', '1h');
    await writeCandles(path, c, { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1h' });
    const back = await readCandles(path);
    expect(back.length).toBe(c.length);
    for (const f of CANDLE_FIELDS) expect(Array.from(back[f]), f).toEqual(Array.from(c[f]));
    expect(Number.isNaN(back.openInterest[0])).toBe(true);
    expect(await readCacheMeta(path)).toEqual({ exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1h', rows: 5 });
    // The write went through temp files that are gone afterwards; the raw columns copy sits beside.
    expect(await readdir(join(root, 'binance', 'BTC-USDT-USDT'))).toEqual(['1h.parquet', '1h.parquet.columns']);
  });

  it('reads the raw columns copy when it matches the Parquet file, and decodes Parquet (rewriting the copy) when not', async () => {
    const c = series([0, 1, 2, 3, 7, 8], 30_000.5);
    c.openInterest[3] = 9.75;
    const path = cachePath(root, 'bybit', 'BTC/USDT:USDT', '1h');
    await writeCandles(path, c, { exchange: 'bybit', symbol: 'BTC/USDT:USDT', timeframe: '1h' });
    const copy = columnsPath(path);
    const fromCopy = await readCandles(path, { from: T0 + H, to: T0 + 8 * H });
    await rm(copy);
    const decoded = await readCandles(path, { from: T0 + H, to: T0 + 8 * H });
    expect(fromCopy.length).toBe(4);
    for (const f of CANDLE_FIELDS) expect(Array.from(fromCopy[f]), f).toEqual(Array.from(decoded[f]));
    // The decode wrote the copy again.
    expect((await stat(copy)).size).toBe(64 + 6 * 8 * 8);

    // Another tool replaces the Parquet file: the copy no longer matches it and is not read.
    const other = cachePath(root, 'okx', 'BTC/USDT:USDT', '1h');
    await writeCandles(other, series([0, 1], 99), { exchange: 'okx', symbol: 'BTC/USDT:USDT', timeframe: '1h' });
    await copyFile(other, path);
    expect(Array.from((await readCandles(path)).open)).toEqual([99, 100]);

    // A damaged copy is ignored too.
    await writeFile(copy, 'HLYDCOL1 and then nothing');
    expect(Array.from((await readCandles(path)).open)).toEqual([99, 100]);
  });

  it('reads an open-time range [from, to)', async () => {
    const path = cachePath(root, 'binance', 'ETH/USDT', '1h');
    await writeCandles(path, series([0, 1, 2, 3, 4, 5], 2000), { exchange: 'binance', symbol: 'ETH/USDT', timeframe: '1h' });
    const mid = await readCandles(path, { from: T0 + 2 * H, to: T0 + 4 * H });
    expect(Array.from(mid.ts)).toEqual([T0 + 2 * H, T0 + 3 * H]);
    expect(Array.from(mid.open)).toEqual([2002, 2003]);
    expect((await readCandles(path, { from: T0 + 4.5 * H })).length).toBe(1);
    expect((await readCandles(path, { to: T0 })).length).toBe(0);
  });

  it('names the file and the remedies when the cache file is absent', async () => {
    const path = cachePath(root, 'bybit', 'SOL/USDT:USDT', '5m');
    const err = await readCandles(path).catch((e: unknown) => e);
    expect(isHalyardError(err, 'data_missing')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toContain(path);
    expect(msg).toContain('halyard data import');
    expect(msg).toContain('--symbol SOL/USDT:USDT --timeframe 5m');
    expect(msg).toContain('--synthetic');
  });

  it('refuses a file that is not parquet with data_corrupt', async () => {
    const path = join(root, 'junk.parquet');
    await writeFile(path, 'not parquet at all');
    const err = await readCandles(path).catch((e: unknown) => e);
    expect(isHalyardError(err, 'data_corrupt')).toBe(true);
  });
});

describe('mergeCandles', () => {
  it('unions by open time, sorted, the incoming candle winning on equal times', () => {
    const existing = series([0, 1, 2, 4], 100, true);
    const incoming = series([2, 3, 5], 900);
    const m = mergeCandles(existing, incoming);
    expect(Array.from(m.ts)).toEqual([0, 1, 2, 3, 4, 5].map((h) => T0 + h * H));
    expect(Array.from(m.open)).toEqual([100, 101, 902, 903, 104, 905]);
    // Open interest comes with the winning row: NaN where the incoming source had none.
    expect(Array.from(m.openInterest).map((x) => (Number.isNaN(x) ? null : x))).toEqual([500, 501, null, null, 504, null]);
  });

  it('rebuilds CVD from per-bar deltas so the seam has no jump', () => {
    const m = mergeCandles(series([0, 1], 100), series([2, 3], 200));
    expect(Array.from(m.cvd)).toEqual([10, 20, 30, 40]);
  });

  it('returns the other side when one side is empty', () => {
    const a = series([0, 1], 100);
    expect(Array.from(mergeCandles(allocCandles(0), a).open)).toEqual([100, 101]);
    expect(Array.from(mergeCandles(a, allocCandles(0)).open)).toEqual([100, 101]);
  });
});

describe('listCache', () => {
  it('lists each series with rows, range, bytes and gaps reported (not filled)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'halyard-ls-'));
    try {
      expect(await listCache(join(dir, 'absent'))).toEqual([]);
      const path = cachePath(dir, 'binance', 'BTC/USDT:USDT', '1h');
      await writeCandles(path, series([0, 1, 4, 5, 9], 30_000), { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1h' });
      const [e, ...rest] = await listCache(dir);
      expect(rest).toEqual([]);
      expect(e).toMatchObject({ exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1h', rows: 5, first: T0, last: T0 + 9 * H, path });
      expect(e?.gaps).toEqual([
        { from: T0 + 2 * H, to: T0 + 4 * H, count: 2 },
        { from: T0 + 6 * H, to: T0 + 9 * H, count: 3 },
      ]);
      expect(e?.bytes).toBeGreaterThan(100);
      expect((await readCandles(path)).length).toBe(5);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
