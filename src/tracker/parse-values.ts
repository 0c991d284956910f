import { z } from 'zod';
import { asciiSymbol, asciiUpper, MAX_QTY, symbolRefusal } from '../core/instrument.ts';
import type { Side } from '../core/types.ts';

/**
 * A body that cannot become a signal. Thrown by the readers of the parse modules and caught only by
 * `parseSignalBody`, which turns it into an `invalid` outcome: callers never see it.
 */
export class Rejection extends Error {
  override readonly name = 'Rejection';
}

/** Throws a `Rejection` with `reason` (for use in expressions). */
export function reject(reason: string): never {
  throw new Rejection(reason);
}

/** A value found in a body under `name` (its path there, such as `order.amount`, for messages). */
export interface Found {
  readonly name: string;
  readonly value: unknown;
}

/** A value as quoted in a message: JSON, cut to a readable length. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
// Senders quote numbers as often as not ("25600.5"); Number() alone would also take "", "0x10" and " ".
const Numberish = z.union([z.number(), z.string().trim().regex(NUMBER_TEXT).transform(Number)]);

/**
 * How a number is checked: `amount` (quantity or price: >= 0, and 0 means "none" → null),
 * `size` (an absolute size: >= 0, 0 kept), `signed` (any finite number).
 */
export type NumberKind = 'amount' | 'size' | 'signed';

/**
 * Reads a finite number (or numeric string) from `found`, at most `max` in absolute value (the documented
 * limits: `MAX_QTY` for quantities and sizes, `MAX_PRICE` for prices); null when absent.
 */
export function readNumber(found: Found | undefined, kind: NumberKind, max: number = MAX_QTY): number | null {
  if (found === undefined) return null;
  const parsed = Numberish.safeParse(found.value);
  if (!parsed.success) reject(`field ${found.name} is not a number: ${quote(found.value)}`);
  const n = parsed.data;
  if (!Number.isFinite(n)) reject(`field ${found.name} is not a finite number: ${quote(found.value)}`);
  if (kind !== 'signed' && n < 0) reject(`field ${found.name} is negative: ${quote(found.value)}`);
  if (Math.abs(n) > max) reject(`field ${found.name} is above the limit of ${max}: ${quote(found.value)}`);
  return kind === 'amount' && n === 0 ? null : n;
}

/** Latest time accepted (epoch ms of 9999-12-31T23:59:59.999Z): beyond it, a number is in µs or ns. */
const MAX_TIME_MS = 253_402_300_799_999;
/** Epoch numbers below this are seconds, above it milliseconds (1e11 s is the year 5138, 1e11 ms 1973). */
const SECONDS_BELOW = 1e11;
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Reads a signal time as epoch ms: ISO 8601 text (UTC when it names no zone), or epoch s / ms. */
export function readTime(found: Found | undefined): number | null {
  if (found === undefined) return null;
  const { name, value } = found;
  const text = typeof value === 'string' ? value.trim() : null;
  const ms = text !== null && ISO_TIME.test(text) ? isoToMs(text) : epochToMs(value);
  if (ms === null || ms < 0 || ms > MAX_TIME_MS) reject(`field ${name} is not a time (ISO 8601, epoch seconds or ms): ${quote(value)}`);
  return ms;
}

function epochToMs(value: unknown): number | null {
  const parsed = Numberish.safeParse(value);
  if (!parsed.success || !Number.isFinite(parsed.data)) return null;
  const n = parsed.data;
  return Math.round(Math.abs(n) < SECONDS_BELOW ? n * 1000 : n);
}

/** Calendar arithmetic only (no clock); Date.parse would roll 02-31 over into March, so fields are checked. */
function isoToMs(text: string): number | null {
  const m = ISO_TIME.exec(text);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return null;
  const fraction = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
  const offset = offsetMinutes(m[8]);
  return offset === null ? null : Date.UTC(y, mo - 1, d, h, mi, s) + fraction - offset * 60_000;
}

/** The zone's offset east of UTC in minutes (`Z`/none → 0), null when out of range. */
function offsetMinutes(zone: string | undefined): number | null {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  if (hours > 23 || minutes > 59) return null;
  return (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
}

/** Reads free text (an id or a comment; numbers become text); null when absent. */
export function readText(found: Found | undefined): string | null {
  if (found === undefined) return null;
  const { value } = found;
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return reject(`field ${found.name} must be text: ${quote(value)}`);
}

// An exchange prefix has no '/': in ccxt's BTC/USDT:USDT the ':' separates the settle currency.
const EXCHANGE_PREFIX = /^[A-Z0-9_]+:(?=.)/;
/** Longest ticker accepted (the longest ccxt symbols are about 30 characters). */
const MAX_TICKER_LENGTH = 64;

/**
 * Reads the ticker: plain ASCII as sent, in NFKC form (else refused, naming it: never case-folded into
 * another symbol), upper-cased, exchange prefix and TradingView's perpetual `.P` suffix removed.
 */
export function readTicker(found: Found | undefined): string {
  if (found === undefined) return reject('missing ticker');
  if (typeof found.value !== 'string') return reject(`field ${found.name} must be text: ${quote(found.value)}`);
  const ascii = asciiSymbol(found.value);
  if (ascii === null) return reject(`field ${found.name}: ${symbolRefusal('ticker', found.value.length > 80 ? `${found.value.slice(0, 77)}...` : found.value)}`);
  if (ascii.length > MAX_TICKER_LENGTH) reject(`field ${found.name} is longer than ${MAX_TICKER_LENGTH} characters: ${quote(found.value)}`);
  return asciiUpper(ascii).replace(EXCHANGE_PREFIX, '').replace(/(?<=.)\.P$/, '');
}

/** Reads a lower-cased word from `found` and maps it through `words`; rejects anything not in it. */
export function readWord<T>(found: Found | undefined, words: ReadonlyMap<string, T>, what: string): T | null {
  if (found === undefined) return null;
  const word = typeof found.value === 'string' ? words.get(found.value.trim().toLowerCase()) : undefined;
  if (word === undefined) reject(`field ${found.name} must be ${what} (one of ${[...words.keys()].join(', ')}), got ${quote(found.value)}`);
  return word;
}

/** Hedge-mode legs. */
export const SIDE_WORDS: ReadonlyMap<string, Side> = new Map([
  ['long', 'long'],
  ['short', 'short'],
]);
