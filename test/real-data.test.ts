// End-to-end tests on the shared real Binance data (../shared/data beside the repo): import with the real
// CLI, the README's backtest command, the same run in-process, and the SL/TP drill-down into 1m candles.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CandleColumns } from '../src/core/candles.ts';
import { instrumentFor } from '../src/core/instrument.ts';
import { loadSettings } from '../src/config.ts';
import { cachePath, readCandles } from '../src/data/index.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import { serializeResults, type ResultsJson } from '../src/report/results.ts';
import { loadStrategyFile } from '../src/strategy/load.ts';
import { parseParams } from '../src/strategy/strategy.ts';
import { runHalyard } from './cli-run.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const DATA = resolve(ROOT, '..', 'shared', 'data');
const M1_FILE = join(DATA, 'binance-spot-BTCUSDT-1m-365d.csv.gz');
const H1_FILE = join(DATA, 'binance-spot-BTCUSDT-1h.csv.gz');
const HAVE_DATA = existsSync(M1_FILE) && existsSync(H1_FILE);

const SYMBOL = 'BTC/USDT:USDT';
const MIN = 60_000;
const FROM = Date.UTC(2023, 5, 27); // 2023-06-27T00:00Z
const TO = Date.UTC(2024, 5, 26); // 2024-06-26T00:00Z, exclusive
const TICK = 0.1; // BTC/USDT:USDT price tick

/** The README's real-data command, word for word (after `npx halyard`). */
const README_ARGS = [
  'backtest', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26',
  '--fill', 'next-open', '--param', 'fast=50', '--param', 'slow=200', '--param', 'qty=1', '--param', 'sl=0.01', '--param', 'tp=0.02',
  '--balance', '1000000', '--json',
];
const README_PARAMS = ['fast=50', 'slow=200', 'qty=1', 'sl=0.01', 'tp=0.02'];



/** Runs a command that must succeed and returns its stdout parsed as JSON. */
async function halyardJson<T>(args: readonly string[], cache: string, output: string): Promise<T> {
  const r = await runHalyard(args, { CACHE_PATH: cache, OUTPUT_PATH: output });
  expect(r.stderr, `stderr of: halyard ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface ImportJson {
  readonly rows: number;
  readonly cacheRows: number;
  readonly first: string;
  readonly last: string;
  readonly missingBars: number;
}

interface LsEntry {
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: string;
  readonly rows: number;
  readonly first: string | null;
  readonly last: string | null;
  readonly missingBars: number;
  readonly gaps: readonly { readonly from: string; readonly to: string; readonly count: number }[];
}

/** Index of the candle opening at `t` (binary search on the sorted open times), or -1. */
function indexAt(c: CandleColumns, t: number): number {
  let lo = 0;
  let hi = c.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = c.ts[mid] as number;
    if (v === t) return mid;
    if (v < t) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * A 1h strategy that, when flat, opens a long of qty 1 at the close of the 23:00 candle (every 24 h) with
 * a stop-loss and a take-profit 0.5 % from that close: an hour moving 1 % touches both.
 */
function dailyBracketSource(): string {
  const api = pathToFileURL(join(ROOT, 'src', 'strategy', 'index.ts')).href;
  return [
    `import { Strategy, openLong, type SignalOutput, type StrategyContext } from '${api}';`,
    '',
    'const defaults = { qty: 1, sl: 0.005, tp: 0.005 };',
    '',
    'export default class DailyBracket extends Strategy<typeof defaults> {',
    '  static override readonly defaults = defaults;',
    "  override readonly timeframes = ['1h'] as const;",
    '  onCandle(ctx: StrategyContext): SignalOutput {',
    '    if (ctx.time % 86_400_000 !== 0 || ctx.position() !== undefined) return;',
    '    const price = ctx.candles().close();',
    '    const p = this.params;',
    '    return openLong({ qty: p.qty, stopLoss: price * (1 - p.sl), takeProfit: price * (1 + p.tp) });',
    '  }',
    '}',
    '',
  ].join('\n');
}

describe.skipIf(!HAVE_DATA)(`real Binance BTCUSDT data${HAVE_DATA ? '' : ` (skipped: ${M1_FILE} or ${H1_FILE} not found)`}`, () => {
  let tmp = '';
  let cacheFull = ''; // 1m (365 days) + 1h (2022-01 → 2024-06)
  let cacheHourly = ''; // 1h only
  let output = '';
  let imported1m: ImportJson;
  let imported1h: ImportJson;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'halyard-real-data-'));
    cacheFull = join(tmp, 'cache-full');
    cacheHourly = join(tmp, 'cache-1h');
    output = join(tmp, 'output');
    const imp = (file: string, tf: string, cache: string): Promise<ImportJson> =>
      halyardJson<ImportJson>(['data', 'import', file, '--exchange', 'binance', '--symbol', SYMBOL, '--timeframe', tf, '--json'], cache, output);
    [imported1m, imported1h] = await Promise.all([imp(M1_FILE, '1m', cacheFull), imp(H1_FILE, '1h', cacheFull)]);
    await imp(H1_FILE, '1h', cacheHourly);
  });

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  // The README command's result, run once and shared by the tests that need it.
  let readme: Promise<ResultsJson> | undefined;
  const readmeRun = (): Promise<ResultsJson> => (readme ??= halyardJson<ResultsJson>(README_ARGS, cacheFull, output));

  // The same candles, read in-process through the cache reader.
  let m1: Promise<CandleColumns> | undefined;
  const m1Candles = (): Promise<CandleColumns> => (m1 ??= readCandles(cachePath(cacheFull, 'binance', SYMBOL, '1m'), { from: FROM, to: TO }));

  it('imports the 1m and 1h files; data ls shows their rows, ranges and the 1h gap', async () => {
    expect(imported1m).toMatchObject({ rows: 525_600, cacheRows: 525_600, first: '2023-06-27T00:00:00.000Z', last: '2024-06-25T23:59:00.000Z', missingBars: 0 });
    expect(imported1h).toMatchObject({ rows: 21_767, cacheRows: 21_767, first: '2022-01-01T00:00:00.000Z', last: '2024-06-25T23:00:00.000Z', missingBars: 1 });

    const ls = await halyardJson<LsEntry[]>(['data', 'ls', '--json'], cacheFull, output);
    expect(ls).toHaveLength(2);
    const byTf = new Map(ls.map((e) => [e.timeframe, e]));
    expect(byTf.get('1m')).toMatchObject({ exchange: 'binance', symbol: SYMBOL, rows: 525_600, first: '2023-06-27T00:00:00.000Z', last: '2024-06-25T23:59:00.000Z', missingBars: 0, gaps: [] });
    const h1 = byTf.get('1h');
    expect(h1).toMatchObject({ exchange: 'binance', symbol: SYMBOL, rows: 21_767, first: '2022-01-01T00:00:00.000Z', last: '2024-06-25T23:00:00.000Z', missingBars: 1 });
    // The one gap: the Binance spot halt of 2023-03-24, whose 13:00 hour is missing.
    expect(h1?.gaps).toHaveLength(1);
    expect(h1?.gaps[0]).toMatchObject({ from: '2023-03-24T13:00:00.000Z', count: 1 });
    // 2022-01-01 → 2024-06-25T23:00 is 21,768 hours: the rows plus the one missing bar.
    expect((Date.parse('2024-06-25T23:00:00Z') - Date.parse('2022-01-01T00:00:00Z')) / 3_600_000 + 1).toBe(21_767 + 1);

    const hourlyOnly = await halyardJson<LsEntry[]>(['data', 'ls', '--json'], cacheHourly, output);
    expect(hourlyOnly.map((e) => e.timeframe)).toEqual(['1h']);
  });

  it("runs the README's real-data command over the whole year", async () => {
    const r = await readmeRun();
    const c = await m1Candles();
    expect(c.length).toBe(525_600);

    expect(r.config).toMatchObject({
      strategy: 'SmaCross',
      exchange: 'binance',
      symbol: SYMBOL,
      timeframe: '1m',
      from: FROM,
      fromIso: '2023-06-27T00:00:00.000Z',
      to: TO - MIN,
      toIso: '2024-06-25T23:59:00.000Z',
      fill: 'next-open',
      slTpPolicy: 'conservative',
      initialBalance: 1_000_000,
      positionMode: 'oneway',
      drillDown: [],
    });
    expect(r.config.params).toMatchObject({ fast: 50, slow: 200, qty: 1, sl: 0.01, tp: 0.02 });
    // 525,600 one-minute candles walked, first to last, none missing in this slice.
    expect((r.config.to - r.config.from) / MIN + 1).toBe(525_600);

    const s = r.summary;
    expect(s.trades).toBeGreaterThan(100);
    expect(r.trades).toHaveLength(s.trades);
    expect(Number.isFinite(s.finalEquity)).toBe(true);
    expect(s.finalEquity).toBeGreaterThan(0);
    expect(s.fees).toBeGreaterThan(0);
    expect(s.drilledDownCandles).toBe(0); // 1m is the finest timeframe: nothing to drill into
    expect(s.liquidations).toBe(0);

    let longStops = 0;
    for (const t of r.trades) {
      // Entries fill at a candle open inside the range; exits happen at a candle open, or at the end
      // (the last candle's close time, which is the --to bound).
      expect(t.entryTime).toBeGreaterThanOrEqual(FROM);
      expect(t.entryTime).toBeLessThanOrEqual(TO - MIN);
      expect(t.exitTime).toBeGreaterThanOrEqual(t.entryTime);
      expect(t.exitTime).toBeLessThanOrEqual(TO);
      expect(t.qty).toBe(1);
      // next-open: the entry is the open of the candle after the signal, rounded to the tick.
      const e = indexAt(c, t.entryTime);
      expect(e, `entry candle of ${t.id}`).toBeGreaterThan(0);
      expect(Math.abs(t.entryPrice - (c.open[e] as number))).toBeLessThanOrEqual(TICK / 2 + 1e-6);

      if (t.side === 'long' && t.exitReason === 'stop_loss') {
        longStops++;
        // The stop is 1 % below the SIGNAL candle's close (the candle before the entry), not below the
        // entry price: with next-open fills the entry (next open) can sit below that close, so
        // `exitPrice <= entryPrice * 0.99 + tick` does not hold in general (on this data pos-003060, 2024-05-15:
        // signal close 64,093.9, entry 64,090.3, stop 63,453.0 > 0.99 × 64,090.3 + 0.1). The stop fills at
        // the stop (rounded to the nearest tick) or, on a gap, at a lower open; and the price traded there.
        expect(t.entries).toBe(1);
        const signalClose = c.close[e - 1] as number;
        const x = indexAt(c, t.exitTime);
        expect(x, `exit candle of ${t.id}`).toBeGreaterThanOrEqual(e);
        expect(t.exitPrice, `stop exit of ${t.id}`).toBeLessThanOrEqual(signalClose * (1 - 0.01) + TICK / 2 + 1e-6);
        expect(t.exitPrice).toBeLessThanOrEqual((c.open[x] as number) + TICK);
        expect(t.exitPrice).toBeGreaterThanOrEqual((c.low[x] as number) - TICK);
      }
    }
    expect(longStops).toBeGreaterThan(0);
  });

  it('the CLI summary equals runBacktest in-process on candles from readCandles', async () => {
    const [cli, candles] = await Promise.all([readmeRun(), m1Candles()]);
    const defaults = loadSettings({}); // the built-in defaults the CLI falls back to
    expect(cli.config).toMatchObject({ leverage: defaults.LEVERAGE, makerFeeBps: defaults.MAKER_FEE_BPS, takerFeeBps: defaults.TAKER_FEE_BPS, slippageBps: defaults.SLIPPAGE_BPS, funding: 0, maintenanceMarginRate: 0.005 });
    const Cls = await loadStrategyFile(join(ROOT, 'strategies', 'sma-cross.ts'));
    const strategy = new Cls(parseParams(Cls.defaults, README_PARAMS));
    const inst = instrumentFor(SYMBOL);
    const result = runBacktest({
      strategy,
      exchange: 'binance',
      symbol: SYMBOL,
      candles,
      timeframe: '1m',
      finer: new Map(),
      initialBalance: 1_000_000,
      leverage: defaults.LEVERAGE,
      makerFeeBps: defaults.MAKER_FEE_BPS,
      takerFeeBps: defaults.TAKER_FEE_BPS,
      slippageBps: defaults.SLIPPAGE_BPS,
      funding: 0,
      fill: 'next-open',
      slTpPolicy: 'conservative',
      maintenanceMarginRate: 0.005,
      tick: inst.tick,
      lot: inst.lot,
    });
    expect(result.summary.trades).toBe(cli.summary.trades);
    expect(result.summary.finalEquity).toBe(cli.summary.finalEquity);
    const inProcess = JSON.parse(serializeResults(result)) as ResultsJson;
    expect(inProcess.summary).toEqual(cli.summary);
    expect(inProcess.config).toEqual(cli.config);
    expect(inProcess.trades).toEqual(cli.trades);
  });

  it('drills down into cached 1m candles when an hour touches both stop-loss and take-profit', async () => {
    const dir = join(tmp, 'strategy');
    await mkdir(dir, { recursive: true });
    // An ESM package folder: see the KNOWN BUG test in test/cli.test.ts for .ts files outside one.
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    const file = join(dir, 'daily-bracket.ts');
    await writeFile(file, dailyBracketSource());
    const args = ['backtest', file, '--timeframe', '1h', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26', '--balance', '1000000', '--json', '--no-report'];
    const [fine, coarse] = await Promise.all([halyardJson<ResultsJson>(args, cacheFull, output), halyardJson<ResultsJson>(args, cacheHourly, output)]);

    for (const r of [fine, coarse]) {
      expect(r.config).toMatchObject({ strategy: 'DailyBracket', timeframe: '1h', from: FROM, to: TO - 3_600_000, slTpPolicy: 'conservative' });
      expect(r.summary.rejectedOrders).toBe(0);
      expect(r.summary.trades).toBeGreaterThan(300); // about one a day
    }
    expect(fine.config.drillDown).toEqual(['1m']);
    expect(coarse.config.drillDown).toEqual([]);

    // With 1m candles the ambiguous hours are resolved by drill-down; with 1h only, none can be.
    expect(fine.summary.drilledDownCandles).toBeGreaterThan(0);
    expect(coarse.summary.drilledDownCandles).toBe(0);
    expect(coarse.summary.ambiguousCandles).toBeGreaterThan(0);

    // Either resolution exits in the same hour, so both runs hold the same positions at the same times;
    // the hours that touch both levels are the same ones, and only their outcome may differ.
    expect(fine.summary.trades).toBe(coarse.summary.trades);
    expect(fine.summary.ambiguousCandles + fine.summary.drilledDownCandles).toBe(coarse.summary.ambiguousCandles);
    let changed = 0;
    fine.trades.forEach((f, i) => {
      const c = coarse.trades[i];
      expect(c).toBeDefined();
      expect(f.entryTime).toBe(c?.entryTime);
      expect(f.exitTime).toBe(c?.exitTime);
      if (f.exitReason !== c?.exitReason) {
        changed++;
        // conservative resolves an unresolvable hour as the stop; the 1m data showed the take-profit first
        expect([f.exitReason, c?.exitReason]).toEqual(['take_profit', 'stop_loss']);
      }
    });
    expect(changed).toBeLessThanOrEqual(fine.summary.drilledDownCandles);
  });
});
