import type { Exchange, OHLCV } from 'ccxt';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import { isTransient } from '../exchange/retry.ts';
import type { Bar } from './ohlcv-source.ts';
import { backoffDelay, notRetried, realSleep, withRetry, type BackoffPolicy } from './retry.ts';

/** One closed candle: open time epoch ms (UTC), prices in quote currency, volume in base units. */
export type LiveCandle = Omit<Bar, 'takerBuy'>;

/** What the feed went through, for logs and tests: a reconnect after a drop, or a REST backfill. */
export type LiveFeedEvent =
  | { readonly kind: 'reconnect'; readonly attempt: number; readonly delayMs: number; readonly error: string }
  | { readonly kind: 'backfill'; readonly from: number; readonly to: number; readonly candles: number };

/** What a live candle feed needs. Times are epoch ms. */
export interface LiveCandleFeedOptions {
  /** A ccxt pro exchange (createMarketDataExchange(id, { ws: true })). */
  readonly exchange: Exchange;
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Decides when a candle's close time has passed and which candles REST may backfill. */
  readonly clock: Clock;
  /** First open time to deliver (missing ones are backfilled over REST); default: the candle forming at start. */
  readonly since?: number;
  /** Reconnect backoff (default: 1 s doubling to 60 s, never giving up); also used for REST retries. */
  readonly backoff?: BackoffPolicy;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform [0, 1) source for jitter (default Math.random). */
  readonly random?: () => number;
  /** How often the clock is checked while the websocket is silent, ms (default 1,000). */
  readonly pollMs?: number;
  /** Wait past a candle's close time before the clock alone closes it, ms (default 2,000). */
  readonly closeGraceMs?: number;
  readonly onEvent?: (e: LiveFeedEvent) => void;
}

/** Default reconnect policy of the live feed: 1 s doubling to 60 s, unlimited tries. */
export const LIVE_BACKOFF: BackoffPolicy = Object.freeze({ attempts: Number.POSITIVE_INFINITY, baseMs: 1_000, maxMs: 60_000 });

const TICK = Symbol('tick');

/**
 * Closed candles of one (exchange, symbol, timeframe) from ccxt pro's watchOHLCV, each exactly once and in
 * open-time order, as an async iterator (`for await (const c of feed)`; one consumer). A candle is closed
 * when a later candle appears on the websocket, or when the clock passes its close time plus a grace (it
 * is then read over REST for its final values). After a websocket drop the feed reconnects with
 * exponential backoff and jitter and first backfills the closed candles it missed over REST (fetchOHLCV
 * from the last delivered candle), so there is no gap and no duplicate. `close()` ends the iteration and
 * closes the ccxt connections.
 */
export class LiveCandleFeed implements AsyncIterable<LiveCandle> {
  private readonly step: number;
  private readonly backoff: BackoffPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Open time of the last candle delivered (or skipped as absent on the exchange). */
  private last: number;
  /** Candles seen on the websocket and not yet closed, by open time (values copied). */
  private readonly forming = new Map<number, LiveCandle>();
  private readonly ready: LiveCandle[] = [];
  private closed = false;
  private stop!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stop = resolve));
  private started = false;

  constructor(private readonly opts: LiveCandleFeedOptions) {
    this.step = TIMEFRAME_MS[opts.timeframe];
    this.backoff = opts.backoff ?? LIVE_BACKOFF;
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    const first = opts.since ?? opts.clock.now();
    this.last = Math.floor(first / this.step) * this.step - this.step;
  }

  /** The closed candles, in order; ends after `close()`. */
  [Symbol.asyncIterator](): AsyncIterator<LiveCandle> {
    if (this.started) throw new HalyardError('invalid_input', 'a LiveCandleFeed has one consumer; it is already iterated');
    this.started = true;
    return this.run();
  }

  /** Stops the feed (the iteration ends) and closes the exchange's websocket connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    await this.opts.exchange.close();
  }

  /** Waits for `p` unless the feed is closed first (then resolves undefined). */
  private until<T>(p: Promise<T>): Promise<T | undefined> {
    return Promise.race([p, this.stopped.then(() => undefined)]);
  }

  private async *run(): AsyncGenerator<LiveCandle> {
    const { exchange, symbol, timeframe } = this.opts;
    let pending: Promise<OHLCV[]> | undefined;
    let failures = 0;
    try {
      if (this.opts.since !== undefined) await this.backfill();
      while (!this.closed) {
        while (this.ready.length > 0) yield this.ready.shift() as LiveCandle;
        if (this.closed) break;
        try {
          pending ??= exchange.watchOHLCV(symbol, timeframe);
          const tick = this.sleep(this.opts.pollMs ?? 1_000).then((): typeof TICK => TICK);
          const got = await this.until(Promise.race([pending, tick]));
          if (got === undefined) break;
          if (got !== TICK) {
            pending = undefined;
            failures = 0;
            this.absorb(got);
          }
          // ccxt resolves a watch on one message; messages of a burst that came while no watch was pending
          // are only in its cache, so read that too.
          this.absorb(this.cachedRows());
          await this.closeReady();
        } catch (e) {
          pending = undefined;
          if (this.closed) break;
          if (!isTransient(e)) throw notRetried(exchange.id, `the ${symbol} ${timeframe} candle stream`, e);
          failures++;
          if (failures >= this.backoff.attempts) {
            throw new HalyardError('venue_error', `${exchange.id} ${symbol} ${timeframe} stream: gave up after ${failures} reconnects: ${(e as Error).message}`, { exchange: exchange.id }, e);
          }
          const delayMs = backoffDelay(this.backoff, failures, this.random);
          this.opts.onEvent?.(Object.freeze({ kind: 'reconnect', attempt: failures, delayMs, error: (e as Error).message }));
          await this.until(this.sleep(delayMs));
          if (this.closed) break;
          // States from before the drop may have missed their last updates: forget them; REST fills in.
          this.forming.clear();
          delete exchange.ohlcvs[symbol]?.[timeframe];
          await this.backfill();
        }
      }
    } finally {
      if (!this.closed) await this.close();
    }
  }

  /** ccxt's cache of websocket candles for the series (latest state per open time). */
  private cachedRows(): readonly OHLCV[] {
    const rows: unknown = this.opts.exchange.ohlcvs[this.opts.symbol]?.[this.opts.timeframe];
    return Array.isArray(rows) ? (rows as OHLCV[]) : [];
  }

  /** Keeps the latest state of each websocket candle newer than the last delivered one. */
  private absorb(rows: readonly OHLCV[]): void {
    for (const [ts, open, high, low, close, volume] of rows) {
      if (ts === undefined || ts <= this.last) continue; // a late update of a delivered candle
      this.forming.set(ts, { ts, open: open ?? Number.NaN, high: high ?? Number.NaN, low: low ?? Number.NaN, close: close ?? Number.NaN, volume: volume ?? Number.NaN });
    }
  }

  /** Moves candles that are closed (a later one exists, or the clock passed close + grace) to `ready`, filling gaps over REST. */
  private async closeReady(): Promise<void> {
    const times = [...this.forming.keys()].sort((a, b) => a - b);
    const latest = times.at(-1);
    const now = this.opts.clock.now();
    const grace = this.opts.closeGraceMs ?? 2_000;
    for (const ts of times) {
      const byLater = latest !== undefined && ts < latest;
      if (!byLater && now < ts + this.step + grace) continue;
      if (ts > this.last + this.step) await this.backfill(ts); // missed candles before this one
      if (!byLater && ts > this.last) await this.backfill(ts + this.step, false); // closed by the clock: REST's final values if it has them
      const c = this.forming.get(ts);
      this.forming.delete(ts);
      if (c === undefined || ts <= this.last) continue;
      this.ready.push(c);
      this.last = ts;
    }
  }

  /**
   * Fetches over REST the closed candles after the last delivered one, up to `upTo` (exclusive) or the end
   * of the last closed candle on the clock, and queues them. With `absentIsGap`, candles the exchange does
   * not return are treated as absent (a gap on the exchange), so they are not asked for again.
   */
  private async backfill(upTo?: number, absentIsGap = true): Promise<void> {
    const { exchange, symbol, timeframe } = this.opts;
    const closedEnd = Math.floor(this.opts.clock.now() / this.step) * this.step;
    const end = Math.min(upTo ?? closedEnd, closedEnd);
    const from = this.last + this.step;
    let got = 0;
    for (let since = from; since < end && !this.closed; ) {
      const rows = await withRetry(exchange, `${symbol} ${timeframe} backfill`, () => exchange.fetchOHLCV(symbol, timeframe, since, 1000, { until: end - 1 }), this.backoff, {
        sleep: this.sleep,
        random: this.random,
      });
      const fresh = rows.filter(([ts]) => ts !== undefined && ts > this.last && ts >= since && ts < end).sort((a, b) => (a[0] as number) - (b[0] as number));
      if (fresh.length === 0) break;
      for (const [ts, open, high, low, close, volume] of fresh) {
        this.ready.push({ ts: ts as number, open: open as number, high: high as number, low: low as number, close: close as number, volume: volume as number });
        this.forming.delete(ts as number);
        this.last = ts as number;
        got++;
      }
      since = this.last + this.step;
    }
    if (end > from) {
      if (absentIsGap) this.last = Math.max(this.last, end - this.step);
      for (const ts of this.forming.keys()) if (ts <= this.last) this.forming.delete(ts);
      this.opts.onEvent?.(Object.freeze({ kind: 'backfill', from, to: end, candles: got }));
    }
  }
}
