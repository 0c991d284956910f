import type { Kysely } from 'kysely';
import { errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { backoffMs } from '../exchange/retry.ts';
import { dialectOf } from '../store/dialect.ts';
import { claimDueJob, extendJobClaim, failJob, finishJob, insertJob, nextRunAt, requeueRunningJobs, retryJob, type Claim, type JobRow } from '../store/jobs.ts';
import type { Database } from '../store/schema.ts';
import { KeyedLock } from './keyed-lock.ts';

/** Works one job of a kind; a throw means "try again later" (until the attempts run out). */
export type JobHandler = (payload: unknown, job: JobRow) => Promise<void>;
/** Called once when a job of the kind failed for good. */
export type JobFailedHandler = (payload: unknown, error: string, job: JobRow) => Promise<void>;

/** How the worker retries and how often it looks for due jobs. */
export interface JobPolicy {
  /** Runs in all (the first included) before a job is marked failed. */
  readonly maxAttempts: number;
  /** First retry waits up to this (ms), doubling each time (full jitter, as `exchange/retry.ts`). */
  readonly baseDelayMs: number;
  /** Longest wait between runs (ms). */
  readonly maxDelayMs: number;
  /** Fallback check for due jobs when nothing woke the worker (ms). */
  readonly idleCheckMs: number;
  /** Jitter source in [0, 1). */
  readonly rng?: () => number;
}

/** Default: 6 runs over about two minutes, a check every second when idle. */
export const DEFAULT_JOB_POLICY: JobPolicy = Object.freeze({ maxAttempts: 6, baseDelayMs: 2_000, maxDelayMs: 60_000, idleCheckMs: 1_000 });

/** Where the worker reports failures. */
export interface JobLog {
  warn(obj: object, msg: string): void;
}

/** Queues a job inside the caller's transaction (so it exists exactly when the work it describes does). */
export function enqueue(trx: Kysely<Database>, kind: string, payload: unknown, runAt: number, now = runAt): Promise<number> {
  return insertJob(trx, kind, payload, runAt, now);
}

/**
 * The server's durable job queue worker: claims due jobs of the registered kinds one at a time, runs the
 * kind's handler, marks it done, or retries it with backoff and finally marks it failed with the last error.
 * `wake()` after an enqueue; a timer is the fallback. Alone on its database (SQLite), jobs a dead process
 * left `running` are re-queued at start. With a `claim` on PostgreSQL, several servers share the queue: a
 * job is claimed with `FOR UPDATE SKIP LOCKED` under the claim's lease, renewed while it runs, and a job
 * whose server died is taken again once its lease ran out (never at another server's start).
 */
export class JobWorker {
  private readonly handlers = new Map<string, { run: JobHandler; failed?: JobFailedHandler }>();
  private readonly lock = new KeyedLock();
  private running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private again = false;
  private started = false;
  private stopped = false;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly policy: JobPolicy = DEFAULT_JOB_POLICY,
    private readonly log?: JobLog,
    /** This server's claims on a shared PostgreSQL queue (unset: the single-process path), renewed on `renewOn` when given. */
    private readonly claim?: Claim & { readonly renewOn?: Kysely<Database> },
  ) {}

  /** The claim jobs are taken under, when the queue is shared (PostgreSQL and a claim given). */
  private get shared(): Claim | undefined {
    return this.claim && dialectOf(this.db) === 'postgres' ? this.claim : undefined;
  }

  /** Registers the handler of a kind (before `start`). */
  register(kind: string, run: JobHandler, failed?: JobFailedHandler): void {
    this.handlers.set(kind, failed ? { run, failed } : { run });
  }

  /** Re-queues jobs left running by a dead process, then starts working. */
  async start(): Promise<void> {
    // Shared, a running job may be another live server's: it is taken again only when its claim expires.
    const n = this.shared ? 0 : await requeueRunningJobs(this.db, this.clock.now());
    if (n > 0) this.log?.warn({ jobs: n }, 're-queued jobs left running by an earlier process');
    this.started = true;
    this.wake();
  }

  /** Asks for a pass now (after an enqueue). */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.loop().finally(() => {
      this.running = null;
    });
  }

  /** Stops scheduling and waits for the job in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.lock.run('worker', async () => undefined);
  }

  /** Claims and works one due job; false when none was due. Jobs run one at a time. */
  runOnce(): Promise<boolean> {
    return this.lock.run('worker', () => this.claimAndRun());
  }

  /** Works due jobs until none is left (tests and tools; the server runs passes on its own). */
  async drain(): Promise<void> {
    for (;;) {
      await this.running;
      if (!(await this.runOnce()) && !this.running) return;
    }
  }

  private async claimAndRun(): Promise<boolean> {
    const claim = this.shared;
    const job = await claimDueJob(this.db, [...this.handlers.keys()], this.clock.now(), claim);
    if (!job) return false;
    const holder = claim?.holder;
    const h = this.handlers.get(job.kind);
    let payload: unknown = null;
    const renew = claim ? this.keepClaim(job, claim) : null;
    try {
      payload = JSON.parse(job.payload) as unknown;
      if (!h) throw new Error(`no handler for job kind ${job.kind}`);
      await h.run(payload, job);
      if (renew) clearInterval(renew);
      await finishJob(this.db, job.id, this.clock.now(), holder);
    } catch (e) {
      if (renew) clearInterval(renew);
      const msg = errorMessage(e);
      const now = this.clock.now();
      if (job.attempts >= this.policy.maxAttempts) {
        if (!(await failJob(this.db, job.id, msg, now, holder)) && holder) return true; // taken over meanwhile: the new holder decides
        this.log?.warn({ job: job.id, kind: job.kind, attempts: job.attempts, err: msg }, 'job failed for good');
        await h?.failed?.(payload, msg, job).catch((err: unknown) => this.log?.warn({ job: job.id, err: errorMessage(err) }, 'job failure handler failed'));
      } else {
        // At least 1 ms: a retry never runs again within the same pass.
        const wait = Math.max(1, backoffMs(job.attempts, { maxAttempts: this.policy.maxAttempts, baseDelayMs: this.policy.baseDelayMs, maxDelayMs: this.policy.maxDelayMs }, this.policy.rng));
        await retryJob(this.db, job.id, msg, now + wait, now, holder);
      }
    }
    return true;
  }

  /** Renews the claim on a running job every third of its lease, so a slow job is not taken from a live server. */
  private keepClaim(job: JobRow, claim: Claim): NodeJS.Timeout {
    const t = setInterval(
      () => {
        extendJobClaim(this.claim?.renewOn ?? this.db, job.id, claim.holder, this.clock.now() + claim.leaseMs)
          .then((mine) => {
            if (!mine) this.log?.warn({ job: job.id, kind: job.kind }, 'job claim was taken over by another server (this one stalled past its lease)');
          })
          .catch((e: unknown) => this.log?.warn({ job: job.id, err: errorMessage(e) }, 'renewing a job claim failed'));
      },
      Math.max(50, Math.floor(claim.leaseMs / 3)),
    );
    t.unref();
    return t;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        while (!this.stopped && (await this.runOnce()));
      } catch (e) {
        this.log?.warn({ err: errorMessage(e) }, 'job pass failed');
      }
    } while (this.again && !this.stopped);
    await this.schedule();
  }

  private async schedule(): Promise<void> {
    if (this.stopped) return;
    let wait = this.policy.idleCheckMs;
    try {
      const next = await nextRunAt(this.db, [...this.handlers.keys()]);
      if (next !== null) wait = Math.min(wait, Math.max(0, next - this.clock.now()));
    } catch (e) {
      this.log?.warn({ err: errorMessage(e) }, 'job schedule check failed');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, wait);
    this.timer.unref();
  }
}
