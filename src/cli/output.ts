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
