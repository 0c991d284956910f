import { HalyardError, errorMessage, isHalyardError } from '../../core/errors.ts';
import type { PaperRuntime, RuntimeCandle } from './runtime.ts';

/** How an error is handled (the seed's categories). Transient ones are retried inside the venue and feed. */
export type ErrorCategory = 'recoverable' | 'critical';

/**
 * Recoverable: the venue or the network stayed unavailable, or an answer could not be read — worth
 * another try. Critical: refused credentials, invalid configuration, corrupt data, a strategy bug, or
 * anything unknown — the run stops.
 */
export function categorize(e: unknown): ErrorCategory {
  if (!isHalyardError(e)) return 'critical';
  return e.code === 'venue_unavailable' || e.code === 'venue_error' || e.code === 'rate_limited' ? 'recoverable' : 'critical';
}

/** Where the driver reports. */
export interface DriverHooks {
  /** A recoverable error: logged; `persisted` when the retry failed too (alert then). */
  onRecoverable(e: unknown, persisted: boolean): void;
  /** A candle was processed (for progress and tests). */
  onProcessed?(c: RuntimeCandle, rt: PaperRuntime): void;
}

/** How a run ended. */
export interface DriverResult {
  readonly status: 'finished' | 'stopped' | 'failed';
  /** The runtime at the end (a new one when a failed candle reopened it). */
  readonly runtime: PaperRuntime;
  readonly reason: string;
  readonly error?: unknown;
}

/**
 * Drives a paper runtime over a stream of closed candles until the stream ends (`finished`), `signal`
 * aborts (`stopped`: the candle in progress completes and is stored first) or a critical error
 * (`failed`). A candle that fails for a recoverable reason is tried once more on a runtime reopened from
 * the store (so no half-applied candle survives in memory); if it fails again, the error is reported and
 * the next candle tries again.
 */
export async function drive(
  reopen: () => Promise<PaperRuntime>,
  first: PaperRuntime,
  candles: AsyncIterable<RuntimeCandle>,
  warmed: readonly RuntimeCandle[],
  signal: AbortSignal,
  hooks: DriverHooks,
): Promise<DriverResult> {
  let rt = first;
  const end = (status: DriverResult['status'], reason: string, error?: unknown): DriverResult => ({ status, runtime: rt, reason, ...(error !== undefined ? { error } : {}) });
  const seen: RuntimeCandle[] = [...warmed];
  const rewarm = async (): Promise<void> => {
    rt = await reopen();
    const cursor = rt.lastProcessed;
    for (const c of seen) if (cursor !== null && c.ts <= cursor) rt.warm(c);
  };
  let failing = false;
  /**
   * Processes `x` (on a run reopened from the store when `reopen`): null when done, a result when the
   * error is critical, 'recoverable' otherwise (reported, with `last` when no try is left).
   */
  const attempt = async (x: RuntimeCandle, reopen: boolean, last: boolean): Promise<DriverResult | 'recoverable' | null> => {
    try {
      if (reopen) await rewarm();
      await rt.process(x);
      hooks.onProcessed?.(x, rt);
      return null;
    } catch (e) {
      if (categorize(e) === 'critical') return end('failed', errorMessage(e), e);
      hooks.onRecoverable(e, last);
      return 'recoverable';
    }
  };
  try {
    for await (const c of candles) {
      if (signal.aborted) return end('stopped', String(signal.reason ?? 'stop requested'));
      seen.push(c);
      const cursor = rt.lastProcessed;
      // Candles after the one that failed are processed only once it went through.
      const todo = failing ? seen.filter((x) => cursor === null || x.ts > cursor) : [c];
      for (const x of todo) {
        let r = await attempt(x, failing, false);
        // A recoverable failure: once more, on a run reopened from the store (nothing half-applied stays).
        if (r === 'recoverable') r = await attempt(x, true, true);
        if (r === null) {
          failing = false;
          continue;
        }
        if (r !== 'recoverable') return r;
        failing = true;
        break;
      }
      if (signal.aborted) return end('stopped', String(signal.reason ?? 'stop requested'));
    }
  } catch (e) {
    if (signal.aborted) return end('stopped', String(signal.reason ?? 'stop requested'));
    return end('failed', errorMessage(e), e);
  }
  if (failing) return end('failed', 'the last candles could not be processed', new HalyardError('venue_unavailable', 'candles left unprocessed'));
  return signal.aborted ? end('stopped', String(signal.reason ?? 'stop requested')) : end('finished', 'end of the candles');
}

/** Replays cached candles at `speed` × real time (0: as fast as possible); stops early when `signal` aborts. */
export async function* replayCandles(candles: readonly RuntimeCandle[], baseMs: number, speed: number, signal: AbortSignal): AsyncGenerator<RuntimeCandle> {
  const wait = speed > 0 ? baseMs / speed : 0;
  for (const c of candles) {
    if (signal.aborted) return;
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) return;
    yield c;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
