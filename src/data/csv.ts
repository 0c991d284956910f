import { createReadStream } from 'node:fs';
import { access, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { computeCvd, findGaps, validateCandles, type CandleColumns, type Gap } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { cachePath, mergeCandles, readCacheMeta, readCandles, writeCandles } from './cache.ts';

/** A kline CSV read into candles; `exactCvd` says whether CVD came from taker-buy volume. */
export interface ParsedKlines {
  readonly candles: CandleColumns;
  readonly exactCvd: boolean;
}

/** What `importCsv` needs: the file, which series it is, and the cache root. */
export interface ImportCsvOptions {
  readonly file: string;
  readonly exchange: string;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  readonly cacheRoot: string;
}

/** Result of an import: rows read from the file, their open-time range (epoch ms), their gaps, and the cache file. */
export interface ImportCsvResult {
  readonly rows: number;
  readonly first: number;
  readonly last: number;
  readonly gaps: Gap[];
  readonly path: string;
  /** Rows in the cache file after the merge. */
  readonly cacheRows: number;
  readonly exactCvd: boolean;
}

/** Open times above this are microseconds (Binance spot dumps since 2025), not milliseconds. */
const MICROS_THRESHOLD = 1e14;

/** Growable float columns: ts, open, high, low, close, volume, taker-buy base volume. */
class Columns {
  cap = 1 << 16;
  n = 0;
  cols: Float64Array[] = Array.from({ length: 7 }, () => new Float64Array(this.cap));

  push(ts: number, o: number, h: number, l: number, c: number, v: number, tb: number): void {
    if (this.n === this.cap) {
      this.cap *= 2;
      this.cols = this.cols.map((a) => {
        const b = new Float64Array(this.cap);
        b.set(a);
        return b;
      });
    }
    const [cts, co, ch, cl, cc, cv, ctb] = this.cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const i = this.n++;
    cts[i] = ts;
    co[i] = o;
    ch[i] = h;
    cl[i] = l;
    cc[i] = c;
    cv[i] = v;
    ctb[i] = tb;
  }

  /** Trimmed copies as candles (open interest NaN) plus the taker-buy column. */
  finish(): { candles: CandleColumns; takerBuy: Float64Array } {
    const [ts, open, high, low, close, volume, takerBuy] = this.cols.map((a) => a.slice(0, this.n)) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const openInterest = new Float64Array(this.n).fill(Number.NaN);
    return { candles: { length: this.n, ts, open, high, low, close, volume, openInterest, cvd: new Float64Array(this.n) }, takerBuy };
  }
}

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Parses the decimal in `s[a, b)`; NaN when it is not a finite number. Plain decimals of at most 15
 * digits take an exact fast path (an integer mantissa < 2^53 divided by an exact power of ten is one
 * correctly rounded operation, so the result equals `Number(text)`); anything else goes to `Number`.
 */
function parseDecimal(s: string, a: number, b: number): number {
  if (a >= b) return Number.NaN;
  let m = 0;
  let k = -1;
  let digits = 0;
  for (let i = a; i < b; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 48 && ch <= 57) {
      m = m * 10 + (ch - 48);
      digits++;
      if (k >= 0) k++;
    } else if (ch === 46 && k < 0) k = 0;
    else {
      const v = Number(s.slice(a, b));
      return Number.isFinite(v) && s.charCodeAt(a) !== 32 ? v : Number.NaN;
    }
  }
  if (digits === 0) return Number.NaN;
  if (digits > 15) return Number(s.slice(a, b));
  return k > 0 ? m / (POW10[k] as number) : m;
}

/** Human text for a spacing in ms ("1h", "15m", "90s"). */
function spacing(ms: number): string {
  for (const [tf, len] of Object.entries(TIMEFRAME_MS)) if (len === ms) return tf;
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
}

/**
 * Checks that rows are spaced by the declared timeframe: every open time must be aligned to it (checked
 * per row), and the most common spacing must be exactly one bar — otherwise, e.g., a 1h file imported as
 * 1m would pass as 1m candles with 59 missing bars between each.
 */
function checkSpacing(ts: Float64Array, n: number, tf: Timeframe, file: string): void {
  const step = TIMEFRAME_MS[tf];
  let oneBar = 0;
  for (let i = 1; i < n; i++) if ((ts[i] as number) - (ts[i - 1] as number) === step) oneBar++;
  if (n < 2 || oneBar * 2 >= n - 1) return;
  const counts = new Map<number, number>();
  for (let i = 1; i < n; i++) {
    const d = (ts[i] as number) - (ts[i - 1] as number);
    counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let mode = step;
  let best = 0;
  for (const [d, c] of counts) if (c > best) [mode, best] = [d, c];
  if (mode === step) return;
  throw new HalyardError(
    'invalid_input',
    `${file}: rows are ${spacing(mode)} apart but --timeframe is ${tf}; import it with --timeframe ${spacing(mode)}`,
    { file, timeframe: tf, spacingMs: mode },
  );
}

/**
 * Reads a kline CSV (plain or gzip, detected by magic bytes): Binance's raw 12-column dump or
 * `timestamp,open,high,low,close,volume`, header optional. Open times in µs are converted to ms. CVD is
 * exact from taker-buy base volume when the file has it, else `volume * sign(close - open)`; open
 * interest is NaN. Throws `data_corrupt` naming the line of the first malformed row.
 */
export async function parseKlineCsv(file: string, timeframe: Timeframe): Promise<ParsedKlines> {
  try {
    await access(file);
  } catch (e) {
    throw new HalyardError('not_found', `CSV file not found: ${file}`, { file }, e);
  }
  const step = TIMEFRAME_MS[timeframe];
  let input: Readable = createReadStream(file, { highWaterMark: 1 << 20 });
  if (await isGzip(file)) input = input.pipe(createGunzip({ chunkSize: 1 << 20 }));
  const out = new Columns();
  let width = 0;
  let lineNo = 0;
  let prevTs = -Infinity;
  // Fields are parsed in place over each decoded chunk: no per-line strings or arrays in the common case.
  const bounds = new Int32Array(14);
  let s = '';
  let lineStart = 0;
  let lineEnd = 0;
  const bad = (why: string): never => {
    const line = s.slice(lineStart, lineEnd);
    const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line;
    throw new HalyardError('data_corrupt', `${file}:${lineNo}: ${why}: "${shown}"`, { file, line: lineNo });
  };
  const field = (k: number, name: string): number => {
    const a = bounds[k] as number;
    const b = (bounds[k + 1] as number) - 1;
    const v = parseDecimal(s, a, b);
    if (Number.isNaN(v)) bad(`${name} "${s.slice(a, b)}" is not a number`);
    return v;
  };
  const onLine = (): void => {
    lineNo++;
    let e = lineEnd;
    if (e > lineStart && s.charCodeAt(e - 1) === 13) e--;
    if (e === lineStart) return;
    const c0 = s.charCodeAt(lineStart);
    if (!(c0 >= 48 && c0 <= 57)) {
      // A header (first line, or repeated where daily files were concatenated).
      if (/^(open_time|timestamp|time|date)\b/i.test(s.slice(lineStart, e))) return;
      bad('not a kline row');
    }
    let count = 0;
    bounds[0] = lineStart;
    for (let c = s.indexOf(',', lineStart); c >= 0 && c < e && count < 12; c = s.indexOf(',', c + 1)) bounds[++count] = c + 1;
    bounds[++count] = e + 1;
    if (width === 0) {
      if (count !== 6 && count !== 12) bad(`expected 6 or 12 columns, found ${count}`);
      width = count;
    } else if (count !== width) bad(`expected ${width} columns like the first row, found ${count}`);
    let ts = field(0, 'open time');
    if (ts > MICROS_THRESHOLD) ts = Math.floor(ts / 1000);
    const o = field(1, 'open');
    const h = field(2, 'high');
    const l = field(3, 'low');
    const c = field(4, 'close');
    const v = field(5, 'volume');
    const tb = width === 12 ? field(9, 'taker buy volume') : 0;
    if (!Number.isInteger(ts) || ts < 0) bad('open time is not an epoch-ms integer');
    if (ts % step !== 0) bad(`open time ${new Date(ts).toISOString()} is not aligned to ${timeframe}; is --timeframe right?`);
    if (ts <= prevTs) bad(`open time ${new Date(ts).toISOString()} is not after the previous row's (rows must be sorted and unique)`);
    if (!(l > 0 && l <= Math.min(o, c) && h >= Math.max(o, c))) bad('inconsistent OHLC (need 0 < low <= open,close <= high)');
    if (v < 0 || tb < 0 || tb > v * (1 + 1e-9)) bad('volume must be >= 0 and taker-buy volume within it');
    prevTs = ts;
    out.push(ts, o, h, l, c, v, tb);
  };
  let rest = '';
  try {
    for await (const chunk of input) {
      s = rest + (chunk as Buffer).toString('latin1');
      lineStart = 0;
      for (let q = s.indexOf('\n'); q >= 0; q = s.indexOf('\n', lineStart)) {
        lineEnd = q;
        onLine();
        lineStart = q + 1;
      }
      rest = s.slice(lineStart);
    }
    if (rest !== '') {
      s = rest;
      lineStart = 0;
      lineEnd = s.length;
      onLine();
    }
  } catch (e) {
    if (e instanceof HalyardError) throw e;
    throw new HalyardError('data_corrupt', `cannot read ${file}: ${(e as Error).message}`, { file }, e);
  } finally {
    input.destroy();
  }
  const { candles, takerBuy } = out.finish();
  if (candles.length === 0) throw new HalyardError('data_corrupt', `${file}: no kline rows found`, { file });
  checkSpacing(candles.ts, candles.length, timeframe, file);
  computeCvd(candles, width === 12 ? takerBuy : undefined);
  validateCandles(candles, file);
  return { candles, exactCvd: width === 12 };
}

/** Imports a kline CSV into the cache, merging with what is there (file rows win on equal open times). */
export async function importCsv(opts: ImportCsvOptions): Promise<ImportCsvResult> {
  const { file, exchange, symbol, timeframe, cacheRoot } = opts;
  const path = cachePath(cacheRoot, exchange, symbol, timeframe);
  const { candles, exactCvd } = await parseKlineCsv(file, timeframe);
  let merged = candles;
  const exists = await access(path).then(
    () => true,
    () => false,
  );
  if (exists) {
    const meta = await readCacheMeta(path);
    if (meta.symbol !== symbol || meta.exchange !== exchange) {
      throw new HalyardError('conflict', `${path} holds ${meta.exchange} ${meta.symbol}, not ${exchange} ${symbol}`, { path });
    }
    merged = mergeCandles(await readCandles(path), candles);
  }
  validateCandles(merged, path);
  await writeCandles(path, merged, { exchange, symbol, timeframe });
  return {
    rows: candles.length,
    first: candles.ts[0] as number,
    last: candles.ts[candles.length - 1] as number,
    gaps: findGaps(candles, timeframe),
    path,
    cacheRows: merged.length,
    exactCvd,
  };
}
