import { errors } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { HalyardError, isHalyardError } from '../src/core/errors.ts';
import { backoffMs, isTransient, parseRetryAfter, withRetry, type RetryPolicy } from '../src/exchange/retry.ts';

const policy = (waits: number[], extra: Partial<RetryPolicy> = {}): RetryPolicy => ({
  maxAttempts: 4,
  baseDelayMs: 100,
  maxDelayMs: 1_000,
  rng: () => 0.5,
  sleep: async (ms) => void waits.push(ms),
  ...extra,
});

describe('isTransient', () => {
  it('retries what waiting can fix and nothing else', () => {
    const transient = [
      new errors.RequestTimeout('t'),
      new errors.RateLimitExceeded('r'),
      new errors.DDoSProtection('d'),
      new errors.ExchangeNotAvailable('x'),
      new errors.OnMaintenance('m'),
      new errors.NetworkError('n'),
      new errors.OperationFailed('binance {"code":-1001,"msg":"Internal error"}'),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      new HalyardError('venue_unavailable', 'still down'),
    ];
    const final = [
      new errors.AuthenticationError('a'),
      new errors.PermissionDenied('p'),
      new errors.InvalidOrder('i'),
      new errors.InsufficientFunds('f'),
      new errors.BadRequest('b'),
      new errors.BadSymbol('s'),
      new errors.OrderNotFound('o'),
      new errors.BadResponse('garbled'),
      new HalyardError('venue_rejected', 'no'),
      new Error('a bug'),
      'text',
    ];
    expect(transient.map(isTransient)).toEqual(transient.map(() => true));
    expect(final.map(isTransient)).toEqual(final.map(() => false));
  });
});

describe('backoffMs', () => {
  it('draws full jitter under a cap that doubles per retry up to maxDelayMs', () => {
    const p = policy([]);
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, p, () => 0.999_999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffMs(3, p, () => 0)).toBe(0);
    expect(backoffMs(2, p, () => 0.25)).toBe(50);
  });
});

describe('parseRetryAfter', () => {
  it('reads delta seconds and HTTP dates', () => {
    expect(parseRetryAfter('2', 0)).toBe(2_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', Date.UTC(2026, 0, 1))).toBe(5_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });
});

describe('withRetry', () => {
  it('retries transient failures with backoff and returns the first success', async () => {
    const waits: number[] = [];
    const seen: number[] = [];
    const out = await withRetry(async (attempt) => {
      seen.push(attempt);
      if (attempt < 3) throw new errors.RequestTimeout('slow');
      return 'done';
    }, policy(waits));
    expect([out, seen, waits]).toEqual(['done', [1, 2, 3], [50, 100]]);
  });

  it('passes a non-transient error through at once', async () => {
    const waits: number[] = [];
    let calls = 0;
    const refused = new errors.AuthenticationError('bad key');
    await expect(
      withRetry(async () => {
        calls++;
        throw refused;
      }, policy(waits)),
    ).rejects.toBe(refused);
    expect([calls, waits]).toEqual([1, []]);
  });

  it('turns transient failures that outlast the attempts into venue_unavailable with the attempts and cause', async () => {
    const last = new errors.ExchangeNotAvailable('503');
    const err = await withRetry(async () => {
      throw last;
    }, policy([], { maxAttempts: 3, label: 'bybit:paper fetchBalance' })).catch((e: unknown) => e);
    expect(isHalyardError(err, 'venue_unavailable')).toBe(true);
    const h = err as HalyardError;
    expect(h.message).toBe('bybit:paper fetchBalance failed after 3 attempts: 503');
    expect(h.context['attempts']).toBe(3);
    expect(h.cause).toBe(last);
  });

  it('waits at least what the venue asked (Retry-After), capped at maxDelayMs', async () => {
    const waits: number[] = [];
    let n = 0;
    await withRetry(
      async () => {
        if (++n < 3) throw new errors.RateLimitExceeded('429');
        return n;
      },
      policy(waits, { retryAfterMs: () => (n === 1 ? 700 : 5_000) }),
    );
    expect(waits).toEqual([700, 1_000]);
  });
});
