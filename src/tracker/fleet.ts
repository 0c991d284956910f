import { performance } from 'node:perf_hooks';
import type { Kysely } from 'kysely';
import { errorMessage } from '../core/errors.ts';
import type { Claim } from '../store/jobs.ts';
import { releaseLease, takeLease } from '../store/leases.ts';
import type { Database } from '../store/schema.ts';
import { KeyedLock } from './keyed-lock.ts';

/** Where the fleet logs lease changes (a pino logger fits). */
export interface FleetLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Default lease (ms): a dead server's loops and claimed rows are taken over within about this. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/**
 * A lease on one scheduled loop (`monitor`, `engine-poller`, `settle`): every server tries to take it every
 * third of its lifetime; the holder renews it then. `held()` is true only while this server holds it by its
 * own monotonic clock, counted from before the renewal was asked, so a server that stopped renewing (hung,
 * cut off from the database) stops believing it leads before the lease expires for the others.
 */
export class LoopLease {
  private until = 0;
  private timer: NodeJS.Timeout | null = null;
  private tries: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Called when this server takes the lease (first or after another holder); the loop may reset its state. */
  onTaken: (() => void) | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    /** The lease's name in the `leases` table. */
    readonly name: string,
    private readonly holder: string,
    /** Lifetime of a take or renewal (ms). */
    private readonly ttlMs: number,
    private readonly log?: FleetLog,
  ) {}

  /** True while this server holds the lease. */
  held(): boolean {
    return performance.now() < this.until;
  }

  /** Tries to take (or renew) the lease now and every third of its lifetime. */
  start(): Promise<void> {
    if (this.timer || this.stopped) return this.tries;
    this.timer = setInterval(() => void this.tryNow(), Math.max(20, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
    return this.tryNow();
  }

  /** One take or renewal; resolves when it is done (errors are logged: the lease then lapses by itself). */
  tryNow(): Promise<void> {
    this.tries = this.tries.then(async () => {
      if (this.stopped) return;
      const asked = performance.now();
      const had = this.held();
      try {
        const t = await takeLease(this.db, this.name, this.holder, this.ttlMs);
        if (this.stopped) return;
        if (!t.held) {
          if (had) this.log?.warn({ lease: this.name }, 'lease lost to another server');
          this.until = 0;
          return;
        }
        // A tenth of the lease is kept back for clock-rate differences between this machine and the database.
        this.until = asked + this.ttlMs * 0.9;
        if (!had) {
          this.log?.info({ lease: this.name, fence: t.fence }, 'lease taken: this server runs the loop');
          this.onTaken?.();
        }
      } catch (e) {
        this.log?.warn({ lease: this.name, err: errorMessage(e) }, 'lease renewal failed');
      }
    });
    return this.tries;
  }

  /** Stops renewing and gives the lease up (another server takes it at its next try). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.tries;
    const had = this.held();
    this.until = 0;
    if (had) await releaseLease(this.db, this.name, this.holder).catch(() => undefined);
  }
}

/** A lock per key; the task is told whether it still holds the key (a lease can lapse under it). */
export interface KeyLock {
  run<T>(key: string, task: (held: () => boolean) => Promise<T>): Promise<T>;
}

/** One process's `KeyLock`: a key is held for the whole task. */
export function localKeyLock(): KeyLock {
  const keyed = new KeyedLock();
  return { run: (key, task) => keyed.run(key, () => task(() => true)) };
}

/**
 * One holder at a time per key across every server of the database (the dispatcher's user × target): a
 * local queue first, then the lease `<prefix><key>`, asked for every `pollMs` while another server has it,
 * renewed while the task runs and given up after. A holder that died frees the key when its lease expires;
 * the task's `held()` turns false once a renewal is overdue, so it stops before another server may begin.
 */
export class FleetLock implements KeyLock {
  private readonly local = new KeyedLock();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly holder: string,
    private readonly ttlMs: number,
    private readonly prefix: string,
    private readonly pollMs = 50,
  ) {}

  /** Runs `task` while holding `key` across the fleet. */
  run<T>(key: string, task: (held: () => boolean) => Promise<T>): Promise<T> {
    return this.local.run(key, async () => {
      const name = `${this.prefix}${key}`;
      let until = 0;
      const take = async (): Promise<boolean> => {
        const asked = performance.now();
        const t = await takeLease(this.db, name, this.holder, this.ttlMs);
        if (t.held) until = asked + this.ttlMs * 0.9;
        else until = 0;
        return t.held;
      };
      while (!(await take())) await new Promise((r) => setTimeout(r, this.pollMs * (0.5 + Math.random())));
      let renewing: Promise<unknown> = Promise.resolve();
      const renew = setInterval(() => (renewing = take().catch(() => undefined)), Math.max(20, Math.floor(this.ttlMs / 3)));
      renew.unref();
      try {
        return await task(() => performance.now() < until);
      } finally {
        clearInterval(renew);
        await renewing; // a renewal landing after the release would hold the key for nothing
        await releaseLease(this.db, name, this.holder).catch(() => undefined);
      }
    });
  }
}

/** What makes one server a member of a fleet on one PostgreSQL database. */
export interface FleetOptions {
  /** This server's name in leases and claims (`host:pid:random`). */
  readonly holder: string;
  /** Lifetime of leases and claims (ms). */
  readonly leaseTtlMs: number;
  readonly log?: FleetLog;
  /** Where leases and claims are taken and renewed (default: the server's own pool; see `leaseConnection`). */
  readonly leaseDb?: Kysely<Database>;
}

/** The leases and claims of one server among several on one PostgreSQL database. */
export class Fleet {
  private readonly leases: LoopLease[] = [];

  constructor(
    private readonly db: Kysely<Database>,
    readonly options: FleetOptions,
  ) {}

  /** Where leases are taken and renewed. */
  private get leaseDb(): Kysely<Database> {
    return this.options.leaseDb ?? this.db;
  }

  /** How this server claims queued rows (jobs), its claims renewed on the lease connection. */
  get claim(): Claim & { readonly renewOn: Kysely<Database> } {
    return { holder: this.options.holder, leaseMs: this.options.leaseTtlMs, renewOn: this.leaseDb };
  }

  /** A lease on the scheduled loop `name` (started by `start`). */
  loop(name: string): LoopLease {
    const l = new LoopLease(this.leaseDb, name, this.options.holder, this.options.leaseTtlMs, this.options.log);
    this.leases.push(l);
    return l;
  }

  /** A lock per key across the fleet, its leases named `<prefix><key>`. */
  lock(prefix: string): FleetLock {
    return new FleetLock(this.leaseDb, this.options.holder, this.options.leaseTtlMs, prefix);
  }

  /** Starts taking the loops' leases (resolves after the first try of each). */
  async start(): Promise<void> {
    await Promise.all(this.leases.map((l) => l.start()));
  }

  /** Gives every loop lease up (a clean shutdown hands the loops over at once). */
  async stop(): Promise<void> {
    await Promise.all(this.leases.map((l) => l.stop()));
  }
}
