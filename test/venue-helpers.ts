import { isHalyardError, type HalyardError } from '../src/core/errors.ts';
import type { CcxtVenueOptions } from '../src/exchange/ccxt/index.ts';
import type { RetryPolicy } from '../src/exchange/retry.ts';
import type { Venue } from '../src/core/venue.ts';
import type { VenueHarness } from './venue-contract.ts';

/** Fast retries for tests: no real waiting, the waits recorded. */
export function quickRetry(waits: number[] = []): Partial<RetryPolicy> {
  return { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 2_000, rng: () => 0.5, sleep: async (ms) => void waits.push(ms) };
}

/** What every adapter test sets against a stub: its URL, no client-side rate limiter, short timeouts, quick retries. */
export function stubSettings(url: string, extra: { retry?: Partial<RetryPolicy>; timeoutMs?: number } = {}): Pick<CcxtVenueOptions, 'urlOverride' | 'enableRateLimit' | 'timeoutMs' | 'retry'> {
  return { urlOverride: url, enableRateLimit: false, timeoutMs: extra.timeoutMs ?? 2_000, retry: extra.retry ?? quickRetry() };
}

/** The HalyardError `p` rejects with (fails the test when it resolves or throws something else). */
export async function failure(p: Promise<unknown>): Promise<HalyardError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isHalyardError(e)) throw new Error(`expected a HalyardError, got ${String(e)}`);
  return e;
}

/** The contract harness of a ccxt venue and the stub it talks to (prices move on the stub). */
export function stubHarness(stub: { setPrice(symbol: string, price: number): Promise<void>; requestCount(): number; close(): Promise<void> }, venue: Venue): VenueHarness {
  return {
    venue,
    setPrice: (symbol, price) => stub.setPrice(symbol, price),
    requestCount: () => stub.requestCount(),
    close: async () => {
      await venue.close();
      await stub.close();
    },
  };
}
