import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { z } from 'zod';
import { SystemClock } from '../clock.ts';
import { exchangeUrlOverride } from '../config.ts';
import type { Gap } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { parseTimeframe, TIMEFRAME_MS } from '../core/timeframe.ts';
import { importCsv, listCache, type CacheEntry, type FetchSummary, type ImportCsvResult } from '../data/index.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { EXCHANGES, isExchange, type ExchangeId } from '../exchange/targets.ts';
import { parseTime } from './options.ts';
import { table } from './output.ts';

/**
 * What the data commands need from the program: where the candle cache lives, and for `data fetch` the
 * exchange base-URL override (default: HALYARD_EXCHANGE_URL_<EXCHANGE>) and the clock (default: system).
 */
export interface DataCommandDeps {
  readonly cacheRoot: () => string;
  readonly exchangeUrl?: (exchange: string) => string | undefined;
  readonly clock?: Clock;
}

const ImportOptions = z.object({
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  timeframe: z.string().min(1),
  json: z.boolean().optional(),
});

const LsOptions = z.object({ json: z.boolean().optional() });

const FetchOptions = z.object({
  exchange: z.string().min(1),
  symbol: z.string().min(1),
  timeframe: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1).optional(),
  cacheDir: z.string().min(1).optional(),
  oi: z.boolean(),
  json: z.boolean().optional(),
});

/** Validates commander's parsed options against a schema, as a HalyardError naming the bad option. */
function options<T>(schema: z.ZodType<T>, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new HalyardError('invalid_input', `--${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
}

/**
 * A ccxt unified symbol: `BASE/QUOTE` or `BASE/QUOTE:SETTLE` (perpetuals), ASCII only; the base may carry
 * lower case (hyperliquid's `kPEPE`), a dated future a `-YYMMDD` suffix.
 */
const UNIFIED_SYMBOL = /^[A-Za-z0-9]+\/[A-Z0-9]+(?::[A-Z0-9]+(?:-[A-Z0-9]+)*)?$/;

/**
 * Refuses a symbol that is not in ccxt unified form, naming the unified form it probably means
 * (`BTCUSDT` → `BTC/USDT:USDT`): the cache folder is named after the symbol, so `BTCUSDT` would make a
 * series no backtest (SYMBOL, --symbol BTC/USDT:USDT) ever reads.
 */
function checkSymbol(symbol: string, exchange: ExchangeId | undefined): string {
  if (UNIFIED_SYMBOL.test(symbol)) return symbol;
  let meant = 'BTC/USDT:USDT';
  try {
    meant = venueSymbol(symbol, exchange ?? 'binance');
  } catch {
    // not even a ticker: keep the example
  }
  throw new HalyardError('invalid_input', `--symbol ${JSON.stringify(symbol)} is not a ccxt unified symbol: use BASE/QUOTE:SETTLE, e.g. ${meant}`, { symbol });
}

/** Refuses an exchange the settings' EXCHANGE would refuse, naming the accepted ones. */
function checkExchange(exchange: string): ExchangeId {
  if (isExchange(exchange)) return exchange;
  throw new HalyardError('invalid_input', `--exchange ${JSON.stringify(exchange)} is not an exchange Halyard knows: use one of ${EXCHANGES.join(', ')} (as in EXCHANGE)`, { exchange });
}

/** Open time as short ISO UTC (minute precision: the finest timeframe is 1m). */
const iso = (t: number): string => (Number.isFinite(t) ? `${new Date(t).toISOString().slice(0, 16)}Z` : '-');
const missing = (gaps: readonly Gap[]): number => gaps.reduce((s, g) => s + g.count, 0);
const int = (n: number): string => n.toLocaleString('en-US');
const plural = (n: number, one: string): string => `${int(n)} ${one}${n === 1 ? '' : 's'}`;

function gapsJson(gaps: readonly Gap[]): { from: string; to: string; count: number }[] {
  return gaps.map((g) => ({ from: new Date(g.from).toISOString(), to: new Date(g.to).toISOString(), count: g.count }));
}

function printImport(r: ImportCsvResult, file: string, timeframe: string): void {
  const lines = [
    `imported ${plural(r.rows, 'row')} from ${file}`,
    `into     ${r.path} (${plural(r.cacheRows, 'row')} after merge)`,
    `range    ${iso(r.first)} → ${iso(r.last)} (${timeframe})`,
    `cvd      ${r.exactCvd ? 'exact, from taker-buy volume' : 'approximate: volume × sign(close − open)'}`,
    `gaps     ${r.gaps.length === 0 ? 'none' : `${plural(r.gaps.length, 'gap')}, ${plural(missing(r.gaps), 'missing bar')} (reported, not filled)`}`,
  ];
  for (const g of r.gaps.slice(0, 10)) lines.push(`         from ${iso(g.from)}: ${plural(g.count, 'bar')} missing`);
  if (r.gaps.length > 10) lines.push(`         … and ${int(r.gaps.length - 10)} more (--json lists all)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function printList(entries: readonly CacheEntry[], root: string): void {
  if (entries.length === 0) {
    process.stdout.write(`no cached candles under ${root}; add some with: halyard data import <file.csv[.gz]> --exchange <e> --symbol <s> --timeframe <tf>\n`);
    return;
  }
  const rows = entries.map((e) => [
    e.exchange,
    e.symbol,
    e.timeframe,
    int(e.rows),
    iso(e.first),
    iso(e.last),
    e.gaps.length === 0 ? '0' : `${int(e.gaps.length)} (${plural(missing(e.gaps), 'bar')})`,
    size(e.bytes),
  ]);
  const header = ['exchange', 'symbol', 'timeframe', 'rows', 'first (UTC)', 'last (UTC)', 'gaps', 'size'];
  process.stdout.write(`${table(header, rows, new Set([3, 7]))}\n`);
}

const CVD_TEXT = { exact: 'exact, from taker-buy volume', approximate: 'approximate: volume × sign(close − open)', mixed: 'mixed (the file holds exact and approximate rows)' } as const;

function oiText(s: FetchSummary): string {
  const oi = s.openInterest;
  if (oi.status === 'skipped') return `skipped (${oi.reason ?? '--no-oi'})`;
  if (oi.status === 'unsupported' || oi.status === 'unavailable') return `${oi.status}: ${oi.reason ?? ''}`;
  if (oi.points === 0) return `none fetched${oi.reason ? ` (${oi.reason})` : ''}`;
  return `${plural(oi.points, 'point')} of ${oi.period ?? '?'} history from ${iso(oi.first ?? Number.NaN)}, forward-filled onto the candles${oi.reason ? `; ${oi.reason}` : ''}`;
}

function printFetch(s: FetchSummary): void {
  const bars = s.missing.reduce((n, r) => n + Math.round((r.to - r.from) / TIMEFRAME_MS[s.timeframe]), 0);
  const r = s.requests;
  const lines = [
    `fetched  ${plural(s.rowsFetched, 'row')} of ${s.exchange} ${s.symbol} ${s.timeframe} in ${plural(r.candles, 'request')} (${int(r.retries)} ${r.retries === 1 ? 'retry' : 'retries'})`,
    `into     ${s.path} (${plural(s.cacheRows, 'row')})`,
    `range    ${iso(s.from)} → ${iso(s.to)}`,
    `missing  ${s.missing.length === 0 ? 'nothing: the cache already had every closed candle' : `${plural(bars, 'bar')} in ${plural(s.missing.length, 'range')} requested (--json lists them)`}`,
    `cvd      ${CVD_TEXT[s.cvd]}${s.cacheCvd !== s.cvd ? ` (cache file: ${s.cacheCvd})` : ''}`,
    `oi       ${oiText(s)}`,
    `gaps     ${s.gaps.length === 0 ? 'none' : `${plural(s.gaps.length, 'gap')}, ${plural(missing(s.gaps), 'missing bar')} (the exchange has none there)`}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function fetchJson(s: FetchSummary): unknown {
  const t = (ms: number): string => new Date(ms).toISOString();
  const oi = s.openInterest;
  return {
    exchange: s.exchange,
    symbol: s.symbol,
    timeframe: s.timeframe,
    path: s.path,
    from: t(s.from),
    to: t(s.to),
    rowsFetched: s.rowsFetched,
    cacheRows: s.cacheRows,
    requests: s.requests,
    ranges: s.missing.map((m) => ({ from: t(m.from), to: t(m.to) })),
    cvd: s.cvd,
    cacheCvd: s.cacheCvd,
    openInterest: { ...oi, ...(oi.first !== undefined ? { first: t(oi.first) } : {}) },
    missingBars: missing(s.gaps),
    gaps: gapsJson(s.gaps),
  };
}

/** Adds `halyard data import`, `halyard data ls` and `halyard data fetch`. */
export function registerDataCommands(program: Command, deps: DataCommandDeps): void {
  const data = program.command('data').description('Manage the local candle cache (Parquet files under CACHE_PATH)');

  data
    .command('import')
    .description('Import a Binance kline CSV (12-column raw dump or timestamp,open,high,low,close,volume; .gz or plain) into the cache')
    .argument('<file>', 'CSV file, plain or gzip-compressed')
    .requiredOption('--exchange <exchange>', `exchange the candles come from: ${EXCHANGES.join(', ')}`)
    .requiredOption('--symbol <symbol>', 'ccxt unified symbol, e.g. BTC/USDT:USDT (not BTCUSDT)')
    .requiredOption('--timeframe <tf>', 'timeframe of the rows: 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, raw: unknown) => {
      const o = options(ImportOptions, raw);
      checkSymbol(o.symbol, checkExchange(o.exchange));
      const timeframe = parseTimeframe(o.timeframe);
      const r = await importCsv({ file, exchange: o.exchange, symbol: o.symbol, timeframe, cacheRoot: deps.cacheRoot() });
      if (!o.json) return printImport(r, file, timeframe);
      const out = {
        path: r.path,
        exchange: o.exchange,
        symbol: o.symbol,
        timeframe,
        rows: r.rows,
        cacheRows: r.cacheRows,
        first: new Date(r.first).toISOString(),
        last: new Date(r.last).toISOString(),
        exactCvd: r.exactCvd,
        missingBars: missing(r.gaps),
        gaps: gapsJson(r.gaps),
      };
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  data
    .command('ls')
    .description('List cached series: rows, first and last candle (UTC), gaps and file size')
    .option('--json', 'print the list as JSON')
    .action(async (raw: unknown) => {
      const o = options(LsOptions, raw);
      const root = deps.cacheRoot();
      const entries = await listCache(root);
      if (!o.json) return printList(entries, root);
      const out = entries.map((e) => ({
        exchange: e.exchange,
        symbol: e.symbol,
        timeframe: e.timeframe,
        path: e.path,
        rows: e.rows,
        first: e.rows > 0 ? new Date(e.first).toISOString() : null,
        last: e.rows > 0 ? new Date(e.last).toISOString() : null,
        bytes: e.bytes,
        missingBars: missing(e.gaps),
        gaps: gapsJson(e.gaps),
      }));
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    });

  data
    .command('fetch')
    .description('Download candle history with ccxt into the cache (resumable: only missing ranges are requested), with CVD and open interest')
    .requiredOption('--exchange <exchange>', 'binance (USDⓈ-M), bybit (linear) or hyperliquid')
    .requiredOption('--symbol <symbol>', 'ccxt unified symbol, e.g. BTC/USDT:USDT')
    .option('--timeframe <tf>', 'timeframe: 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d', '1m')
    .requiredOption('--from <date>', 'first candle, UTC date or date-time (inclusive)')
    .option('--to <date>', 'end, UTC date or date-time (exclusive; default now, only closed candles are stored)')
    .option('--cache-dir <dir>', 'candle cache root (default CACHE_PATH)')
    .option('--no-oi', 'skip open-interest history')
    .option('--json', 'print a summary as JSON (rows fetched, requests, ranges, CVD method, open interest)')
    .action(async (raw: unknown) => {
      const o = options(FetchOptions, raw);
      checkSymbol(o.symbol, isExchange(o.exchange) ? o.exchange : undefined);
      const timeframe = parseTimeframe(o.timeframe);
      const clock = deps.clock ?? new SystemClock();
      const from = parseTime(o.from, '--from');
      const to = o.to ? parseTime(o.to, '--to') : clock.now();
      const cacheRoot = o.cacheDir ?? deps.cacheRoot();
      const urls = (deps.exchangeUrl ?? exchangeUrlOverride)(o.exchange);
      // ccxt is large: loaded only by the commands that talk to exchanges.
      const [{ createMarketDataExchange }, { fetchHistory }] = await Promise.all([import('../data/ccxt-exchange.ts'), import('../data/fetch.ts')]);
      const exchange = createMarketDataExchange(o.exchange, urls === undefined ? {} : { urls });
      const bar = !o.json && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'fetch [{bar}] {percentage}% | {value}/{total} candles', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
      let started = false;
      let s: FetchSummary;
      try {
        s = await fetchHistory({
          exchange,
          symbol: o.symbol,
          timeframe,
          from,
          to,
          cacheRoot,
          openInterest: o.oi,
          clock,
          onProgress: (p) => {
            if (!bar) return;
            if (!started) bar.start(p.total, 0);
            started = true;
            bar.update(p.done);
          },
        });
      } finally {
        if (started) bar?.stop();
        await exchange.close();
      }
      if (o.json) process.stdout.write(`${JSON.stringify(fetchJson(s), null, 2)}\n`);
      else printFetch(s);
    });
}
