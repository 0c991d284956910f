import type { Kysely } from 'kysely';
import { PassLoop } from './pass-loop.ts';
import { SystemClock } from '../clock.ts';
import { HalyardError, errorMessage, isHalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { backoffMs, isTransient } from '../exchange/retry.ts';
import { claimDueAlerts, dueAlerts, markAlertDead, markAlertDelivered, markAlertRetry, nextAlertDue, releaseAlertClaims, type AlertRow } from '../store/alert-outbox.ts';
import { dialectOf } from '../store/dialect.ts';
import type { Claim } from '../store/jobs.ts';
import { holderId } from '../store/leases.ts';
import { DEFAULT_SENDER_LEASE_MS } from './outbox-sender.ts';
import type { Database } from '../store/schema.ts';
import { alertsFromSettings, type AlertChannel, type AlertLog, type AlertSettings } from './alerts.ts';
import { DEFAULT_NOTIFY_POLICY, retryAfterOf, type NotifyRetryPolicy } from './http.ts';

/** What the sender needs. */
export interface AlertSenderOptions {
  readonly db: Kysely<Database>;
  /**
   * The channels rows are delivered to, by name. Each notifier should make one request per call (a policy of
   * `maxAttempts: 1`): the sender counts attempts in the store and waits between them itself.
   */
  readonly channels: readonly AlertChannel[];
  /** Epoch ms for due times and backoff (default the system clock). */
  readonly clock?: Clock;
  readonly logger?: AlertLog;
  /** Attempts per alert and backoff between them (default DEFAULT_NOTIFY_POLICY: 4 attempts). */
  readonly policy?: NotifyRetryPolicy;
  /** Alerts read per query (default 100). */
  readonly batchSize?: number;
  /**
   * How this sender claims alerts on PostgreSQL, where several senders may share the table (default: a
   * random holder, a 60 s lease). SQLite has one sender: it claims nothing.
   */
  readonly claim?: Claim;
}

/** What one pass did. */
export interface AlertPass {
  readonly delivered: number;
  readonly retried: number;
  readonly dead: number;
}

type Outcome = keyof AlertPass;

const timerSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers the stored alerts, one at a time in id order, strictly in order per stream and channel. An alert
 * that fails for a reason waiting can fix (network, 429, 5xx) is retried later with the notify policy's
 * backoff (a rate limit's wait honoured, up to `maxDelayMs`), and until then the later alerts of its stream
 * and channel wait behind it; after the policy's last attempt it is `dead`, logged, and the next one goes.
 * An answer that will not change (unknown webhook, bad token) makes it `dead` at once. Alerts are rows, so a
 * new sender over the same database (after a restart) carries on where the last one stopped.
 */
export class AlertSender {
  private readonly policy: NotifyRetryPolicy;
  private readonly clock: Clock;
  private readonly byName: ReadonlyMap<string, AlertChannel>;
  private readonly loop: PassLoop<AlertPass>;
  /** Claims on a shared (PostgreSQL) alert table; undefined on SQLite. */
  private readonly claim: Claim | undefined;

  constructor(private readonly opts: AlertSenderOptions) {
    this.claim = dialectOf(opts.db) === 'postgres' ? (opts.claim ?? { holder: holderId(), leaseMs: DEFAULT_SENDER_LEASE_MS }) : undefined;
    this.loop = new PassLoop(() => this.pass(undefined), 'alerts', opts.logger);
    this.policy = opts.policy ?? DEFAULT_NOTIFY_POLICY;
    this.clock = opts.clock ?? new SystemClock();
    this.byName = new Map(opts.channels.map((c) => [c.name, c]));
  }

  /** The names of the channels this sender delivers to (rows are written once per channel). */
  get channelNames(): readonly string[] {
    return [...this.byName.keys()];
  }

  /** Runs one pass (after the pass in flight, if any); of one stream when given. Resolves with what it did; store errors reject. */
  runOnce(stream?: string): Promise<AlertPass> {
    return this.loop.run(() => this.pass(stream));
  }

  /** Runs a pass every `intervalMs` (the timer does not keep the process alive). */
  start(intervalMs: number): void {
    this.loop.start(intervalMs);
  }

  /** Asks for a pass soon (after alerts were enqueued); wakes during a pass give one more pass after it. */
  wake(): void {
    this.loop.wake();
  }

  /**
   * Delivers `stream`'s pending alerts, waiting out their retries, until none is left (true) or `timeoutMs`
   * has passed (false: what is left stays in the store for the next sender). A pass in flight finishes first.
   */
  async flush(stream: string, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    const sleep = this.policy.sleep ?? timerSleep;
    const channels = this.channelNames;
    for (;;) {
      if (this.loop.stopped) return (await nextAlertDue(this.opts.db, stream, channels)) === null;
      await this.runOnce(stream);
      const next = await nextAlertDue(this.opts.db, stream, channels);
      if (next === null) return true;
      const now = this.clock.now();
      if (now >= deadline) return false;
      await sleep(Math.max(1, Math.min(deadline, next) - now));
    }
  }

  /** Stops the timer and waits for the pass in flight (which ends after its current alert). */
  async stop(): Promise<void> {
    await this.loop.stop();
  }

  private async pass(stream: string | undefined): Promise<AlertPass> {
    if (stream === undefined) this.loop.startedFullPass();
    const done: Record<Outcome, number> = { delivered: 0, retried: 0, dead: 0 };
    // One `now` for the whole pass: a retried alert is due after it, so its followers are not read again.
    const now = this.clock.now();
    const claim = this.claim;
    const limit = this.opts.batchSize ?? 100;
    while (!this.loop.stopped) {
      // Shared: whole streams' channels claimed by this sender (see claimDueAlerts).
      const batch = claim
        ? await claimDueAlerts(this.opts.db, { channels: this.channelNames, dueBy: now, now: this.clock.now(), limit, claim, ...(stream !== undefined ? { stream } : {}) })
        : await dueAlerts(this.opts.db, this.channelNames, now, limit, stream);
      if (batch.length === 0) break;
      const blocked = new Set<string>();
      const unworked: number[] = [];
      for (const a of batch) {
        const key = `${a.stream}\u0000${a.channel}`;
        // Later alerts of a stream and channel must not overtake one that will be retried.
        if (this.loop.stopped || blocked.has(key)) {
          unworked.push(a.id);
          continue;
        }
        const outcome = await this.deliver(a, now);
        done[outcome]++;
        if (outcome === 'retried') blocked.add(key);
      }
      // Claims not worked go back to the queue (they wait behind their retried alert, or for the next sender).
      if (claim) await releaseAlertClaims(this.opts.db, unworked, claim.holder);
    }
    return done;
  }

  private async deliver(a: AlertRow, passNow: number): Promise<Outcome> {
    const { db, logger } = this.opts;
    const channel = this.byName.get(a.channel);
    if (!channel) throw new HalyardError('internal', `alert ${a.id} is for channel ${a.channel}, which this sender does not have`);
    try {
      await channel.notifier.notify({ kind: a.kind, text: a.text });
      await markAlertDelivered(db, a.id, this.clock.now(), this.claim?.holder);
      return 'delivered';
    } catch (e) {
      // A one-attempt withRetry wraps the transient failure: the answer itself is the cause.
      const cause = isHalyardError(e, 'venue_unavailable') && e.cause !== undefined ? e.cause : e;
      const error = errorMessage(cause);
      const attempts = a.attempts + 1;
      const log = { id: a.id, stream: a.stream, channel: a.channel, kind: a.kind, attempts, err: error };
      if (!isTransient(e)) {
        logger?.warn(log, 'alert refused by the channel; marked dead');
        await markAlertDead(db, a.id, error, this.claim?.holder);
        return 'dead';
      }
      if (attempts >= this.policy.maxAttempts) {
        logger?.warn(log, 'alert still undelivered after the last attempt; marked dead');
        await markAlertDead(db, a.id, `gave up after ${attempts} attempts: ${error}`, this.claim?.holder);
        return 'dead';
      }
      const asked = retryAfterOf(cause) ?? retryAfterOf(e) ?? 0;
      const waitMs = Math.max(1, Math.min(this.policy.maxDelayMs, Math.max(asked, backoffMs(attempts, this.policy))));
      logger?.warn({ ...log, retry_in_ms: waitMs }, 'alert not delivered; will retry');
      await markAlertRetry(db, a.id, attempts, Math.max(passNow, this.clock.now()) + waitMs, error, this.claim?.holder);
      return 'retried';
    }
  }
}

/**
 * A sender over the channels the settings configure (see `alertsFromSettings`), its notifiers making one
 * request per call; undefined when no channel is configured (alerts are then not written at all).
 */
export function alertSenderFromSettings(settings: AlertSettings, db: Kysely<Database>, clock?: Clock, logger?: AlertLog, policy: NotifyRetryPolicy = DEFAULT_NOTIFY_POLICY): AlertSender | undefined {
  const { channels } = alertsFromSettings(settings, logger, { ...policy, maxAttempts: 1 });
  if (channels.length === 0) return undefined;
  return new AlertSender({ db, channels, policy, ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) });
}
