import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { HalyardError } from '../core/errors.ts';
import { instrumentFor } from '../core/instrument.ts';
import { TIMEFRAME_MS, finerDrillDown, parseTimeframe, type Timeframe } from '../core/timeframe.ts';
import type { CandleColumns } from '../core/candles.ts';
import { aggregateCandles, findGaps } from '../core/candles.ts';
import { createLogger } from '../log.ts';
import type { Settings } from '../config.ts';
import { cachePath, checkCoverage, readCandles, readCovering, syntheticCandles } from '../data/index.ts';
import { runBacktest, type FundingInput } from '../engine/backtest.ts';
import type { FillModel, SlTpPolicy } from '../engine/result.ts';
import { loadFundingCsv } from '../data/funding.ts';
import { serializeResults, writeRun } from '../report/index.ts';
import { parseOwner } from '../report/run-meta.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { parseParams } from '../strategy/strategy.ts';
import { nonNegative, parseTime } from './options.ts';
import { summaryTable } from './summary.ts';

/** Default synthetic range: 90 days from 2024-01-01 UTC (fixed, so runs repeat exactly). */
const SYNTHETIC_FROM = Date.UTC(2024, 0, 1);
const SYNTHETIC_DAYS = 90;

/** Parses a seed: a whole number from 0 to 2^32 − 1. */
function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new HalyardError('invalid_input', `--seed must be a whole number from 0 to 4294967295, got "${v}"`);
  }
  return n;
}

/**
 * Creates a new, unique run folder under `root`: `<UTC time to the millisecond>-<strategy>`, with `-2`,
 * `-3`, … appended when runs start in the same millisecond (mkdir fails on an existing folder, so two
 * processes never share one).
 */
async function claimRunDir(root: string, strategy: string): Promise<string> {
  await mkdir(root, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/Z$/, 'Z');
  for (let k = 1; ; k++) {
    const dir = join(root, `${stamp}-${strategy}${k > 1 ? `-${k}` : ''}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

interface BacktestOptions {
  synthetic?: boolean;
  seed: number;
  days?: number;
  exchange?: string;
  symbol?: string;
  timeframe?: string;
  from?: string;
  to?: string;
  fill: FillModel;
  sltp: SlTpPolicy;
  param: string[];
  balance?: number;
  leverage?: number;
  makerFee?: number;
  takerFee?: number;
  slippage?: number;
  funding?: string;
  mmr: number;
  out?: string;
  allowPartial?: boolean;
  owner?: string;
  share?: boolean;
  json?: boolean;
  report: boolean;
  progress: boolean;
}

interface LoadedData {
  base: CandleColumns;
  finer: Map<Timeframe, CandleColumns>;
}

function loadSynthetic(o: BacktestOptions, base: Timeframe): LoadedData {
  const from = o.from ? parseTime(o.from, '--from') : SYNTHETIC_FROM;
  const to = o.to ? parseTime(o.to, '--to') : from + (o.days ?? SYNTHETIC_DAYS) * 86_400_000;
  if (!(to > from)) throw new HalyardError('invalid_input', '--to must be after --from');
  const m1 = syntheticCandles({ seed: o.seed, from, count: Math.floor((to - from) / 60_000) });
  const finer = new Map<Timeframe, CandleColumns>();
  if (base === '1m') return { base: m1, finer };
  for (const tf of finerDrillDown(base)) finer.set(tf, tf === '1m' ? m1 : aggregateCandles(m1, tf));
  return { base: aggregateCandles(m1, base), finer };
}

async function loadCached(root: string, exchange: string, symbol: string, base: Timeframe, o: BacktestOptions): Promise<LoadedData> {
  const from = o.from ? parseTime(o.from, '--from') : undefined;
  const to = o.to ? parseTime(o.to, '--to') : undefined;
  const { candles, coverage } = await readCovering(cachePath(root, exchange, symbol, base), base, { from, to });
  const warning = checkCoverage(coverage, `${exchange} ${symbol} ${base}`, o.allowPartial === true);
  if (warning !== null) process.stderr.write(`${warning}\n`);
  if (candles.length === 0) throw new HalyardError('data_missing', `no ${exchange} ${symbol} ${base} candles in the cache for that range (see: halyard data ls)`);
  const finer = new Map<Timeframe, CandleColumns>();
  const lo = candles.ts[0] as number;
  const hi = (candles.ts[candles.length - 1] as number) + TIMEFRAME_MS[base];
  for (const tf of finerDrillDown(base)) {
    const p = cachePath(root, exchange, symbol, tf);
    if (existsSync(p)) finer.set(tf, await readCandles(p, { from: lo, to: hi }));
  }
  return { base: candles, finer };
}

async function loadFunding(spec: string | undefined): Promise<FundingInput> {
  if (spec === undefined) return 0;
  const n = Number(spec);
  if (Number.isFinite(n)) return n;
  if (!existsSync(spec)) throw new HalyardError('invalid_input', `--funding: "${spec}" is neither a rate (e.g. 0.0001) nor an existing CSV file`);
  return loadFundingCsv(spec);
}

/** Registers `halyard backtest`. */
export function registerBacktestCommand(program: Command, settings: () => Settings): void {
  program
    .command('backtest')
    .description('Backtest a strategy file on cached candles (or built-in synthetic data) and write a report')
    .argument('<strategy>', 'strategy file (.ts or .js) exporting a Strategy class')
    .option('--synthetic', 'use built-in seeded synthetic 1m candles (works offline, no import needed)')
    .option('--seed <n>', 'seed of the synthetic data (whole number)', parseSeed, 42)
    .option('--days <n>', 'synthetic data length in days when --to is not given (default 90)', nonNegative('--days'))
    .option('--exchange <name>', 'exchange of the cached candles (default: EXCHANGE)')
    .option('--symbol <symbol>', 'ccxt unified symbol, e.g. BTC/USDT:USDT (default: SYMBOL)')
    .option('--timeframe <tf>', "base timeframe the loop walks (default: the strategy's first timeframe)")
    .option('--from <date>', 'first candle, UTC date or date-time (inclusive)')
    .option('--to <date>', 'end, UTC date or date-time (exclusive)')
    .addOption(new Option('--fill <model>', 'how signals fill').choices(['close', 'next-open']).default('close'))
    .addOption(new Option('--sltp <policy>', 'SL and TP both hit in the finest candle').choices(['conservative', 'candle-direction']).default('conservative'))
    .option('--param <name=value>', 'strategy parameter (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--balance <quote>', 'initial balance (default: INITIAL_BALANCE)', nonNegative('--balance'))
    .option('--leverage <x>', 'leverage, isolated margin (default: LEVERAGE)', nonNegative('--leverage'))
    .option('--maker-fee <bps>', 'maker fee in basis points (default: MAKER_FEE_BPS)', nonNegative('--maker-fee'))
    .option('--taker-fee <bps>', 'taker fee in basis points (default: TAKER_FEE_BPS)', nonNegative('--taker-fee'))
    .option('--slippage <bps>', 'slippage on market and stop fills in basis points (default: SLIPPAGE_BPS)', nonNegative('--slippage'))
    .option('--funding <rate|file>', 'funding rate per 8 h (e.g. 0.0001) or a CSV of timestamp,rate')
    .option('--mmr <rate>', 'maintenance margin rate for liquidation prices', nonNegative('--mmr'), 0.005)
    .option('--out <dir>', 'run folder (default: OUTPUT_PATH/<run-id>)')
    .option('--allow-partial', 'run even when the cache holds only part of --from/--to (a warning names the range it covers)')
    .option('--owner <user>', "the user whose run this is (the server lists it to that user's dashboard)", parseOwner)
    .option('--share', "list the run to every user of the server's dashboard")
    .option('--json', 'print only the results JSON on stdout')
    .option('--no-report', 'do not write the run folder')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: BacktestOptions) => {
      const s = settings();
      const log = createLogger(s);
      const Cls = await loadStrategyFile(file);
      const params = parseParams(Cls.defaults, o.param);
      const strategy = new Cls(params);
      const base = parseTimeframe(o.timeframe ?? strategy.timeframes[0] ?? '1m');
      const exchange = o.synthetic ? 'synthetic' : (o.exchange ?? s.EXCHANGE);
      const symbol = o.symbol ?? s.SYMBOL;
      const data = o.synthetic ? loadSynthetic(o, base) : await loadCached(s.CACHE_PATH, exchange, symbol, base, o);
      const inst = instrumentFor(symbol);
      const gaps = findGaps(data.base, base);
      if (gaps.length > 0) {
        const missing = gaps.reduce((a, g) => a + g.count, 0);
        log.warn({ gaps: gaps.length, missingBars: missing, first: new Date(gaps[0]!.from).toISOString() }, 'the data has gaps; the backtest walks the candles that exist');
      }
      log.debug({ strategy: strategy.name, params, exchange, symbol, timeframe: base, candles: data.base.length, drillDown: [...data.finer.keys()] }, 'data loaded');
      const showBar = o.progress && !o.json && process.stderr.isTTY && data.base.length > 200_000;
      // cli-progress loads only when a bar is drawn (a terminal, a long run): piped runs start sooner.
      const cliProgress = showBar ? (await import('cli-progress')).default : undefined;
      const bar = cliProgress ? new cliProgress.SingleBar({ format: 'backtest [{bar}] {percentage}% | {value}/{total} candles', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
      bar?.start(data.base.length, 0);
      const result = runBacktest({
        strategy,
        exchange,
        symbol,
        candles: data.base,
        timeframe: base,
        finer: data.finer,
        initialBalance: o.balance ?? s.INITIAL_BALANCE,
        leverage: o.leverage ?? s.LEVERAGE,
        makerFeeBps: o.makerFee ?? s.MAKER_FEE_BPS,
        takerFeeBps: o.takerFee ?? s.TAKER_FEE_BPS,
        slippageBps: o.slippage ?? s.SLIPPAGE_BPS,
        funding: await loadFunding(o.funding),
        fill: o.fill,
        slTpPolicy: o.sltp,
        maintenanceMarginRate: o.mmr,
        tick: inst.tick,
        lot: inst.lot,
        seed: o.synthetic ? o.seed : undefined,
        onProgress: bar ? (done) => bar.update(done) : undefined,
      });
      bar?.stop();
      log.debug({ trades: result.summary.trades, finalEquity: result.summary.finalEquity }, 'backtest done');
      let dir: string | null = null;
      let json: string | null = null;
      if (o.report) {
        dir = o.out ?? (await claimRunDir(s.OUTPUT_PATH, strategy.name));
        json = (await writeRun(result, dir, { ...(o.owner !== undefined ? { owner: o.owner } : {}), ...(o.share ? { shared: true } : {}) })).resultsJson;
      }
      if (o.json) {
        process.stdout.write(json ?? serializeResults(result));
      } else {
        process.stdout.write(summaryTable(result, dir));
      }
    });
}
