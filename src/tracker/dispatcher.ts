import type { Kysely } from 'kysely';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Venue } from '../core/venue.ts';
import { SimVenue } from '../exchange/sim/index.ts';
import { intentById, liveIntents, type IntentRow } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import { IntentWorker, signalPrices, type DispatchLog } from './intent-worker.ts';
import type { VenueRegistry } from './venue-registry.ts';
import { bookFills } from './fill-booking.ts';
import { InlineSettler } from './inline-settle.ts';
import { localKeyLock, type KeyLock } from './fleet.ts';
import { bookSignalBrackets, type SignalBracketFill } from './signal-brackets.ts';

export type { DispatchLog } from './intent-worker.ts';
export type { SignalBracketFill } from './signal-brackets.ts';

/** What settling a target did: the bracket intents its bookings wrote (already worked once). */
export interface Settled {
  readonly written: readonly number[];
}

/** How the dispatcher retries an intent the venue could not take (exchange down, timeouts, 429). */
export interface DispatchPolicy {
  /** Sends in all before an intent is marked failed. */
  readonly maxAttempts: number;
  /** First retry waits up to this (ms); doubles each time. */
  readonly baseDelayMs: number;
  /** Longest wait between sends (ms). */
  readonly maxDelayMs: number;
  /** Jitter source in [0, 1). */
  readonly rng?: () => number;
}

/** Default: 8 sends over roughly ten minutes. */
export const DEFAULT_DISPATCH_POLICY: DispatchPolicy = Object.freeze({ maxAttempts: 8, baseDelayMs: 2_000, maxDelayMs: 120_000 });

/** True when an intent may be worked now: never tried, found mid-send, or past its retry time (epoch ms). */
function isDue(i: IntentRow, now: number): boolean {
  return i.status === 'sending' || i.next_attempt_at === null || i.next_attempt_at <= now;
}

/**
 * Sends order intents to their venues. Intents of one group (target × recorder × symbol × leg) go strictly
 * in id order, so a bracket is never placed before its entry. An intent is marked `sending` (and committed)
 * before the venue is called; an intent found `sending` or retried is first looked up by its client id, so
 * a crash or a timeout mid-send never places an order twice. Transient failures are retried with backoff;
 * refusals are final and visible with the venue's reason.
 */
export class OrderDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private soon: NodeJS.Timeout | null = null;
  private again = false;
  private stopped = false;
  private refresher: NodeJS.Timeout | null = null;
  /**
   * One pass at a time per user × target: two passes on one account would each read the other's intents as
   * still due. A `KeyedLock` in one process; across servers on one PostgreSQL, a `FleetLock` (`shareTargets`).
   */
  private targetLock: KeyLock = localKeyLock();
  /** Several servers share the database: a pass reads its intents again once it holds the target. */
  private shared = false;
  /** Whether this server runs the periodic settling now (a fleet gives it to one server at a time). */
  settleGate: () => boolean = () => true;
  /**
   * Books a signal's bracket fill in its recorder (the server sets it: a CLOSE of the leg through the
   * signal intake, which sends the other linked targets their exits). Unset, such fills stay unbooked.
   */
  onSignalBracketFill: ((f: SignalBracketFill) => Promise<void>) | null = null;
  private readonly worker: IntentWorker;
  /**
   * Runs a pass over a simulated exchange alone on it (the server sets it: signals' own transactions also
   * execute on it, see `SimInline.exclusive`).
   */
  simAlone: (<T>(userId: number, targetKey: string, fn: () => Promise<T>) => Promise<T>) | null = null;
  /** Targets whose simulated exchange took a signal's orders in the signal's transaction, to settle soon. */
  private readonly inline: InlineSettler;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly venues: VenueRegistry,
    private readonly clock: Clock,
    private readonly policy: DispatchPolicy = DEFAULT_DISPATCH_POLICY,
    private readonly log?: DispatchLog,
    /** How long a wake-up waits to gather more intents into its pass (ms). */
    private readonly batchDelayMs = 20,
  ) {
    this.worker = new IntentWorker(clock, { maxAttempts: policy.maxAttempts, baseDelayMs: policy.baseDelayMs, maxDelayMs: policy.maxDelayMs, ...(policy.rng ? { rng: policy.rng } : {}) }, log);
    this.inline = new InlineSettler(
      async (userId, targetKey) => {
        // The snapshot; the booking only when a resting order was done (the signal's price reached it).
        if ((await this.refresh(userId, targetKey)) > 0) await this.settle(userId, targetKey);
      },
      batchDelayMs,
      log,
    );
  }

  /**
   * Several servers on one database: passes, settling and API orders of a user's target hold `lock` (one
   * server at a time per target, so an intent another server is sending is never seen as due here).
   */
  shareTargets(lock: KeyLock): void {
    this.targetLock = lock;
    this.shared = true;
  }

  /** Asks for a pass soon (after new intents were written). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.soon) return;
    // A short wait gathers the intents of a burst into one pass (one transaction for the sim, one snapshot).
    this.soon = setTimeout(() => {
      this.soon = null;
      if (this.stopped) return;
      this.running = this.loop().finally(() => {
        this.running = null;
      });
    }, this.batchDelayMs);
  }

  /**
   * After a signal's orders were executed on a simulated exchange inside its own transaction: soon (after
   * the batching wait, once per burst) the target is settled — the venue snapshot taken, resting orders
   * the new price reached recorded, and their fills booked.
   */
  afterInline(userId: number, targetKey: string): void {
    if (this.stopped) return;
    this.inline.add(userId, targetKey);
  }

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.inline.stop();
    if (this.timer) clearTimeout(this.timer);
    if (this.refresher) clearInterval(this.refresher);
    if (this.soon) clearTimeout(this.soon);
    await this.running;
  }

  /** Works every due intent once (whole groups, in order); returns how many it worked. Tests call this directly. */
  async runOnce(): Promise<number> {
    const byTarget = new Map<string, IntentRow[]>();
    for (const i of await liveIntents(this.db)) {
      const k = `${i.user_id}|${i.target_key}`;
      const list = byTarget.get(k);
      if (list) list.push(i);
      else byTarget.set(k, [i]);
    }
    const counts = await Promise.all([...byTarget.values()].map((list) => this.workTarget(list)));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Works one intent now (the API's place and cancel) and returns its row afterwards. */
  async workNow(id: number): Promise<IntentRow> {
    const row = await intentById(this.db, id);
    if (!row) throw new HalyardError('not_found', `no order intent ${id}`);
    let venue: Venue;
    try {
      venue = await this.venues.get(row.user_id, row.target_key);
    } catch (e) {
      return this.worker.fail(this.db, row, e);
    }
    return this.targetLock.run(`${row.user_id}|${row.target_key}`, () =>
      this.inScope(venue, row.user_id, row.target_key, async (db) => {
        const after = await this.worker.work(db, venue, row);
        await this.worker.snapshot(db, venue, after.user_id, after.target_key);
        return after;
      }),
    );
  }

  /**
   * Brings a user's target up to date and books what happened: the venue's orders and positions are read
   * (a limit or stop that filled, a bracket the venue canceled), new fills of dashboard orders are booked
   * on the ledger, and the bracket orders that booking asked for are sent. The API calls this after each
   * order; the server after each pass, every `refreshMs` while orders rest, and once at start.
   */
  async settle(userId: number, targetKey: string): Promise<Settled> {
    const written: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      await this.refresh(userId, targetKey);
      const out = await bookFills(this.db, userId, targetKey, this.clock.now());
      await this.bookSignalBrackets(userId, targetKey);
      written.push(...out.written);
      if (out.written.length === 0) break;
      await this.runTarget(userId, targetKey);
    }
    return { written };
  }

  /** Books the target's signal bracket fills not booked yet (see `bookSignalBrackets`); unset `onSignalBracketFill`, none. */
  private bookSignalBrackets(userId: number, targetKey: string): Promise<number> {
    const book = this.onSignalBracketFill;
    return book ? bookSignalBrackets(this.db, userId, targetKey, book, this.log) : Promise.resolve(0);
  }

  /** Reads a target's venue: resting orders' fates and its positions (best effort, as after every pass); returns how many resting orders were done. */
  private async refresh(userId: number, targetKey: string): Promise<number> {
    let venue: Venue;
    try {
      venue = await this.venues.get(userId, targetKey);
    } catch {
      return 0;
    }
    return this.targetLock.run(`${userId}|${targetKey}`, () => this.inScope(venue, userId, targetKey, (db) => this.worker.snapshot(db, venue, userId, targetKey), false));
  }

  /** Works the due intents of one user's target now (whole groups, in order). */
  async runTarget(userId: number, targetKey: string): Promise<number> {
    const list = await liveIntents(this.db, userId, targetKey);
    return list.length > 0 ? this.workTarget(list) : 0;
  }

  /**
   * Settles every target that has orders resting at the venue or fills not booked yet (after a restart,
   * and then every `everyMs` while the server runs). Returns the targets it settled.
   */
  async settleOpen(): Promise<number> {
    const rows = await this.db
      .selectFrom('order_intents')
      .select(['user_id', 'target_key'])
      .where((eb) => eb.or([eb.and([eb('status', '=', 'open'), eb('action', '=', 'place')]), eb.and([eb('source', '=', 'webapp'), eb('filled_qty', '>', eb.ref('booked_qty'))])]))
      .groupBy(['user_id', 'target_key'])
      .execute();
    for (const r of rows) {
      if (this.stopped) break;
      try {
        await this.settle(r.user_id, r.target_key);
      } catch (e) {
        this.log?.warn({ target: r.target_key, err: errorMessage(e) }, 'settling orders failed');
      }
    }
    return rows.length;
  }

  /**
   * Settles open targets now and then every `everyMs` (ms) until `stop()`, while `settleGate` lets this
   * server (one server of a fleet at a time); shared, each round also passes over every due intent.
   */
  startSettling(everyMs: number): Promise<number> {
    if (this.refresher) clearInterval(this.refresher);
    let busy = false;
    this.refresher = setInterval(() => {
      if (busy || this.stopped || !this.settleGate()) return;
      // Shared: intents a dead server left pending or mid-send are nobody's wake-up: look for them too.
      if (this.shared) this.wake();
      busy = true;
      void this.settleOpen().finally(() => {
        busy = false;
      });
    }, everyMs);
    this.refresher.unref();
    return this.settleGate() ? this.settleOpen() : Promise.resolve(0);
  }

  /**
   * Runs `fn` in one transaction for an in-process venue (the simulated exchange: nothing leaves the
   * process, so its outcomes can commit together, and a crash loses both them and the sim's state, which
   * is rebuilt from the intents), or straight on the database for a real venue, where every step commits
   * before the next request goes out.
   */
  private inScope<T>(venue: Venue, userId: number, targetKey: string, fn: (db: Kysely<Database>) => Promise<T>, sends = true): Promise<T> {
    if (!(venue instanceof SimVenue)) return fn(this.db);
    // A snapshot only reads the exchange; a pass that sends orders decides on the ledger, so it runs alone.
    const alone = sends ? this.simAlone : null;
    return this.db.transaction().execute((trx) => (alone ? alone(userId, targetKey, () => fn(trx)) : fn(trx)));
  }

  /** Works the due intents of one user's target: each group in id order, a group stops at its first unfinished intent. */
  private async workTarget(list: readonly IntentRow[]): Promise<number> {
    const first = list[0];
    if (!first) return 0;
    return this.targetLock.run(`${first.user_id}|${first.target_key}`, (held) => this.workTargetLocked(list, first, held));
  }

  /** `held()`: the target is still this server's (shared, a lease that lapsed ends the pass before the next send). */
  private async workTargetLocked(list: readonly IntentRow[], first: IntentRow, held: () => boolean): Promise<number> {
    const now = this.clock.now();
    let venue: Venue;
    try {
      venue = await this.venues.get(first.user_id, first.target_key);
    } catch (e) {
      const heads = new Map<string, IntentRow>();
      for (const i of list) if (!heads.has(i.group_key)) heads.set(i.group_key, i);
      const due = [...heads.values()].filter((i) => isDue(i, now) && !this.worker.busy(i.id));
      for (const i of due) await this.worker.fail(this.db, i, e);
      return due.length;
    }
    const worked = await this.inScope(venue, first.user_id, first.target_key, async (db) => {
      // In-process: the pass is one transaction, so the rows read here cannot move under it, and the
      // signal prices the sim fills at come in one query.
      const inProcess = venue instanceof SimVenue;
      // Shared, the list may predate another server's pass that just ended: read what is stored now.
      const rows = inProcess || this.shared ? await liveIntents(db, first.user_id, first.target_key) : list;
      const prices = inProcess ? await signalPrices(db, rows) : undefined;
      const blocked = new Set<string>();
      let count = 0;
      for (const i of rows) {
        if (!held()) break;
        if (blocked.has(i.group_key)) continue;
        if (!isDue(i, now) || this.worker.busy(i.id)) {
          blocked.add(i.group_key);
          continue;
        }
        const after = await this.worker.work(db, venue, i, prices);
        count += 1;
        if (after.status === 'pending' || after.status === 'sending') blocked.add(i.group_key);
      }
      if (count > 0) await this.worker.snapshot(db, venue, first.user_id, first.target_key);
      return count;
    });
    if (worked === 0) return 0;
    // Fills of dashboard orders seen in this pass are booked now; the brackets that asks for go next pass.
    const booked = await bookFills(this.db, first.user_id, first.target_key, this.clock.now());
    if ((await this.bookSignalBrackets(first.user_id, first.target_key)) > 0) this.again = true;
    if (booked.written.length > 0) this.again = true;
    return worked + booked.written.length;
  }

  /** Works due intents until none is left (tests; the server runs passes on its own). */
  async drain(): Promise<void> {
    for (;;) {
      await this.running;
      if (!this.inline.idle) await this.inline.flush();
      if ((await this.runOnce()) === 0 && !this.running && this.worker.idle() && this.inline.idle) return;
    }
  }

  /** Keeps passing while there is due work; schedules the next retry. */
  private async loop(): Promise<void> {
    this.again = false;
    try {
      await this.runOnce(); // a pass works whole groups: what it leaves is waiting for a retry time
    } catch (e) {
      this.log?.warn({ err: errorMessage(e) }, 'order dispatch pass failed');
    }
    if (this.again && !this.stopped) {
      // Intents written during the pass: the next pass, after the batching wait.
      setImmediate(() => this.wake());
      return;
    }
    await this.scheduleNext();
  }

  private async scheduleNext(): Promise<void> {
    if (this.stopped) return;
    const pending = (await liveIntents(this.db)).filter((i) => i.next_attempt_at !== null);
    if (pending.length === 0) return;
    const next = Math.min(...pending.map((i) => i.next_attempt_at ?? Infinity));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), Math.max(0, next - this.clock.now()));
    this.timer.unref();
  }
}
