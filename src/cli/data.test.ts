import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { registerDataCommands } from './data.ts';

const M = 60_000;
const T0 = Date.UTC(2024, 2, 1);

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'halyard-cli-data-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `halyard <args>` with the data commands on the cache `<dir>/<cache>`; returns what it printed. */
async function runIn(cache: string, ...args: string[]): Promise<string> {
  const program = new Command('halyard').exitOverride();
  registerDataCommands(program, { cacheRoot: () => join(dir, cache) });
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out;
}

const run = (...args: string[]): Promise<string> => runIn('cache', ...args);

describe('halyard data', () => {
  it('imports a CSV, then lists it (table and JSON) with its gap', async () => {
    const csv = join(dir, 'btc.csv');
    const rows = [0, 1, 2, 5].map((k) => `${T0 + k * M},100,101,99,100.5,2`);
    await writeFile(csv, ['timestamp,open,high,low,close,volume', ...rows].join('\n'));

    const imported = JSON.parse(await run('data', 'import', csv, '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--timeframe', '1m', '--json')) as Record<string, unknown>;
    expect(imported).toMatchObject({ rows: 4, first: '2024-03-01T00:00:00.000Z', last: '2024-03-01T00:05:00.000Z', missingBars: 2, exactCvd: false });

    const table = await run('data', 'ls');
    expect(table).toMatch(/^exchange\s+symbol\s+timeframe\s+rows\s+first \(UTC\)\s+last \(UTC\)\s+gaps/);
    expect(table).toMatch(/binance\s+BTC\/USDT:USDT\s+1m\s+4\s+2024-03-01T00:00Z\s+2024-03-01T00:05Z\s+1 \(2 bars\)/);

    const listed = JSON.parse(await run('data', 'ls', '--json')) as Record<string, unknown>[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ symbol: 'BTC/USDT:USDT', rows: 4, missingBars: 2, gaps: [{ from: '2024-03-01T00:03:00.000Z', count: 2 }] });

    const text = await run('data', 'import', csv, '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--timeframe', '1m');
    expect(text).toContain('imported 4 rows');
    expect(text).toContain('from 2024-03-01T00:03Z: 2 bars missing');
  });

  it('says so when the cache is empty', async () => {
    expect(await runIn('nothing-here', 'data', 'ls')).toMatch(/^no cached candles under .*nothing-here; add some with: halyard data import/);
    expect(JSON.parse(await runIn('nothing-here', 'data', 'ls', '--json'))).toEqual([]);
  });

  it('throws a HalyardError for a bad timeframe', async () => {
    const err = await run('data', 'import', join(dir, 'btc.csv'), '--exchange', 'binance', '--symbol', 'BTC/USDT', '--timeframe', '2m').catch((e: unknown) => e);
    expect(isHalyardError(err, 'invalid_input')).toBe(true);
    expect((err as Error).message).toMatch(/unknown timeframe "2m"/);
  });
});
