import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { lowerBound, type CandleColumns } from '../core/candles.ts';

/**
 * A derived copy of a Parquet cache file as raw little-endian Float64 columns, beside it as
 * `<tf>.parquet.columns`, so that a backtest reads its candles with a few `pread`s into typed arrays
 * instead of decoding Parquet (hyparquet's decode, its buffer copies and their garbage collection were
 * ~60 % of the year command's time). The Parquet file stays the cache: this copy is written when the Parquet
 * file is, rebuilt from it when missing, and ignored when it does not match the Parquet file's size and
 * modification time (another tool rewrote it) — nothing reads it but `readCandles`.
 *
 * Layout: a 64-byte header (magic `HLYDCOL1`, format version, rows, column count, the Parquet file's size
 * and mtime in ms), then each column's `rows` doubles in the order of `FIELDS`.
 */
export const FIELDS = ['ts', 'open', 'high', 'low', 'close', 'volume', 'openInterest', 'cvd'] as const;
const MAGIC = 'HLYDCOL1';
const VERSION = 1;
const HEADER = 64;

/** Path of the columns copy of a Parquet cache file. */
export const columnsPath = (parquet: string): string => `${parquet}.columns`;

interface Stamp {
  readonly size: number;
  readonly mtimeMs: number;
}

function header(rows: number, stamp: Stamp): Uint8Array {
  const b = new ArrayBuffer(HEADER);
  const bytes = new Uint8Array(b);
  for (let i = 0; i < MAGIC.length; i++) bytes[i] = MAGIC.charCodeAt(i);
  const v = new DataView(b);
  v.setUint32(8, VERSION, true);
  v.setUint32(12, FIELDS.length, true);
  v.setFloat64(16, rows, true);
  v.setFloat64(24, stamp.size, true);
  v.setFloat64(32, stamp.mtimeMs, true);
  return bytes;
}

/**
 * Writes the columns copy of the Parquet file `parquet` (already renamed into place) from `cols`.
 * Atomic (a temp file renamed over the copy). Best-effort: a copy that cannot be written (read-only
 * cache, full disk) is skipped, and reads decode the Parquet file as before.
 */
export function writeColumnsFile(parquet: string, cols: CandleColumns): void {
  const path = columnsPath(parquet);
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    const st = statSync(parquet);
    fd = openSync(tmp, 'w');
    writeSync(fd, header(cols.length, st));
    for (const f of FIELDS) {
      const col = cols[f];
      writeSync(fd, new Uint8Array(col.buffer, col.byteOffset, cols.length * 8));
    }
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
  }
}

/**
 * Reads candles with open times in [from, to) from the columns copy of `parquet`, or returns undefined
 * when there is no copy that matches the Parquet file as it is now (then the caller decodes Parquet).
 */
export function readColumnsFile(parquet: string, from: number, to: number): CandleColumns | undefined {
  let fd: number;
  try {
    fd = openSync(columnsPath(parquet), 'r');
  } catch {
    return undefined;
  }
  try {
    const st = statSync(parquet);
    const head = new Uint8Array(HEADER);
    if (readSync(fd, head, 0, HEADER, 0) !== HEADER) return undefined;
    for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC.charCodeAt(i)) return undefined;
    const v = new DataView(head.buffer);
    const rows = v.getFloat64(16, true);
    if (v.getUint32(8, true) !== VERSION || v.getUint32(12, true) !== FIELDS.length) return undefined;
    if (v.getFloat64(24, true) !== st.size || v.getFloat64(32, true) !== st.mtimeMs) return undefined;
    if (fstatSync(fd).size !== HEADER + rows * 8 * FIELDS.length) return undefined;
    const read = (k: number, start: number, end: number): Float64Array => {
      const out = new Float64Array(end - start);
      const bytes = out.length * 8;
      let done = 0;
      while (done < bytes) {
        const n = readSync(fd, new Uint8Array(out.buffer, done, bytes - done), 0, bytes - done, HEADER + k * rows * 8 + start * 8 + done);
        if (n === 0) throw new Error('short read');
        done += n;
      }
      return out;
    };
    const ts = read(0, 0, rows);
    const i0 = lowerBound(ts, from);
    const i1 = Math.max(i0, lowerBound(ts, to));
    const cols: Record<string, Float64Array> = { ts: i0 === 0 && i1 === rows ? ts : ts.slice(i0, i1) };
    for (let k = 1; k < FIELDS.length; k++) cols[FIELDS[k]!] = read(k, i0, i1);
    return { ...(cols as Record<(typeof FIELDS)[number], Float64Array>), length: i1 - i0 };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
