import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { readCandles } from './cache.ts';
import { importCsv, parseKlineCsv } from './csv.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 2, 1);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'halyard-csv-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, text: string, gzip = false): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, gzip ? gzipSync(text) : text);
  return path;
}

/** One Binance raw kline row: open time, OHLCV, close time, quote volume, trades, taker-buy base/quote, ignore. */
const raw = (t: number, o: number, h: number, l: number, c: number, v: number, takerBuy: number): string =>
  [t, o, h, l, c, v, t + M - 1, v * o, 10, takerBuy, takerBuy * o, 0].join(',');

const sixCol = ['timestamp,open,high,low,close,volume', `${T0},100,101,99,100.5,2`, `${T0 + M},100.5,102,100,101,3.5`, `${T0 + 3 * M},101,101,98,99,1`].join('\n');

describe('parseKlineCsv', () => {
  it('reads the 6-column form with header: approximate CVD, NaN open interest, gaps kept', async () => {
    const { candles: c, exactCvd } = await parseKlineCsv(await put('six.csv', `${sixCol}\n`), '1m');
    expect(exactCvd).toBe(false);
    expect(Array.from(c.ts)).toEqual([T0, T0 + M, T0 + 3 * M]);
    expect(Array.from(c.close)).toEqual([100.5, 101, 99]);
    expect(Array.from(c.cvd)).toEqual([2, 5.5, 4.5]);
    expect(Array.from(c.openInterest).every(Number.isNaN)).toBe(true);
  });

  it('reads the 12-column raw dump, gzipped, with exact CVD from taker-buy volume', async () => {
    const rows = [raw(T0, 100, 101, 99, 100.5, 2, 1.5), raw(T0 + M, 100.5, 102, 100, 101, 4, 1), raw(T0 + 2 * M, 101, 101, 100, 100, 0, 0)];
    const { candles: c, exactCvd } = await parseKlineCsv(await put('raw.csv.gz', rows.join('\r\n'), true), '1m');
    expect(exactCvd).toBe(true);
    // Deltas: 2*1.5-2 = 1, 2*1-4 = -2, 0; the approximation would have said +2, +4, 0.
    expect(Array.from(c.cvd)).toEqual([1, -1, -1]);
    expect(Array.from(c.volume)).toEqual([2, 4, 0]);
  });

  it('detects gzip by magic bytes, not by the extension', async () => {
    const { candles } = await parseKlineCsv(await put('really-gzip.csv', sixCol, true), '1m');
    expect(candles.length).toBe(3);
  });

  it('converts microsecond open times (Binance spot since 2025) to milliseconds', async () => {
    const t = Date.UTC(2025, 0, 1);
    const rows = [raw(t * 1000, 1, 2, 0.5, 1.5, 1, 0.5), raw((t + M) * 1000, 1.5, 2, 1, 1, 1, 0.5)];
    const { candles } = await parseKlineCsv(await put('micros.csv', rows.join('\n')), '1m');
    expect(Array.from(candles.ts)).toEqual([t, t + M]);
  });

  it('names the line of a malformed row', async () => {
    const text = [...sixCol.split('\n').slice(0, 3), `${T0 + 2 * M},101,10x1,98,99,1`].join('\n');
    const err = await parseKlineCsv(await put('bad.csv', text), '1m').catch((e: unknown) => e);
    expect(isHalyardError(err, 'data_corrupt')).toBe(true);
    expect((err as Error).message).toMatch(/bad\.csv:4: high "10x1" is not a number/);
    const ohlc = [sixCol.split('\n')[0], `${T0},100,99,98,100.5,2`].join('\n');
    const err2 = await parseKlineCsv(await put('ohlc.csv', ohlc), '1m').catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/ohlc\.csv:2: inconsistent OHLC/);
    const short = [sixCol, `${T0 + 4 * M},1,2,0.5`].join('\n');
    const err3 = await parseKlineCsv(await put('short.csv', short), '1m').catch((e: unknown) => e);
    expect((err3 as Error).message).toMatch(/short\.csv:5: expected 6 columns like the first row, found 4/);
  });

  it('refuses unsorted or duplicated rows with the line number', async () => {
    const text = [sixCol, `${T0 + M},100.5,102,100,101,3.5`].join('\n');
    const err = await parseKlineCsv(await put('dup.csv', text), '1m').catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/dup\.csv:5: .*not after the previous row/);
  });

  it('refuses a file whose spacing does not match --timeframe', async () => {
    const hourly = ['timestamp,open,high,low,close,volume', ...[0, 1, 2, 3].map((h) => `${T0 + h * 60 * M},1,2,0.5,1.5,1`)].join('\n');
    const path = await put('hourly.csv', hourly);
    const err = await parseKlineCsv(path, '1m').catch((e: unknown) => e);
    expect(isHalyardError(err, 'invalid_input')).toBe(true);
    expect((err as Error).message).toMatch(/rows are 1h apart but --timeframe is 1m; import it with --timeframe 1h/);
    // Coarser than the rows: open times are not aligned to the declared timeframe.
    const err2 = await parseKlineCsv(await put('minutes.csv', sixCol), '1h').catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/minutes\.csv:3: .*not aligned to 1h/);
    expect((await parseKlineCsv(path, '1h')).candles.length).toBe(4);
  });
});

describe('importCsv', () => {
  it('writes the cache file and merges later imports into it, the file winning on overlap', async () => {
    const cacheRoot = join(dir, 'cache');
    const first = await importCsv({ file: await put('a.csv', sixCol), exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m', cacheRoot });
    expect(first).toMatchObject({ rows: 3, cacheRows: 3, first: T0, last: T0 + 3 * M, gaps: [{ from: T0 + 2 * M, to: T0 + 3 * M, count: 1 }] });
    const fill = ['timestamp,open,high,low,close,volume', `${T0 + 2 * M},101,101.5,100.5,101,1`, `${T0 + 3 * M},101,105,98,104,1`].join('\n');
    const second = await importCsv({ file: await put('b.csv', fill), exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m', cacheRoot });
    expect(second).toMatchObject({ rows: 2, cacheRows: 4, gaps: [] });
    const c = await readCandles(second.path);
    expect(Array.from(c.ts)).toEqual([0, 1, 2, 3].map((k) => T0 + k * M));
    expect(Array.from(c.close)).toEqual([100.5, 101, 101, 104]);
    expect(Array.from(c.cvd)).toEqual([2, 5.5, 5.5, 6.5]);
  });
});

// Real Binance data shared beside the repository (repoRoot/../shared/data); see its README.md.
const sharedData = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/data');
const hasShared = existsSync(sharedData);

describe.skipIf(!hasShared)(`real data (${hasShared ? sharedData : `skipped: ${sharedData} is absent`})`, () => {
  it('imports BTCUSDT 1h: 21,767 rows and the one gap of the 2023-03-24 trading halt', async () => {
    const r = await importCsv({
      file: join(sharedData, 'binance-spot-BTCUSDT-1h.csv.gz'),
      exchange: 'binance',
      symbol: 'BTC/USDT',
      timeframe: '1h',
      cacheRoot: join(dir, 'real'),
    });
    expect(r.rows).toBe(21_767);
    expect(new Date(r.first).toISOString()).toBe('2022-01-01T00:00:00.000Z');
    expect(new Date(r.last).toISOString()).toBe('2024-06-25T23:00:00.000Z');
    expect(r.gaps).toEqual([{ from: Date.UTC(2023, 2, 24, 13), to: Date.UTC(2023, 2, 24, 14), count: 1 }]);
    const c = await readCandles(r.path);
    expect(c.length).toBe(21_767);
    expect(c.open[0]).toBe(46216.93);
    expect(c.volume[0]).toBe(1503.33095);
  });
});
