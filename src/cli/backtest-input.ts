import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { HalyardError } from '../core/errors.ts';
import { instrumentFor } from '../core/instrument.ts';
import { TIMEFRAME_MS, finerDrillDown, type Timeframe } from '../core/timeframe.ts';
import type { CandleColumns } from '../core/candles.ts';
import { aggregateCandles, allocCandles, CANDLE_FIELDS, findGaps, sliceCandles } from '../core/candles.ts';
import type { Logger } from 'pino';
import type { Settings } from '../config.ts';
import { cachePath, checkCoverage, readCandles, readCovering, syntheticCandles } from '../data/index.ts';
import type { FundingInput } from '../engine/backtest.ts';
import type { FillModel, SlTpPolicy } from '../engine/result.ts';
import { loadFundingCsv } from '../data/funding.ts';
import { parseOwner } from '../report/run-meta.ts';
import { nonNegative, parseTime } from './options.ts';

/** Default synthetic range: 90 days from 2024-01-01 UTC (fixed, so runs repeat exactly). */
const SYNTHETIC_FROM = Date.UTC(2024, 0, 1);
const SYNTHETIC_DAYS = 90;

/** Parses a seed: a whole number from 0 to 2^32 − 1. */
export function parseSeed(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n > 0xffffffff) {
    throw new HalyardError('invalid_input', `--seed must be a whole number from 0 to 4294967295, got "${v}"`);
  }
  return n;
}

/**
 * Creates a new, unique run folder under `root`: `<UTC time to the millisecond>-<name>`, with `-2`,
 * `-3`, … appended when runs start in the same millisecond (mkdir fails on an existing folder, so two
 * processes never share one).
 */
export async function claimRunDir(root: string, name: string): Promise<string> {
  await mkdir(root, { recursive: true });
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/Z$/, 'Z');
  for (let k = 1; ; k++) {
    const dir = join(root, `${stamp}-${name}${k > 1 ? `-${k}` : ''}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** The data, cost and output options that `backtest` and `optimize` share (as commander parses them). */
export interface MarketOptions {
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
}

/** Adds the data options (`--synthetic` … `--sltp`) to a command (`seedHelp` says what `--seed` seeds). */
export function addMarketOptions(cmd: Command, seedHelp = 'seed of the synthetic data (whole number)'): Command {
  return cmd
    .option('--synthetic', 'use built-in seeded synthetic 1m candles (works offline, no import needed)')
    .option('--seed <n>', seedHelp, parseSeed, 42)
    .option('--days <n>', 'synthetic data length in days when --to is not given (default 90)', nonNegative('--days'))
    .option('--exchange <name>', 'exchange of the cached candles (default: EXCHANGE)')
    .option('--symbol <symbol>', 'ccxt unified symbol, e.g. BTC/USDT:USDT (default: SYMBOL)')
    .option('--timeframe <tf>', "base timeframe the loop walks (default: the strategy's first timeframe)")
    .option('--from <date>', 'first candle, UTC date or date-time (inclusive)')
    .option('--to <date>', 'end, UTC date or date-time (exclusive)')
    .addOption(new Option('--fill <model>', 'how signals fill').choices(['close', 'next-open']).default('close'))
    .addOption(new Option('--sltp <policy>', 'SL and TP both hit in the finest candle').choices(['conservative', 'candle-direction']).default('conservative'));
}

/** Adds the account and cost options (`--balance` … `--mmr`) to a command. */
export function addCostOptions(cmd: Command): Command {
  return cmd
    .option('--balance <quote>', 'initial balance (default: INITIAL_BALANCE)', nonNegative('--balance'))
    .option('--leverage <x>', 'leverage, isolated margin (default: LEVERAGE)', nonNegative('--leverage'))
    .option('--maker-fee <bps>', 'maker fee in basis points (default: MAKER_FEE_BPS)', nonNegative('--maker-fee'))
    .option('--taker-fee <bps>', 'taker fee in basis points (default: TAKER_FEE_BPS)', nonNegative('--taker-fee'))
    .option('--slippage <bps>', 'slippage on market and stop fills in basis points (default: SLIPPAGE_BPS)', nonNegative('--slippage'))
    .option('--funding <rate|file>', 'funding rate per 8 h (e.g. 0.0001) or a CSV of timestamp,rate')
    .option('--mmr <rate>', 'maintenance margin rate for liquidation prices', nonNegative('--mmr'), 0.005);
}

/** Adds the output options (`--out`, `--allow-partial`, `--owner`, `--share`, `--json`) to a command. */
export function addRunOptions(cmd: Command, json: string): Command {
  return cmd
    .option('--out <dir>', 'run folder (default: OUTPUT_PATH/<run-id>)')
    .option('--allow-partial', 'run even when the cache holds only part of --from/--to (a warning names the range it covers)')
    .option('--owner <user>', "the user whose run this is (the server lists it to that user's dashboard)", parseOwner)
    .option('--share', "list the run to every user of the server's dashboard")
    .option('--json', json);
}

/** The base candles and the finer series cached for the SL/TP drill-down. */
export interface LoadedData {
  readonly base: CandleColumns;
  readonly finer: Map<Timeframe, CandleColumns>;
  /** Open time of the first candle that trades when `base` starts with warm-up candles (epoch ms). */
  readonly tradeFrom?: number;
}

/** Where the candles come from: the exchange and symbol named in results (`synthetic` for built-in data). */
export interface Market {
  readonly exchange: string;
  readonly symbol: string;
}

/** The exchange and symbol the options name (settings fill what they leave out). */
export function marketOf(o: MarketOptions, s: Settings): Market {
  return { exchange: o.synthetic ? 'synthetic' : (o.exchange ?? s.EXCHANGE), symbol: o.symbol ?? s.SYMBOL };
}

function loadSynthetic(o: MarketOptions, base: Timeframe, warmup: number): LoadedData {
  const from = o.from ? parseTime(o.from, '--from') : SYNTHETIC_FROM;
  const to = o.to ? parseTime(o.to, '--to') : from + (o.days ?? SYNTHETIC_DAYS) * 86_400_000;
  if (!(to > from)) throw new HalyardError('invalid_input', '--to must be after --from');
  // Warm-up candles are generated before `from` (the series then differs from one without warm-up).
  const start = from - warmup * TIMEFRAME_MS[base];
  const m1 = syntheticCandles({ seed: o.seed, from: start, count: Math.floor((to - start) / 60_000) });
  const finer = new Map<Timeframe, CandleColumns>();
  const tradeFrom = warmup > 0 ? { tradeFrom: from } : {};
  if (base === '1m') return { base: m1, finer, ...tradeFrom };
  for (const tf of finerDrillDown(base)) finer.set(tf, tf === '1m' ? m1 : aggregateCandles(m1, tf));
  return { base: aggregateCandles(m1, base), finer, ...tradeFrom };
}

/**
 * `candles` with `warmup` base candles before them: read from the cache before `--from`, or the first
 * candles of the range without `--from` (a shortfall is a warning). Returns the candles and where trading starts.
 */
async function withWarmup(path: string, candles: CandleColumns, warmup: number, from: number | undefined): Promise<{ candles: CandleColumns; tradeFrom?: number }> {
  if (warmup <= 0) return { candles };
  if (from === undefined) return { candles, tradeFrom: candles.ts[warmup] ?? Number.POSITIVE_INFINITY };
  const start = candles.ts[0] as number;
  const before = await readCandles(path, { to: start });
  const warm = sliceCandles(before, before.length - warmup, before.length);
  if (warm.length < warmup) process.stderr.write(`warning: the cache holds ${warm.length} of the ${warmup} warm-up candles before --from\n`);
  const all = allocCandles(warm.length + candles.length);
  for (const f of CANDLE_FIELDS) {
    all[f].set(warm[f]);
    all[f].set(candles[f], warm.length);
  }
  return { candles: all, tradeFrom: start };
}

async function loadCached(root: string, exchange: string, symbol: string, base: Timeframe, o: MarketOptions, warmup: number): Promise<LoadedData> {
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
  const warm = await withWarmup(cachePath(root, exchange, symbol, base), candles, warmup, from);
  return { base: warm.candles, finer, ...(warm.tradeFrom !== undefined ? { tradeFrom: warm.tradeFrom } : {}) };
}

/**
 * Loads the candles the options name: synthetic, or from the cache at `s.CACHE_PATH` (warns on gaps),
 * with `warmup` base candles before the start that only warm up indicators.
 */
export async function loadMarketData(o: MarketOptions, s: Settings, market: Market, base: Timeframe, log: Logger, warmup = 0): Promise<LoadedData> {
  const data = o.synthetic ? loadSynthetic(o, base, warmup) : await loadCached(s.CACHE_PATH, market.exchange, market.symbol, base, o, warmup);
  const gaps = findGaps(data.base, base);
  if (gaps.length > 0) {
    const missing = gaps.reduce((a, g) => a + g.count, 0);
    log.warn({ gaps: gaps.length, missingBars: missing, first: new Date(gaps[0]!.from).toISOString() }, 'the data has gaps; the backtest walks the candles that exist');
  }
  return data;
}

async function loadFunding(spec: string | undefined): Promise<FundingInput> {
  if (spec === undefined) return 0;
  const n = Number(spec);
  if (Number.isFinite(n)) return n;
  if (!existsSync(spec)) throw new HalyardError('invalid_input', `--funding: "${spec}" is neither a rate (e.g. 0.0001) nor an existing CSV file`);
  return loadFundingCsv(spec);
}

/** The account, costs and fill rules of a run (the part of `runBacktest`'s input every combination shares). */
export interface RunSettings {
  readonly initialBalance: number;
  readonly leverage: number;
  /** Fees and slippage in basis points. */
  readonly makerFeeBps: number;
  readonly takerFeeBps: number;
  readonly slippageBps: number;
  readonly funding: FundingInput;
  readonly fill: FillModel;
  readonly slTpPolicy: SlTpPolicy;
  readonly maintenanceMarginRate: number;
  /** Instrument tick (quote) and lot (base units). */
  readonly tick: number;
  readonly lot: number;
  /** Seed of synthetic data, undefined for recorded data. */
  readonly seed: number | undefined;
}

/** The run settings the options name (settings fill what they leave out; a funding CSV is read here). */
export async function runSettings(o: MarketOptions, s: Settings, symbol: string): Promise<RunSettings> {
  const inst = instrumentFor(symbol);
  return {
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
  };
}
