import type { Kysely } from 'kysely';
import { errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { backoffMs, type RetryPolicy } from '../exchange/retry.ts';
import type { Database } from '../store/schema.ts';
import { lastSnapshotAt, trackedTargets } from '../store/snapshots.ts';
import { KeyedLock } from './keyed-lock.ts';
import { DEFAULT_RECONCILE_POLICY, reconcileTarget, type ReconcileLog, type ReconcilePolicy, type ReconcileResult } from './reconcile.ts';
import type { RefreshTrigger, TargetRefresher } from './refresh-port.ts';
import { takeSnapshot, type SnapshotOutcome } from './snapshots.ts';
import type { VenueRegistry } from './venue-registry.ts';

/** How the monitor visits targets, snapshots them and reconciles. */
export interface MonitorPolicy extends ReconcilePolicy {
  /** Period of the visit loop (ms; MONITOR_INTERVAL_S). */
  readonly intervalMs: number;
  /** Period of the scheduled snapshots that make the equity history (ms; SNAPSHOT_INTERVAL_MIN). */
  readonly snapshotIntervalMs: number;
  /** Retries of a failed visit: attempts in all, backoff base and cap (ms), jitter source. */
  readonly retry: Pick<RetryPolicy, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'rng'>;
  /** Longest wait for one venue call (ms). */
  readonly fetchTimeoutMs: number;
  /** Run the visit loop on a timer once the server is ready (tests drive `runOnce` instead). */
  readonly loop: boolean;
}

/** Defaults: visits every 60 s, an equity point every 30 min, 4 attempts (waits up to 5, 10, 20 s). */
export const DEFAULT_MONITOR_POLICY: MonitorPolicy = Object.freeze({
  ...DEFAULT_RECONCILE_POLICY,
  intervalMs: 60_000,
  snapshotIntervalMs: 30 * 60_000,
  retry: Object.freeze({ maxAttempts: 4, baseDelayMs: 5_000, maxDelayMs: 60_000 }),
  fetchTimeoutMs: 30_000,
  loop: true,
});

/** Where the monitor (and the reconciler it runs) logs warnings: failed snapshots, conflicts with both values. */
export type MonitorLog = ReconcileLog;

/** What a visit of one user's target did. */
export interface Visit {
  readonly userId: number;
  readonly targetKey: string;
  /** `scheduled` (an equity point is due), `monitor` (a check), or `skipped` (waiting for a retry or the schedule). */
  readonly trigger: 'scheduled' | 'monitor' | 'skipped';
  readonly ok: boolean;
  readonly error?: string;
}

/** Per-target schedule state. */
interface TargetState {
  /** Epoch ms when the next scheduled snapshot is due. */
  nextScheduledAt: number;
  /** Consecutive failed visits. */
  failures: number;
  /** Epoch ms before which a failed target is not visited again. */
  notBefore: number;
}

/**
 * Snapshots and reconciles users' targets. `refresh` (the engine-event processor's `TargetRefresher`, the
 * API's manual refresh, the loop) runs one snapshot + reconciliation at a time per user × target. The loop
 * visits every tracked target each `intervalMs`: a check (positions reconciled, no equity point) or, when
 * due, a scheduled snapshot that adds an equity point. A failed visit is retried with backoff for
 * `retry.maxAttempts` attempts, then the target waits for its next scheduled slot.
 */
export class Monitor implements TargetRefresher {
  private readonly policy: MonitorPolicy;
  private readonly lock = new KeyedLock();
  private readonly states = new Map<string, TargetState>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  /** Whether this server runs the loop's passes now (a fleet of servers gives the loop to one at a time). */
  gate: () => boolean = () => true;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly venues: VenueRegistry,
    private readonly clock: Clock,
    policy: Partial<MonitorPolicy> = {},
    private readonly log?: MonitorLog,
  ) {
    this.policy = { ...DEFAULT_MONITOR_POLICY, ...policy };
  }

  /** Snapshots the target and reconciles it; rejects (after storing a failed row) when the snapshot failed. */
  async refresh(userId: number, targetKey: string, trigger: RefreshTrigger): Promise<void> {
    await this.check(userId, targetKey, trigger);
  }

  /** Like `refresh`, returning what the snapshot and the reconciliation gave; `at` (epoch ms) defaults to the clock. */
  check(userId: number, targetKey: string, trigger: RefreshTrigger, at?: number): Promise<{ snapshot: Extract<SnapshotOutcome, { ok: true }>; result: ReconcileResult }> {
    return this.lock.run(`${userId}|${targetKey}`, async () => {
      const now = at ?? this.clock.now();
      // A minute check keeps positions and issues fresh without adding a point to the equity history.
      const snap = await takeSnapshot(this.db, this.venues, userId, targetKey, trigger, now, { record: trigger !== 'monitor', timeoutMs: this.policy.fetchTimeoutMs });
      if (!snap.ok) throw snap.error;
      const result = await reconcileTarget(this.db, userId, targetKey, snap.reading.positions, snap.ts, this.policy, { log: this.log });
      return { snapshot: snap, result };
    });
  }

  /** One pass of the loop at `now` (epoch ms): visits every tracked target that is due, a few at a time. */
  async runOnce(now: number = this.clock.now()): Promise<Visit[]> {
    const targets = await trackedTargets(this.db);
    const out: Visit[] = [];
    const queue = [...targets];
    const worker = async (): Promise<void> => {
      for (let t = queue.shift(); t; t = queue.shift()) out.push(await this.visit(t.userId, t.targetKey, now));
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return out.sort((a, b) => a.userId - b.userId || (a.targetKey < b.targetKey ? -1 : 1));
  }

  private async visit(userId: number, targetKey: string, now: number): Promise<Visit> {
    const key = `${userId}|${targetKey}`;
    let s = this.states.get(key);
    if (!s) {
      const last = await lastSnapshotAt(this.db, userId, targetKey, 'scheduled');
      s = { nextScheduledAt: last === null ? now : last + this.policy.snapshotIntervalMs, failures: 0, notBefore: 0 };
      this.states.set(key, s);
    }
    const gaveUp = s.failures >= this.policy.retry.maxAttempts;
    if (gaveUp && now >= s.nextScheduledAt) s.failures = 0; // the next slot: a fresh set of attempts
    if (now < s.notBefore || (gaveUp && now < s.nextScheduledAt)) return { userId, targetKey, trigger: 'skipped', ok: false };
    const trigger = now >= s.nextScheduledAt ? 'scheduled' : 'monitor';
    try {
      await this.check(userId, targetKey, trigger, now);
      s.failures = 0;
      s.notBefore = 0;
      if (trigger === 'scheduled') s.nextScheduledAt = this.nextSlot(s.nextScheduledAt, now);
      return { userId, targetKey, trigger, ok: true };
    } catch (e) {
      s.failures += 1;
      const why = errorMessage(e);
      if (s.failures < this.policy.retry.maxAttempts) {
        s.notBefore = now + Math.max(1, backoffMs(s.failures, this.policy.retry));
      } else {
        // Out of attempts: back to the schedule (the next slot after this one).
        s.notBefore = 0;
        if (s.nextScheduledAt <= now) s.nextScheduledAt = this.nextSlot(s.nextScheduledAt, now);
        this.log?.warn({ user: userId, target: targetKey, attempts: s.failures, err: why }, 'snapshot failed; waiting for the next scheduled one');
      }
      return { userId, targetKey, trigger, ok: false, error: why };
    }
  }

  /** The first slot after `now` on the grid of `from` + k × snapshotIntervalMs. */
  private nextSlot(from: number, now: number): number {
    const step = this.policy.snapshotIntervalMs;
    return now < from ? from : from + (Math.floor((now - from) / step) + 1) * step;
  }

  /**
   * Forgets the per-target schedule (when this server takes the loop over from another): the next pass
   * reads each target's latest scheduled snapshot again, so no slot gets a second equity point.
   */
  resetSchedule(): void {
    this.states.clear();
  }

  /** Starts the visit loop (when the policy has it on). */
  start(): void {
    if (!this.policy.loop || this.timer || this.stopped) return;
    this.schedule(this.policy.intervalMs);
  }

  /** Stops the loop and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.gate()) {
        this.schedule(this.policy.intervalMs);
        return;
      }
      this.running = this.runOnce()
        .catch((e: unknown) => this.log?.warn({ err: errorMessage(e) }, 'monitor pass failed'))
        .finally(() => {
          this.running = null;
          this.schedule(this.nextWait());
        });
    }, ms);
    this.timer.unref();
  }

  /** The wait before the next pass: the interval, or sooner when a retry is due first (ms, ≥ 1 s). */
  private nextWait(): number {
    const now = this.clock.now();
    let wait = this.policy.intervalMs;
    for (const s of this.states.values()) if (s.notBefore > now) wait = Math.min(wait, s.notBefore - now);
    return Math.max(1_000, wait);
  }
}
