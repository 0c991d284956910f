import { HalyardError } from '../core/errors.ts';

/** Writes `text` to stdout as one line (a trailing newline added when missing). */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** The `--grace <seconds>` of a rotate-secret command: whole seconds (the store checks `max`, named in the error). */
export function graceSeconds(value: string, max: number): number {
  if (!/^\d{1,7}$/.test(value)) throw new HalyardError('invalid_input', `--grace must be whole seconds from 0 to ${max}, got '${value}'`);
  return Number(value);
}

/** Renders rows as a left-aligned text table (the columns in `rightAligned`, numbers, right-aligned). */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]): string =>
    r.map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}
