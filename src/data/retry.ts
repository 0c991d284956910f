import { AuthenticationError, BadSymbol, DDoSProtection, PermissionDenied, type Exchange } from 'ccxt';
import { HalyardError, isHalyardError } from '../core/errors.ts';
import { backoffMs, parseRetryAfter, withRetry as retry, type RetryPolicy } from '../exchange/retry.ts';

/** Exponential backoff: `baseMs` doubling per attempt up to `maxMs`, at most `attempts` tries in all. */
export interface BackoffPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  /** Delay before the first retry, ms (before jitter). */
  readonly baseMs: number;
  /** Cap of the delay, ms (before jitter). */
  readonly maxMs: number;
}

/** Time and randomness for retries, injected so tests are deterministic. */
export interface RetryDeps {
  /** Waits `ms` milliseconds. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Uniform float in [0, 1), for jitter. */
  readonly random: () => number;
}

/** Default retry policy of the data layer: 6 tries, 1 s doubling to 30 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ attempts: 6, baseMs: 1_000, maxMs: 30_000 });

/** Real waiting: a timer. */
export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delay before retry number `retry` (1-based), ms: the one backoff of Halyard (exponential, full jitter,
 * capped; `backoffMs` in exchange/retry.ts) under the data layer's policy names.
 */
export function backoffDelay(policy: BackoffPolicy, retry: number, random: () => number): number {
  return backoffMs(retry, asRetryPolicy(policy), random);
}

/** The data layer's policy as the shared RetryPolicy. */
function asRetryPolicy(policy: BackoffPolicy): RetryPolicy {
  return { maxAttempts: policy.attempts, baseDelayMs: policy.baseMs, maxDelayMs: policy.maxMs };
}

/** A ccxt error that will not go away by retrying, as a HalyardError that says so. */
export function notRetried(exchangeId: string, what: string, e: unknown): HalyardError {
  const msg = e instanceof Error ? e.message : String(e);
  if (e instanceof AuthenticationError || e instanceof PermissionDenied) {
    return new HalyardError('unauthorized', `${exchangeId} refused ${what}: authentication/permission error, not retried (check the API key or the proxy): ${msg}`, { exchange: exchangeId }, e);
  }
  if (e instanceof BadSymbol) return new HalyardError('invalid_input', `${exchangeId} does not know the symbol of ${what}, not retried: ${msg}`, { exchange: exchangeId }, e);
  if (e instanceof HalyardError) return e;
  return new HalyardError('venue_error', `${exchangeId} rejected ${what}, not retried: ${msg}`, { exchange: exchangeId }, e);
}

/** Retry-After of the exchange's last response in ms (seconds or an HTTP date), when it sent one. */
function retryAfterMs(exchange: Exchange, now: number): number | undefined {
  return parseRetryAfter(exchange.last_response_headers?.['Retry-After'], now);
}

/** What a retried call reports: the attempt that failed, the error and the wait before the next try (ms). */
export interface RetryEvent {
  readonly attempt: number;
  readonly error: unknown;
  readonly delayMs: number;
}

/**
 * Runs `call` against `exchange` through the shared `withRetry`: rate-limit, timeout and network errors
 * retried with exponential backoff and jitter (never shorter than a Retry-After the exchange sent); other
 * errors are thrown at once as a HalyardError (see `notRetried`). `onRetry` sees every retry (for counting).
 */
export async function withRetry<T>(
  exchange: Exchange,
  what: string,
  call: () => Promise<T>,
  policy: BackoffPolicy,
  deps: RetryDeps,
  onRetry?: (ev: RetryEvent) => void,
): Promise<T> {
  let attempt = 0;
  let last: unknown;
  try {
    return await retry(
      async (n) => {
        attempt = n;
        try {
          return await call();
        } catch (e) {
          last = e;
          throw e;
        }
      },
      {
        ...asRetryPolicy(policy),
        rng: deps.random,
        label: `${exchange.id}: ${what}`,
        retryAfterMs: (e) => (e instanceof DDoSProtection ? retryAfterMs(exchange, Date.now()) : undefined),
        sleep: async (ms) => {
          onRetry?.({ attempt, error: last, delayMs: ms });
          await deps.sleep(ms);
        },
      },
    );
  } catch (e) {
    if (!isHalyardError(e, 'venue_unavailable')) throw notRetried(exchange.id, what, e);
    if (last instanceof DDoSProtection) throw new HalyardError('rate_limited', e.message, { exchange: exchange.id, attempts: attempt }, last);
    throw e;
  }
}
