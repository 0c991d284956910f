import type { Kysely } from 'kysely';
import { isHalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Venue, VenueOrder } from '../core/venue.ts';
import { backoffMs } from '../exchange/retry.ts';
import { SimVenue } from '../exchange/sim/index.ts';
import { intentById, liveIntents, openBracketIntents, saveVenuePositions, targetIntents, updateIntent, venueRequestOf, type IntentRow } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import type { VenueRegistry } from './venue-registry.ts';

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

/** Prices of the signals behind `rows` (signal id → price). */
async function signalPrices(db: Kysely<Database>, rows: readonly IntentRow[]): Promise<Map<number, number>> {
  const ids = [...new Set(rows.map((r) => r.signal_id).filter((x): x is number => x !== null))];
  if (ids.length === 0) return new Map();
  const found = await db.selectFrom('signals').select(['id', 'price']).where('id', 'in', ids).execute();
  return new Map(found.filter((r) => r.price !== null).map((r) => [r.id, r.price as number]));
}

/** Something the dispatcher logs. */
export interface DispatchLog {
  warn(obj: object, msg: string): void;
}

/** Intent status of a venue order. */
function intentStatusOf(o: VenueOrder): string {
  switch (o.status) {
    case 'filled':
      return 'filled';
    case 'canceled':
    case 'expired':
      return 'canceled';
    case 'rejected':
      return 'rejected';
    default:
      return 'open';
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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
  /** Intents being worked right now (a pass and an API call never work the same intent at once). */
  private readonly inFlight = new Set<number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly venues: VenueRegistry,
    private readonly clock: Clock,
    private readonly policy: DispatchPolicy = DEFAULT_DISPATCH_POLICY,
    private readonly log?: DispatchLog,
    /** How long a wake-up waits to gather more intents into its pass (ms). */
    private readonly batchDelayMs = 20,
  ) {}

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

  /** Stops scheduling and waits for the pass in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
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
    if (!row) throw new Error(`intent ${id} vanished`);
    let venue: Venue;
    try {
      venue = await this.venues.get(row.user_id, row.target_key);
    } catch (e) {
      return this.fail(this.db, row, e);
    }
    return this.inScope(venue, async (db) => {
      const after = await this.work(db, venue, row);
      await this.snapshot(db, venue, after.user_id, after.target_key);
      return after;
    });
  }

  /**
   * Runs `fn` in one transaction for an in-process venue (the simulated exchange: nothing leaves the
   * process, so its outcomes can commit together, and a crash loses both them and the sim's state, which
   * is rebuilt from the intents), or straight on the database for a real venue, where every step commits
   * before the next request goes out.
   */
  private inScope<T>(venue: Venue, fn: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return venue instanceof SimVenue ? this.db.transaction().execute((trx) => fn(trx)) : fn(this.db);
  }

  /** Works the due intents of one user's target: each group in id order, a group stops at its first unfinished intent. */
  private async workTarget(list: readonly IntentRow[]): Promise<number> {
    const now = this.clock.now();
    const first = list[0];
    if (!first) return 0;
    let venue: Venue;
    try {
      venue = await this.venues.get(first.user_id, first.target_key);
    } catch (e) {
      const heads = new Map<string, IntentRow>();
      for (const i of list) if (!heads.has(i.group_key)) heads.set(i.group_key, i);
      const due = [...heads.values()].filter((i) => !this.inFlight.has(i.id) && (i.status === 'sending' || i.next_attempt_at === null || i.next_attempt_at <= now));
      for (const i of due) await this.fail(this.db, i, e);
      return due.length;
    }
    return this.inScope(venue, async (db) => {
      // In-process: the pass is one transaction, so the rows read here cannot move under it, and the
      // signal prices the sim fills at come in one query.
      const inProcess = venue instanceof SimVenue;
      const rows = inProcess ? await liveIntents(db, first.user_id, first.target_key) : list;
      const prices = inProcess ? await signalPrices(db, rows) : undefined;
      const blocked = new Set<string>();
      let worked = 0;
      for (const i of rows) {
        if (blocked.has(i.group_key)) continue;
        const due = i.status === 'sending' || i.next_attempt_at === null || i.next_attempt_at <= now;
        if (!due || this.inFlight.has(i.id)) {
          blocked.add(i.group_key);
          continue;
        }
        const after = await this.work(db, venue, i, prices);
        worked += 1;
        if (after.status === 'pending' || after.status === 'sending') blocked.add(i.group_key);
      }
      if (worked > 0) await this.snapshot(db, venue, first.user_id, first.target_key);
      return worked;
    });
  }

  /** Works due intents until none is left (tests; the server runs passes on its own). */
  async drain(): Promise<void> {
    for (;;) {
      await this.running;
      if ((await this.runOnce()) === 0 && !this.running && this.inFlight.size === 0) return;
    }
  }

  /** Keeps passing while there is due work; schedules the next retry. */
  private async loop(): Promise<void> {
    this.again = false;
    try {
      await this.runOnce(); // a pass works whole groups: what it leaves is waiting for a retry time
    } catch (e) {
      this.log?.warn({ err: message(e) }, 'order dispatch pass failed');
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

  /** Works one intent; `prices` (signal id → price) means the rows were read inside this pass's transaction. */
  private async work(db: Kysely<Database>, venue: Venue, i: IntentRow, prices?: ReadonlyMap<number, number>): Promise<IntentRow> {
    if (this.inFlight.has(i.id)) return i;
    this.inFlight.add(i.id);
    try {
      // The row may have moved since it was listed (an API call worked it): work what is stored now.
      const fresh = prices ? i : await intentById(db, i.id);
      if (!fresh || (fresh.status !== 'pending' && fresh.status !== 'sending')) return fresh ?? i;
      return await this.workUnlocked(db, venue, fresh, prices);
    } catch (e) {
      return this.fail(db, i, e);
    } finally {
      this.inFlight.delete(i.id);
    }
  }

  private async workUnlocked(db: Kysely<Database>, venue: Venue, i: IntentRow, prices?: ReadonlyMap<number, number>): Promise<IntentRow> {
    if (i.action === 'cancel') return this.cancel(db, venue, i);
    const inProcess = venue instanceof SimVenue;
    if (inProcess && i.signal_id !== null) {
      // The simulated exchange fills at the signal's price: it is the market the signal saw.
      const price = prices ? prices.get(i.signal_id) : (await signalPrices(db, [i])).get(i.signal_id);
      if (price !== undefined) await venue.setPrice(i.symbol, price);
    }
    if (i.status === 'sending' || i.attempts > 0) {
      const landed = await venue.fetchOrderByClientId(i.client_id, i.symbol);
      if (landed) return this.record(db, i, landed);
    }
    const want = i.position_side !== null ? 'hedge' : 'oneway';
    if (venue.positionMode() !== want) await venue.setPositionMode(want);
    // Committed before the request leaves, so a crash mid-send is found and looked up, never resent blindly.
    const patch = { status: 'sending', attempts: i.attempts + 1, next_attempt_at: null };
    const sending = inProcess ? { ...i, ...patch } : await updateIntent(db, i.id, patch, this.clock.now());
    try {
      const order = await venue.createOrder(venueRequestOf(i));
      return await this.record(db, sending, order);
    } catch (e) {
      if (isHalyardError(e, 'conflict')) {
        const landed = await venue.fetchOrderByClientId(i.client_id, i.symbol);
        if (landed) return this.record(db, sending, landed);
      }
      return this.fail(db, sending, e);
    }
  }

  /** Cancels one intent's order (`cancels_intent_id`) or the group's previous bracket. */
  private async cancel(db: Kysely<Database>, venue: Venue, i: IntentRow): Promise<IntentRow> {
    const errors: string[] = [];
    let victims: IntentRow[];
    if (i.cancels_intent_id !== null) {
      const one = await intentById(db, i.cancels_intent_id);
      if (one && (one.status === 'pending' || (one.status === 'sending' && !(await venue.fetchOrderByClientId(one.client_id, one.symbol))))) {
        await updateIntent(db, one.id, { status: 'canceled', last_error: 'canceled before it reached the venue', next_attempt_at: null }, this.clock.now());
      }
      victims = one && one.status === 'open' ? [one] : [];
    } else {
      victims = await openBracketIntents(db, i.group_key, i.id);
    }
    for (const b of victims) {
      try {
        await this.record(db, b, await venue.cancelOrder(b.venue_order_id ?? '', b.symbol));
      } catch (e) {
        if (!isHalyardError(e, 'not_found')) {
          errors.push(`${b.role} ${b.client_id}: ${message(e)}`);
          continue;
        }
        // Gone already: filled, or canceled by the venue when the position closed. Record what it became.
        const now = await venue.fetchOrderByClientId(b.client_id, b.symbol).catch(() => null);
        await updateIntent(db, b.id, now ? this.outcome(now) : { status: 'canceled' }, this.clock.now());
      }
    }
    if (errors.length > 0) return this.fail(db, i, new Error(errors.join('; ')), true);
    return updateIntent(db, i.id, { status: 'done', attempts: i.attempts + 1, last_error: null, last_error_code: null }, this.clock.now());
  }

  private outcome(o: VenueOrder): Partial<IntentRow> {
    return { status: intentStatusOf(o), venue_order_id: o.id, filled_qty: o.filledQty, avg_fill_price: o.avgFillPrice, raw: JSON.stringify(o.raw ?? null), last_error: null, last_error_code: null, next_attempt_at: null };
  }

  private record(db: Kysely<Database>, i: IntentRow, o: VenueOrder): Promise<IntentRow> {
    return updateIntent(db, i.id, { ...this.outcome(o), attempts: Math.max(i.attempts, 1) }, this.clock.now());
  }

  /** Transient → pending again with backoff (until attempts run out); anything else is final. */
  private async fail(db: Kysely<Database>, i: IntentRow, e: unknown, transient = false): Promise<IntentRow> {
    const now = this.clock.now();
    const retryable = transient || isHalyardError(e, 'venue_unavailable') || (!isHalyardError(e) && !(e instanceof TypeError));
    const attempts = Math.max(i.attempts, 1);
    const why = message(e);
    const code = isHalyardError(e) ? e.code : retryable ? 'venue_unavailable' : 'venue_error';
    if (retryable && attempts < this.policy.maxAttempts) {
      const wait = Math.max(1, backoffMs(attempts, { maxAttempts: this.policy.maxAttempts, baseDelayMs: this.policy.baseDelayMs, maxDelayMs: this.policy.maxDelayMs }, this.policy.rng));
      return updateIntent(db, i.id, { status: 'pending', attempts, last_error: why, last_error_code: code, next_attempt_at: now + wait }, now);
    }
    const status = retryable ? 'failed' : isHalyardError(e, 'venue_rejected') || isHalyardError(e, 'invalid_input') || isHalyardError(e, 'not_found') ? 'rejected' : 'failed';
    this.log?.warn({ intent: i.id, target: i.target_key, err: why }, `order ${status}`);
    return updateIntent(db, i.id, { status, attempts, last_error: why, last_error_code: code, next_attempt_at: null }, now);
  }

  /**
   * Brings resting orders up to date (a stop that triggered, a bracket the venue canceled) and records the
   * venue's positions beside the signal positions. Best effort: a failure is logged and retried next time.
   */
  private async snapshot(db: Kysely<Database>, venue: Venue, userId: number, targetKey: string): Promise<void> {
    try {
      for (const i of await targetIntents(db, userId, targetKey, ['open'])) {
        if (this.inFlight.has(i.id)) continue;
        const o = await venue.fetchOrderByClientId(i.client_id, i.symbol);
        if (o && intentStatusOf(o) !== 'open') await this.record(db, i, o);
      }
      const positions = await venue.fetchPositions();
      const now = this.clock.now();
      if (db.isTransaction) await saveVenuePositions(db, userId, targetKey, positions, now);
      else await db.transaction().execute((trx) => saveVenuePositions(trx, userId, targetKey, positions, now));
    } catch (e) {
      this.log?.warn({ target: targetKey, err: message(e) }, 'venue position snapshot failed');
    }
  }
}
