import { errors as ccxtErrors } from 'ccxt';
import { HalyardError, isHalyardError, errorMessage } from '../core/errors.ts';

/** How `withRetry` retries transient failures: exponential backoff with full jitter, capped. */
export interface RetryPolicy {
  /** Attempts in all, the first one included (≥ 1). */
  readonly maxAttempts: number;
  /** Backoff cap before the first retry (ms); it doubles on every further retry. */
  readonly baseDelayMs: number;
  /** Ceiling of any single wait (ms), a Retry-After included. */
  readonly maxDelayMs: number;
  /** Uniform random numbers in [0, 1) for the jitter (injected in tests; default Math.random). */
  readonly rng?: () => number;
  /** Waits `ms` milliseconds (injected in tests; default a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Which failures are worth another attempt (default `isTransient`). */
  readonly isTransient?: (err: unknown) => boolean;
  /** The wait the venue asked for after `err` (ms), e.g. from a Retry-After header. */
  readonly retryAfterMs?: (err: unknown) => number | undefined;
  /** What is being attempted, for the final error message (e.g. `binance:paper createOrder`). */
  readonly label?: string;
}

/** The default policy: 4 attempts, waits of up to 0.5 s, 1 s, 2 s (each capped at 10 s). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 10_000 });

/** ccxt errors that say "try again later": the network, rate limits, maintenance, a 5xx. */
const TRANSIENT_CCXT = [ccxtErrors.NetworkError, ccxtErrors.OperationFailed] as const;
/** OperationFailed subclasses that are not about availability (a garbled answer is not fixed by waiting). */
const NOT_TRANSIENT_CCXT = [ccxtErrors.BadResponse, ccxtErrors.NullResponse] as const;
/** Node socket errors that mean the request may not have arrived or its answer was lost. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * True when `err` is worth retrying: a ccxt NetworkError (RequestTimeout, RateLimitExceeded,
 * DDoSProtection, ExchangeNotAvailable, OnMaintenance, InvalidNonce) or OperationFailed (an exchange's
 * "internal error, try again"), a socket error, or our own `venue_unavailable`. Authentication, rejected
 * orders and bad requests are not: the same request would fail the same way.
 */
export function isTransient(err: unknown): boolean {
  if (isHalyardError(err)) return err.code === 'venue_unavailable';
  if (NOT_TRANSIENT_CCXT.some((c) => err instanceof c)) return false;
  if (TRANSIENT_CCXT.some((c) => err instanceof c)) return true;
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}

/** The wait before retry number `retry` (1 = first retry), in ms: full jitter over `min(max, base·2^(retry−1))`. */
export function backoffMs(retry: number, policy: RetryPolicy, rng: () => number = policy.rng ?? Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(rng() * cap);
}

/** Parses an HTTP Retry-After value (delta seconds or an HTTP date) into ms from `now` (epoch ms). */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

const timerSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` (given the attempt number, 1-based) until it succeeds, a non-transient error is thrown (passed
 * through unchanged), or `maxAttempts` transient failures have happened: then a HalyardError
 * `venue_unavailable` with `attempts` in its context and the last failure as cause. Between attempts it
 * waits the full-jitter backoff, or the venue's Retry-After when that is longer (both capped at maxDelayMs).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const transient = policy.isTransient ?? isTransient;
  const sleep = policy.sleep ?? timerSleep;
  const attempts = Math.max(1, Math.floor(policy.maxAttempts));
  let last: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!transient(err)) throw err;
      last = err;
      if (attempt === attempts) break;
      const asked = policy.retryAfterMs?.(err) ?? 0;
      await sleep(Math.min(policy.maxDelayMs, Math.max(asked, backoffMs(attempt, policy))));
    }
  }
  const what = policy.label ?? 'the venue request';
  throw new HalyardError('venue_unavailable', `${what} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorMessage(last)}`, { attempts, label: policy.label }, last);
}
