// End-to-end tests of the `halyard` command: the real bin/halyard.js in a child process, real temp folders
// for the cache and the run output, no mocks.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { ResultsJson } from '../src/report/results.ts';
import { ROOT, runHalyard, type Run } from './cli-run.ts';

const SMA = 'strategies/sma-cross.ts';
const HEDGE = 'strategies/hedge-breakout.ts';
const SYMBOL = 'BTC/USDT:USDT';


/** A per-test sandbox: its own cache and output folders (and a scratch folder for inputs). */
interface Sandbox {
  readonly root: string;
  readonly cache: string;
  readonly out: string;
  run(...args: string[]): Promise<Run>;
}

const sandboxes: string[] = [];
afterAll(async () => {
  await Promise.all(sandboxes.map((d) => rm(d, { recursive: true, force: true })));
});


async function sandbox(): Promise<Sandbox> {
  const root = await mkdtemp(join(tmpdir(), 'halyard-cli-test-'));
  sandboxes.push(root);
  const cache = join(root, 'cache');
  const out = join(root, 'output');
  return { root, cache, out, run: (...args) => runHalyard(args, { CACHE_PATH: cache, OUTPUT_PATH: out }) };
}

/** Run folders under an output root ([] when the root was never created). */
async function runFolders(out: string): Promise<string[]> {
  return existsSync(out) ? (await readdir(out)).sort() : [];
}

function parseResults(text: string): ResultsJson {
  return JSON.parse(text) as ResultsJson;
}

async function readResults(dir: string): Promise<{ text: string; json: ResultsJson }> {
  const text = await readFile(join(dir, 'results.json'), 'utf8');
  return { text, json: parseResults(text) };
}

/** Lines of a text file, ignoring one trailing newline. */
function lines(text: string): string[] {
  return text.replace(/\n$/, '').split('\n');
}

/** Asserts the command succeeded, showing its stderr when it did not. */
function expectOk(r: Run): void {
  expect(r.stderr, 'stderr of a successful run').toBe('');
  expect(r.code).toBe(0);
}

describe('halyard --help', () => {
  const cases: { args: string[]; usage: string; mentions: string[] }[] = [
    { args: ['--help'], usage: 'Usage: halyard [options] [command]', mentions: ['backtest', 'data', 'serve', 'users', 'recorders', 'tracker', '--version', '--help'] },
    {
      args: ['backtest', '--help'],
      usage: 'Usage: halyard backtest [options] <strategy>',
      mentions: ['--fill', 'next-open', '--sltp', 'candle-direction', '--param', '--synthetic', '--seed', '--days', '--json', '--out', '--from', '--to', '--timeframe', '--exchange', '--symbol', '--balance', '--funding'],
    },
    { args: ['data', '--help'], usage: 'Usage: halyard data [options] [command]', mentions: ['import', 'ls', 'CACHE_PATH'] },
    { args: ['data', 'import', '--help'], usage: 'Usage: halyard data import [options] <file>', mentions: ['--exchange', '--symbol', '--timeframe', '--json', 'gzip'] },
    { args: ['data', 'ls', '--help'], usage: 'Usage: halyard data ls [options]', mentions: ['--json'] },
    { args: ['serve', '--help'], usage: 'Usage: halyard serve [options]', mentions: ['--host', '--port', '/docs'] },
    { args: ['users', 'add', '--help'], usage: 'Usage: halyard users add [options] <name>', mentions: ['--trading-mode', '--json', 'hashed'] },
    { args: ['recorders', 'add', '--help'], usage: 'Usage: halyard recorders add [options]', mentions: ['--user', '--name', '--target', '--mode', '--max-lag', '--json'] },
    { args: ['tracker', 'rebuild', '--help'], usage: 'Usage: halyard tracker rebuild [options]', mentions: ['signal-based position', '--json'] },
  ];
  for (const c of cases) {
    it(`halyard ${c.args.join(' ')} prints usage and exits 0`, async () => {
      const sb = await sandbox();
      const r = await sb.run(...c.args);
      expectOk(r);
      expect(r.stdout.startsWith(c.usage)).toBe(true);
      for (const m of c.mentions) expect(r.stdout, `help mentions ${m}`).toContain(m);
    });
  }
});

describe('halyard backtest --synthetic', () => {
  it('prints the summary table and writes results.json, trades.csv and report.html in a new run folder', async () => {
    const sb = await sandbox();
    const r = await sb.run('backtest', SMA, '--synthetic', '--days', '10');
    expectOk(r);
    const folders = await runFolders(sb.out);
    expect(folders).toHaveLength(1);
    const dir = join(sb.out, folders[0] as string);
    expect(r.stdout).toContain('Total return');
    expect(r.stdout).toContain('Final equity');
    expect(r.stdout).toContain(`${dir}/report.html`);
    expect((await readdir(dir)).sort()).toEqual(['report.html', 'results.json', 'trades.csv']);

    const { json } = await readResults(dir);
    const s = json.summary;
    for (const k of ['trades', 'finalEquity', 'totalReturn', 'maxDrawdown', 'sharpe', 'fees', 'ambiguousCandles'] as const) {
      expect(typeof s[k], `summary.${k}`).toBe('number');
      expect(Number.isFinite(s[k]), `summary.${k} is finite`).toBe(true);
    }
    expect(Number.isInteger(s.trades)).toBe(true);
    expect(s.trades).toBeGreaterThan(0);
    expect(json.trades).toHaveLength(s.trades);
    expect(json.config).toMatchObject({ exchange: 'synthetic', symbol: SYMBOL, timeframe: '1m', from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 11) - 60_000 });

    const csv = lines(await readFile(join(dir, 'trades.csv'), 'utf8'));
    expect(csv).toHaveLength(1 + s.trades);
    expect(csv[0]).toMatch(/^id,symbol,side,position_side,qty,entry_time,entry_price,exit_time,exit_price,/);
    const html = await readFile(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('</html>');
  });

  it('--json prints only the results JSON, byte for byte the results.json written to --out', async () => {
    const sb = await sandbox();
    const dir = join(sb.root, 'run');
    const r = await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--json', '--out', dir);
    expectOk(r);
    const parsed = parseResults(r.stdout);
    expect(parsed.summary.trades).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('Total return');
    const { text } = await readResults(dir);
    expect(r.stdout).toBe(text);
    expect(await runFolders(sb.out)).toEqual([]); // --out replaces the default folder under OUTPUT_PATH
  });

  it('is deterministic: the same command twice gives byte-identical results.json and trades.csv', async () => {
    const sb = await sandbox();
    const a = join(sb.root, 'a');
    const b = join(sb.root, 'b');
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--out', a));
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--out', b));
    const [ra, rb] = await Promise.all([readFile(join(a, 'results.json'), 'utf8'), readFile(join(b, 'results.json'), 'utf8')]);
    expect(ra.length).toBeGreaterThan(0);
    expect(rb).toBe(ra);
    const [ta, tb] = await Promise.all([readFile(join(a, 'trades.csv'), 'utf8'), readFile(join(b, 'trades.csv'), 'utf8')]);
    expect(tb).toBe(ta);
  });

  it('a different --seed gives different results', async () => {
    const sb = await sandbox();
    const a = join(sb.root, 'seed42');
    const b = join(sb.root, 'seed7');
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--out', a));
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--seed', '7', '--out', b));
    const [ra, rb] = await Promise.all([readResults(a), readResults(b)]);
    expect(rb.text).not.toBe(ra.text);
    expect(rb.json.summary.finalEquity).not.toBe(ra.json.summary.finalEquity);
    expect(rb.json.equityCurve).not.toEqual(ra.json.equityCurve);
  });

  it('--param overrides land in the config params (coerced to numbers)', async () => {
    const sb = await sandbox();
    const a = join(sb.root, 'defaults');
    const b = join(sb.root, 'params');
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--out', a));
    expectOk(await sb.run('backtest', SMA, '--synthetic', '--days', '10', '--param', 'fast=20', '--param', 'slow=60', '--out', b));
    const [ra, rb] = await Promise.all([readResults(a), readResults(b)]);
    expect(ra.json.config.params).toMatchObject({ fast: 50, slow: 200 });
    expect(rb.json.config.params).toEqual({ ...ra.json.config.params, fast: 20, slow: 60 });
    expect(rb.json.summary).not.toEqual(ra.json.summary);
  });

  it('runs the hedge example with both legs open at once', async () => {
    const sb = await sandbox();
    const r = await sb.run('backtest', HEDGE, '--synthetic', '--days', '20', '--json', '--no-report');
    expectOk(r);
    expect(await runFolders(sb.out)).toEqual([]); // --no-report
    const json = parseResults(r.stdout);
    expect(json.config.positionMode).toBe('hedge');
    expect(json.config.timeframes).toEqual(['1m', '4h']);
    const longs = json.trades.filter((t) => t.side === 'long');
    const shorts = json.trades.filter((t) => t.side === 'short');
    expect(longs.length).toBeGreaterThan(0);
    expect(shorts.length).toBeGreaterThan(0);
    for (const t of json.trades) expect(t.positionSide, `trade ${t.id} carries its leg`).toBe(t.side);
    const overlap = longs.some((l) => shorts.some((s) => l.entryTime < s.exitTime && s.entryTime < l.exitTime));
    expect(overlap, 'a long and a short trade are open at the same moment').toBe(true);
  });
});

describe('halyard backtest refuses bad input', () => {
  /** Runs a failing command; asserts a non-zero exit, the message on stderr, nothing on stdout and no run folder. */
  async function expectRefused(sb: Sandbox, args: string[], message: RegExp): Promise<Run> {
    const r = await sb.run(...args);
    expect(r.code, `exit code of: halyard ${args.join(' ')}`).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(await runFolders(sb.out)).toEqual([]);
    return r;
  }

  it('an unknown --param, listing the known ones', async () => {
    const sb = await sandbox();
    const r = await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--param', 'nope=1'], /unknown parameter "nope"/);
    expect(r.stderr).toMatch(/fast, slow, percent, qty, sl, tp, short/);
  });

  it('a non-numeric value for a numeric --param', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--param', 'fast=abc'], /parameter "fast" must be a number, got "abc"/);
  });

  it('an unknown --fill model', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--fill', 'xyz'], /--fill.*xyz.*close, next-open/);
  });

  it('an unreadable --from date', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--from', 'notadate'], /--from: cannot read "notadate" as a UTC date/);
  });

  it('an impossible calendar date (no silent roll-over to the next month)', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--from', '2023-02-30'], /--from: cannot read "2023-02-30"/);
  });

  it('a seed that is not a whole number', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--seed', 'abc'], /--seed must be a whole number/);
    await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--seed', '1.5'], /--seed must be a whole number/);
  });

  it('a missing strategy file', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', 'strategies/does-not-exist.ts', '--synthetic', '--days', '1'], /strategy file not found: strategies\/does-not-exist\.ts/);
  });

  it('a file that exports no strategy class', async () => {
    const sb = await sandbox();
    // In an ESM package folder: see the KNOWN BUG test below for .ts files outside one.
    await writeFile(join(sb.root, 'package.json'), '{ "type": "module" }\n');
    const file = join(sb.root, 'not-a-strategy.ts');
    await writeFile(file, 'export const answer = 42;\nexport function helper(): number {\n  return answer;\n}\n');
    await expectRefused(sb, ['backtest', file, '--synthetic', '--days', '1'], /not-a-strategy\.ts exports no strategy class/);
  });

  it('an empty cache without --synthetic, pointing at `halyard data import`', async () => {
    const sb = await sandbox();
    await expectRefused(sb, ['backtest', SMA], /halyard data import/);
  });

  it('an unknown --timeframe', async () => {
    const sb = await sandbox();
    const r = await expectRefused(sb, ['backtest', SMA, '--synthetic', '--days', '1', '--timeframe', '7m'], /unknown timeframe "7m"/);
    expect(r.stderr).toMatch(/1m 3m 5m 15m/);
  });
});

describe('halyard data import + ls + backtest on the cache', () => {
  const M = 60_000;
  const T0 = Date.UTC(2024, 2, 1, 0, 0);
  const N = 300;

  /** A hand-written 6-column kline CSV: N one-minute rows of a smooth deterministic wave around 30,000. */
  function klineCsv(): string {
    const rows = ['timestamp,open,high,low,close,volume'];
    let prev = 30_000;
    for (let i = 0; i < N; i++) {
      const close = 30_000 + 150 * Math.sin(i / 12) + 40 * Math.sin(i / 3.1);
      const open = prev;
      const high = Math.max(open, close) + 3 + (i % 5);
      const low = Math.min(open, close) - 3 - (i % 7);
      rows.push([T0 + i * M, open.toFixed(2), high.toFixed(2), low.toFixed(2), close.toFixed(2), (1 + (i % 10) / 10).toFixed(3)].join(','));
      prev = close;
    }
    return `${rows.join('\n')}\n`;
  }

  it('imports a CSV, lists it, and backtests it from the cache', async () => {
    const sb = await sandbox();
    const csv = join(sb.root, 'btc-1m.csv');
    await writeFile(csv, klineCsv());

    const imp = await sb.run('data', 'import', csv, '--exchange', 'binance', '--symbol', SYMBOL, '--timeframe', '1m');
    expectOk(imp);
    expect(imp.stdout).toContain(`imported ${N} rows`);

    const ls = await sb.run('data', 'ls', '--json');
    expectOk(ls);
    const listed = JSON.parse(ls.stdout) as { exchange: string; symbol: string; timeframe: string; rows: number; first: string; last: string; missingBars: number }[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      exchange: 'binance',
      symbol: SYMBOL,
      timeframe: '1m',
      rows: N,
      first: new Date(T0).toISOString(),
      last: new Date(T0 + (N - 1) * M).toISOString(),
      missingBars: 0,
    });

    const bt = await sb.run('backtest', SMA, '--exchange', 'binance', '--symbol', SYMBOL, '--param', 'fast=5', '--param', 'slow=20', '--json');
    expectOk(bt);
    const json = parseResults(bt.stdout);
    expect(json.config).toMatchObject({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', from: T0, to: T0 + (N - 1) * M });
    expect(json.config.params).toMatchObject({ fast: 5, slow: 20 });
    expect(json.summary.trades).toBeGreaterThan(0);
    // Without --out, the run still writes its folder under OUTPUT_PATH, holding what --json printed.
    const folders = await runFolders(sb.out);
    expect(folders).toHaveLength(1);
    expect(await readFile(join(sb.out, folders[0] as string, 'results.json'), 'utf8')).toBe(bt.stdout);
  });

});

describe('strategy files outside the repo', () => {
  /** Writes a one-trade strategy (a long at the first close, held to the end) into `dir`. */
  async function writeOnceLong(dir: string): Promise<string> {
    const api = pathToFileURL(join(ROOT, 'src', 'strategy', 'index.ts')).href;
    const file = join(dir, 'once.ts');
    await writeFile(
      file,
      [
        `import { Strategy, openLong, type SignalOutput, type StrategyContext } from '${api}';`,
        'export default class OnceLong extends Strategy {',
        '  private done = false;',
        '  onCandle(ctx: StrategyContext): SignalOutput {',
        '    if (this.done) return;',
        '    this.done = true;',
        '    return openLong({ qty: 0.01, stopLoss: ctx.candles().close() * 0.5 });',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    return file;
  }

  async function expectOnceLongRuns(sb: Sandbox, file: string): Promise<void> {
    const r = await sb.run('backtest', file, '--synthetic', '--days', '1', '--json', '--no-report');
    expectOk(r);
    const json = parseResults(r.stdout);
    expect(json.config.strategy).toBe('OnceLong');
    expect(json.trades).toHaveLength(1);
    expect(json.trades[0]).toMatchObject({ side: 'long', qty: 0.01, exitReason: 'end_of_data', entryTime: Date.UTC(2024, 0, 1, 0, 1) });
  }

  it('loads a .ts strategy from a temp folder that is an ESM package', async () => {
    const sb = await sandbox();
    const dir = join(sb.root, 'strategies');
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await expectOnceLongRuns(sb, await writeOnceLong(dir));
  });

  // bin/halyard.js registers tsx's CommonJS hooks too, so a folder without "type": "module" works.
  it('loads a .ts strategy from a plain temp folder (no package.json)', async () => {
    const sb = await sandbox();
    const dir = join(sb.root, 'plain');
    await mkdir(dir);
    await expectOnceLongRuns(sb, await writeOnceLong(dir));
  });
});

describe('run folders', () => {
  it('runs started together each get their own folder, and the seed is recorded', async () => {
    const sb = await sandbox();
    const runs = await Promise.all([1, 2, 3, 4].map((seed) => sb.run('backtest', SMA, '--synthetic', '--days', '1', '--seed', String(seed))));
    for (const r of runs) expect(r.code).toBe(0);
    const folders = await runFolders(sb.out);
    expect(folders).toHaveLength(4);
    const seeds = await Promise.all(folders.map(async (f) => (await readResults(join(sb.out, f))).json.config.seed));
    expect([...seeds].sort()).toEqual([1, 2, 3, 4]);
  });
});
