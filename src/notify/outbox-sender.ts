import type { Kysely } from 'kysely';
import { PassLoop } from './pass-loop.ts';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Settings } from '../config.ts';
import { backoffMs, parseRetryAfter, type RetryPolicy } from '../exchange/retry.ts';
import { dialectOf } from '../store/dialect.ts';
import type { Claim } from '../store/jobs.ts';
import { holderId } from '../store/leases.ts';
import { claimDueEvents, dueEvents, markDead, markDelivered, markRetry, releaseEventClaims, type OutboxRow } from '../store/outbox.ts';
import type { Database } from '../store/schema.ts';
import { networkReason, postJson } from './http.ts';
import { signWebhook, webhookSignature } from './standard-webhooks.ts';

/** How the sender retries an event the receiver did not take. */
export interface OutboxPolicy {
  /** Backoff cap before the first retry (ms); it doubles on every further retry (full jitter). */
  readonly baseDelayMs: number;
  /** Longest wait before a retry (ms), a Retry-After included. */
  readonly maxDelayMs: number;
  /** Attempts in all before an event is given up as `dead`; unset = retry for ever (the default). */
  readonly maxAttempts?: number;
  /** Uniform random numbers in [0, 1) for the jitter (default Math.random). */
  readonly rng?: () => number;
  /** Per request (ms, default 10 s). */
  readonly timeoutMs?: number;
  /** Events read per query (default 100). */
  readonly batchSize?: number;
}

/** Default: first retry within 1 s, doubling up to 5 minutes, never given up. */
export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = Object.freeze({ baseDelayMs: 1_000, maxDelayMs: 300_000 });

/** Where the sender reports failures (a pino logger fits). */
export interface OutboxLog {
  warn(obj: object, msg: string): void;
}

/** What the sender needs. */
export interface OutboxSenderOptions {
  readonly db: Kysely<Database>;
  /** The receiver (`https://tracker.example/hooks/engine?source=es_…`). */
  readonly url: string;
  /** Standard Webhooks secret (`whsec_<base64>`) shared with the receiver. */
  readonly secret: string;
  readonly clock: Clock;
  readonly logger?: OutboxLog;
  readonly policy?: OutboxPolicy;
  /**
   * How this sender claims events on PostgreSQL, where several senders (paper runs, servers) may share the
   * outbox (default: a random holder, a 60 s lease). SQLite has one sender: it claims nothing.
   */
  readonly claim?: Claim;
}

/** The default lease of a sender's claim on an event (ms): longer than a delivery's timeout. */
export const DEFAULT_SENDER_LEASE_MS = 60_000;

/** What one pass did. */
export interface OutboxPass {
  readonly delivered: number;
  readonly retried: number;
  readonly dead: number;
}

type Outcome = 'delivered' | 'retried' | 'dead';

const LABEL = 'engine events';

/**
 * Delivers the outbox's engine events to one receiver, signed per Standard Webhooks. Events go one at a
 * time in id order; the first that fails for a reason waiting can fix (network, 408, 409, 429, 5xx) ends
 * the pass and is retried later with exponential backoff and full jitter (a Retry-After is honoured, up to
 * `maxDelayMs`), and until then the later events of its run wait behind it. Any other answer than 2xx is a
 * refusal for good: the event is `dead` and the next one goes. Events are rows, so a new sender over the
 * same database (after a restart) carries on where the last one stopped.
 */
export class OutboxSender {
  private readonly policy: OutboxPolicy;
  private readonly retry: RetryPolicy;
  private readonly loop: PassLoop<OutboxPass>;
  /** Claims on a shared (PostgreSQL) outbox; undefined on SQLite. */
  private readonly claim: Claim | undefined;

  constructor(private readonly opts: OutboxSenderOptions) {
    this.loop = new PassLoop(() => this.pass(), LABEL, opts.logger);
    this.claim = dialectOf(opts.db) === 'postgres' ? (opts.claim ?? { holder: holderId(), leaseMs: DEFAULT_SENDER_LEASE_MS }) : undefined;
    this.policy = opts.policy ?? DEFAULT_OUTBOX_POLICY;
    this.retry = { maxAttempts: this.policy.maxAttempts ?? Number.POSITIVE_INFINITY, baseDelayMs: this.policy.baseDelayMs, maxDelayMs: this.policy.maxDelayMs, ...(this.policy.rng ? { rng: this.policy.rng } : {}) };
    webhookSignature(opts.secret, 'msg_check', 0, ''); // an unusable secret fails here, not on every pass
  }

  /** Runs one pass (after the pass in flight, if any). Resolves with what it did; store errors reject. */
  runOnce(): Promise<OutboxPass> {
    return this.loop.run(() => this.pass());
  }

  /** Runs a pass every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Asks for a pass soon (after events were enqueued); wakes during a pass give one more pass after it. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops the timer and waits for the pass in flight (which ends after its current event). */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  private async pass(): Promise<OutboxPass> {
    this.loop.startedFullPass();
    const done: Record<Outcome, number> = { delivered: 0, retried: 0, dead: 0 };
    const claim = this.claim;
    while (!this.loop.stopped) {
      const now = this.opts.clock.now();
      const limit = this.policy.batchSize ?? 100;
      // Shared: whole runs claimed by this sender (see claimDueEvents).
      const batch = claim ? await claimDueEvents(this.opts.db, now, limit, claim) : await dueEvents(this.opts.db, now, limit);
      if (batch.length === 0) break;
      for (const [n, ev] of batch.entries()) {
        const outcome = this.loop.stopped ? null : await this.deliver(ev);
        if (outcome) done[outcome]++;
        // Later events must not overtake one that will be retried; claims not worked go back to the queue.
        if (outcome === null || outcome === 'retried') {
          if (claim) await releaseEventClaims(this.opts.db, batch.slice(outcome === null ? n : n + 1).map((e) => e.id), claim.holder);
          return done;
        }
      }
    }
    return done;
  }

  private async deliver(ev: OutboxRow): Promise<Outcome> {
    const { db, clock } = this.opts;
    const headers = signWebhook(this.opts.secret, ev.webhook_id, clock.now(), ev.payload);
    let failure: { readonly error: string; readonly retryAfterMs?: number; readonly final: boolean };
    try {
      const answer = await postJson(this.opts.url, ev.payload, LABEL, headers, this.policy.timeoutMs);
      const s = answer.status;
      if (s >= 200 && s < 300) {
        await markDelivered(db, ev.id, clock.now(), this.claim?.holder);
        return 'delivered';
      }
      const error = `HTTP ${s}${answer.text ? `: ${answer.text.slice(0, 200)}` : ''}`;
      const retryAfterMs = s === 429 || s === 503 ? parseRetryAfter(answer.headers.get('retry-after') ?? undefined, clock.now()) : undefined;
      failure = { error, final: !(s === 408 || s === 409 || s === 429 || s >= 500), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (e) {
      failure = { error: networkReason(e instanceof HalyardError && e.cause !== undefined ? e.cause : e), final: false };
    }
    const attempts = ev.attempts + 1;
    const log = { webhook_id: ev.webhook_id, run_id: ev.run_id, event_type: ev.event_type, attempts, err: failure.error };
    if (failure.final) {
      this.opts.logger?.warn(log, 'engine event refused by the receiver; marked dead');
      await markDead(db, ev.id, failure.error, this.claim?.holder);
      return 'dead';
    }
    if (attempts >= this.retry.maxAttempts) {
      this.opts.logger?.warn(log, 'engine event still undelivered after the last attempt; marked dead');
      await markDead(db, ev.id, `gave up after ${attempts} attempts: ${failure.error}`, this.claim?.holder);
      return 'dead';
    }
    const waitMs = Math.min(this.policy.maxDelayMs, Math.max(failure.retryAfterMs ?? 0, backoffMs(attempts, this.retry)));
    this.opts.logger?.warn({ ...log, retry_in_ms: waitMs }, 'engine event not delivered; will retry');
    await markRetry(db, ev.id, attempts, clock.now() + waitMs, failure.error, this.claim?.holder);
    return 'retried';
  }
}

/** The settings the sender reads. */
export type OutboxSettings = Pick<Settings, 'ENGINE_EVENTS_URL' | 'ENGINE_EVENTS_SECRET'>;

/**
 * A sender to `ENGINE_EVENTS_URL` signed with `ENGINE_EVENTS_SECRET`, or undefined when no URL is set (the
 * events then stay in the outbox). A URL without a secret is invalid_config.
 */
export function outboxSenderFromSettings(settings: OutboxSettings, db: Kysely<Database>, clock: Clock, logger?: OutboxLog, policy?: OutboxPolicy): OutboxSender | undefined {
  const url = settings.ENGINE_EVENTS_URL;
  if (!url) return undefined;
  const secret = settings.ENGINE_EVENTS_SECRET;
  if (!secret) throw new HalyardError('invalid_config', 'ENGINE_EVENTS_URL is set but ENGINE_EVENTS_SECRET is not (the whsec_… secret of the engine source)');
  return new OutboxSender({ db, url, secret, clock, ...(logger ? { logger } : {}), ...(policy ? { policy } : {}) });
}
