import { readFileSync } from 'node:fs';
import { HalyardError } from '../core/errors.ts';

/**
 * Reads a funding-rate series from a CSV of `timestamp,rate` rows (epoch ms or ISO time; rate as a
 * fraction per interval, e.g. 0.0001). A header row is allowed. Rows must be in time order.
 */
export function loadFundingCsv(file: string): { ts: Float64Array; rate: Float64Array } {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const ts: number[] = [];
  const rate: number[] = [];
  lines.forEach((line, idx) => {
    const [a = '', b = ''] = line.split(',').map((x) => x.trim());
    if (idx === 0 && Number.isNaN(Number(b))) return; // header
    const t = /^\d+$/.test(a) ? Number(a) : Date.parse(a);
    const r = Number(b);
    if (!Number.isFinite(t) || !Number.isFinite(r)) throw new HalyardError('invalid_input', `${file}:${idx + 1}: expected timestamp,rate, got "${line}"`);
    if (ts.length && t <= (ts[ts.length - 1] as number)) throw new HalyardError('invalid_input', `${file}:${idx + 1}: timestamps must increase`);
    ts.push(t);
    rate.push(r);
  });
  if (ts.length === 0) throw new HalyardError('invalid_input', `${file}: no funding rows`);
  return { ts: Float64Array.from(ts), rate: Float64Array.from(rate) };
}
