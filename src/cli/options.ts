import { HalyardError } from '../core/errors.ts';

/** A number option that must be finite and >= 0 (`flag` names it in the error). */
export function nonNegative(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new HalyardError('invalid_input', `${flag} must be a number >= 0, got "${v}"`);
    return n;
  };
}

/** Parses a UTC date or date-time (`2023-06-27`, `2023-06-27T12:00`) or epoch ms into epoch ms. */
export function parseTime(s: string, flag: string): number {
  if (/^\d{10,13}$/.test(s)) return Number(s.length === 10 ? Number(s) * 1000 : s);
  const bad = () => new HalyardError('invalid_input', `${flag}: cannot read "${s}" as a UTC date (use 2023-06-27 or 2023-06-27T12:00)`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d\d:?\d\d)?$/.exec(s.trim());
  if (!m) throw bad();
  const t = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? 'Z'}`);
  // Date.parse rolls impossible dates over (2023-02-30 → March 2); refuse them instead.
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(t) || d.getUTCMonth() !== Number(m[2]) - 1 || d.getUTCDate() !== Number(m[3]) || Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59) throw bad();
  return t;
}

/** Parses a TCP port option. */
export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new HalyardError('invalid_input', `--port must be an integer 0-65535, got '${v}'`);
  return n;
}
