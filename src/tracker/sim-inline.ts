import type { Kysely } from 'kysely';
import { errorMessage, isHalyardError } from '../core/errors.ts';
import { sideSign } from '../core/types.ts';
import type { VenueOrder } from '../core/venue.ts';
import { isTransient } from '../exchange/retry.ts';
import { SimVenue } from '../exchange/sim/index.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import type { GroupContext } from '../store/group-commit.ts';
import { LIVE_INTENT_STATUSES, venueRequestOf, type NewIntent, type WrittenIntent } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import { cappedByNetting, intentStatusOf, REFUSALS } from './intent-worker.ts';
import { KeyedLock } from './keyed-lock.ts';
import type { VenueRegistry } from './venue-registry.ts';

/** What executing one signal's intents inside its own transaction did. */
export interface InlineResult {
  /** The intents to write: those a simulated exchange took carry its answer, the rest are pending. */
  readonly rows: readonly WrittenIntent[];
  /** Some intents are left pending for the dispatcher. */
  readonly deferred: boolean;
  /** Targets whose simulated exchange took orders now (their snapshot and bracket fills are settled after the commit). */
  readonly executed: readonly string[];
}

/** What one delivery's transaction holds until it settled (committed or rolled back). */
export interface SimHold {
  /** Exchanges it moved. */
  readonly venues: SimVenue[];
  /** Groups it left pending intents in (not visible to other transactions before it commits). */
  readonly groups: string[];
}

/** True for a target executed by the in-process simulated exchange. */
export function isSimTarget(targetKey: string): boolean {
  let sim = simTargets.get(targetKey);
  if (sim === undefined) {
    sim = parseTargetKey(targetKey).exchange === 'sim';
    if (simTargets.size >= 1000) simTargets.clear();
    simTargets.set(targetKey, sim);
  }
  return sim;
}

/** `isSimTarget` by key: asked for every order of every signal (bounded: started anew past 1,000 keys). */
const simTargets = new Map<string, boolean>();

/**
 * `i` with `fields` over it. Object.assign, not `{ ...i, ...fields }`: V8 (Node 20) builds a spread with
 * more properties after it many times slower, and this runs for every order of every signal.
 */
function withFields(i: NewIntent, fields: Partial<WrittenIntent>): WrittenIntent {
  return Object.assign({}, i, fields);
}

function answered(i: NewIntent, o: VenueOrder): WrittenIntent {
  return withFields(i, { status: intentStatusOf(o), attempts: 1, venue_order_id: o.id, filled_qty: o.filledQty, avg_fill_price: o.avgFillPrice, raw: JSON.stringify(o.raw ?? null) });
}

/**
 * Executes a signal's orders on `sim:*` targets inside the signal's own transaction (one commit for the
 * signal, its positions and its fills). The simulated exchange lives in this process, so an order it took
 * is written with its answer at once; if the transaction rolls back, the exchange is dropped and rebuilt
 * from the stored intents once every transaction that moved it has settled. Whatever cannot be decided
 * without the dispatcher (a cancel, a netting check that needs the ledger, a group with orders still
 * waiting, a transient failure) is written pending and left to it, as for exchange targets.
 */
export class SimInline {
  /** Groups known to have no pending intent (so a new one may go before the dispatcher looks). */
  private readonly clear = new Set<string>();
  /** Transactions in flight that moved each exchange, and who waits for them to settle. */
  private readonly inflight = new Map<SimVenue, { n: number; waiters: (() => void)[] }>();
  private readonly dropped = new WeakSet<SimVenue>();
  /** Groups with pending intents in a transaction not settled yet: their next intents wait too. */
  private readonly deferring = new Map<string, number>();
  /** One hand on an exchange at a time (a delivery's orders, or a dispatcher pass). */
  private readonly locks = new KeyedLock();
  /** Exchanges a dispatcher pass is waiting for: deliveries leave their orders to it meanwhile. */
  private readonly wanted = new Map<string, number>();

  /**
   * @param oneWriter deliveries commit through one lane (the server's intake), so the ledger read inside a
   *   delivery's transaction is the one the exchange moved with: a netting exit is decided there. With
   *   several lanes, another transaction may have moved the exchange and not committed yet, so such an exit
   *   goes to the dispatcher.
   */
  constructor(
    private readonly venues: VenueRegistry,
    private readonly oneWriter = false,
  ) {}

  /**
   * Runs a dispatcher pass over a simulated exchange (inside its transaction): new deliveries leave their
   * orders pending, the ones that moved it settle first, then `fn` runs alone on it.
   */
  async exclusive<T>(userId: number, targetKey: string, fn: () => Promise<T>): Promise<T> {
    const key = `${userId}|${targetKey}`;
    this.wanted.set(key, (this.wanted.get(key) ?? 0) + 1);
    try {
      const v = this.venues.peek(userId, targetKey);
      if (v instanceof SimVenue) await this.settled(v);
      return await this.locks.run(key, fn);
    } finally {
      const n = (this.wanted.get(key) ?? 1) - 1;
      if (n > 0) this.wanted.set(key, n);
      else this.wanted.delete(key);
    }
  }

  /** Opens the simulated exchanges of `targets` (outside any transaction: a restore reads the store). */
  async prepare(userId: number, targets: readonly string[]): Promise<void> {
    for (const t of targets) if (isSimTarget(t)) await this.venues.get(userId, t).catch(() => undefined);
  }

  /**
   * Executes what it can of `intents` (one signal's, in order) at `price`; `held` collects the exchanges
   * moved and the groups deferred, to be released with `release` once the transaction settled.
   */
  async execute(trx: Kysely<Database>, ctx: GroupContext, userId: number, intents: readonly NewIntent[], price: number, held: SimHold): Promise<InlineResult> {
    const rows: WrittenIntent[] = [];
    const executed: string[] = [];
    let deferred = false;
    const byTarget = new Map<string, NewIntent[]>();
    for (const i of intents) {
      const list = byTarget.get(i.target_key);
      if (list) list.push(i);
      else byTarget.set(i.target_key, [i]);
    }
    for (const [targetKey, list] of byTarget) {
      const venue = isSimTarget(targetKey) ? this.venues.peek(userId, targetKey) : undefined;
      const sim = venue instanceof SimVenue && !this.dropped.has(venue) ? venue : null;
      const live = list.filter((i) => i.status === undefined || i.status === 'pending');
      if (!sim || live.length === 0 || live.some((i) => i.action !== 'place') || !(await this.groupsClear(trx, live))) {
        rows.push(...list);
        if (live.length > 0) {
          deferred = true;
          this.defer(live.map((i) => i.group_key), held);
        }
        continue;
      }
      const key = `${userId}|${targetKey}`;
      const done = await this.locks.run(key, async () => {
        if (this.wanted.has(key)) return null;
        this.hold(sim, userId, targetKey, ctx, held);
        const symbols = new Set(live.map((i) => i.symbol));
        for (const s of symbols) await sim.setPrice(s, price);
        if (!this.oneWriter && !(await this.nettingKnown(sim, live))) return null;
        const out: WrittenIntent[] = [];
        const blocked = new Set<string>();
        for (const i of list) {
          if (!live.includes(i) || blocked.has(i.group_key)) {
            out.push(i);
            continue;
          }
          const placed = await this.place(trx, ctx, sim, i);
          out.push(placed);
          if (placed.status === 'pending') blocked.add(i.group_key);
        }
        return out;
      });
      if (!done) {
        rows.push(...list);
        deferred = true;
        this.defer(live.map((i) => i.group_key), held);
        continue;
      }
      executed.push(targetKey);
      rows.push(...done);
      // An intent handed back as it came (a failure that may pass, or behind one in its group) stays pending.
      const left = done.filter((i) => live.includes(i as NewIntent));
      if (left.length > 0) {
        deferred = true;
        this.defer(left.map((i) => i.group_key), held);
      }
    }
    return { rows, deferred, executed };
  }

  /** Lets go of the exchanges a delivery's transaction moved (it committed or rolled back). */
  release(held: SimHold): void {
    for (const g of held.groups.splice(0)) {
      const n = (this.deferring.get(g) ?? 1) - 1;
      if (n > 0) this.deferring.set(g, n);
      else this.deferring.delete(g);
    }
    for (const v of held.venues.splice(0)) {
      const f = this.inflight.get(v);
      if (!f) continue;
      f.n -= 1;
      if (f.n > 0) continue;
      this.inflight.delete(v);
      for (const w of f.waiters) w();
    }
  }

  /** Leaves `groups` to the dispatcher: their next intents wait for what this transaction left pending. */
  private defer(groups: readonly string[], held: SimHold): void {
    for (const g of new Set(groups)) {
      this.clear.delete(g);
      this.deferring.set(g, (this.deferring.get(g) ?? 0) + 1);
      held.groups.push(g);
    }
  }

  private hold(sim: SimVenue, userId: number, targetKey: string, ctx: GroupContext, held: SimHold): void {
    const f = this.inflight.get(sim) ?? { n: 0, waiters: [] };
    f.n += 1;
    this.inflight.set(sim, f);
    held.venues.push(sim);
    ctx.onAbort(() => {
      // Its fills will not be stored: the exchange is rebuilt from the store once nothing else is moving it.
      this.dropped.add(sim);
      this.clear.clear();
      void this.venues.forget(userId, targetKey, this.settled(sim));
    });
  }

  private settled(sim: SimVenue): Promise<void> {
    const f = this.inflight.get(sim);
    if (!f) return Promise.resolve();
    return new Promise((res) => f.waiters.push(res));
  }

  /** True when no group of `list` has an intent still waiting for the dispatcher (looked up once per group). */
  private async groupsClear(trx: Kysely<Database>, list: readonly NewIntent[]): Promise<boolean> {
    if (list.some((i) => this.deferring.has(i.group_key))) return false;
    const unknown = [...new Set(list.map((i) => i.group_key))].filter((g) => !this.clear.has(g));
    if (unknown.length === 0) return true;
    const waiting = await trx.selectFrom('order_intents').select('id').where('group_key', 'in', unknown).where('status', 'in', [...LIVE_INTENT_STATUSES]).limit(1).executeTakeFirst();
    if (waiting) return false;
    for (const g of unknown) this.clear.add(g);
    return true;
  }

  /**
   * True unless a one-way reduce-only market exit finds the exchange holding less than it on that side:
   * then whether it nets with a dashboard position (send it plain) or its share is gone (send nothing)
   * needs the ledger, which the dispatcher reads (`IntentWorker.cappedByNetting`).
   */
  private async nettingKnown(sim: SimVenue, list: readonly NewIntent[]): Promise<boolean> {
    for (const i of list) {
      if (i.reduce_only !== 1 || i.position_side != null || i.source !== 'signal' || i.type !== 'market') continue;
      const held = (await sim.fetchPositions([i.symbol])).find((p) => p.positionSide === null);
      const reducible = held && sideSign(held.side) !== (i.side === 'buy' ? 1 : -1) ? held.qty : 0;
      if (reducible + 1e-9 < i.qty) return false;
    }
    return true;
  }

  /** Places one intent on the exchange and returns it with the answer (unchanged, pending, when the failure may pass). */
  private async place(trx: Kysely<Database>, ctx: GroupContext, sim: SimVenue, i: NewIntent): Promise<WrittenIntent> {
    try {
      const landed = await sim.fetchOrderByClientId(i.client_id, i.symbol);
      if (landed) return answered(i, landed);
      const want = i.position_side != null ? 'hedge' : 'oneway';
      if (sim.positionMode() !== want) await sim.setPositionMode(want);
      let sent = i;
      if (this.oneWriter) {
        // The netting check reads the ledger when the exchange holds less than the exit: the group's
        // position rows written so far must be in the transaction by then.
        if (!(await this.nettingKnown(sim, [i]))) await ctx.writeNow(trx);
        const netting = await cappedByNetting(trx, sim, withFields(i, { position_side: i.position_side ?? null }) as NewIntent & { position_side: string | null });
        if (netting === 'gone') {
          return withFields(i, { status: 'canceled', attempts: 1, last_error: 'not sent: the venue no longer holds this share (its stop-loss or take-profit filled there)', last_error_code: 'conflict' });
        }
        if (netting === 'plain') sent = withFields(i, { reduce_only: 0 });
      }
      return answered(sent, await sim.createOrder(venueRequestOf(sent)));
    } catch (e) {
      if (isTransient(e) || !isHalyardError(e)) return i;
      const status = REFUSALS.includes(e.code) ? 'rejected' : 'failed';
      return withFields(i, { status, attempts: 1, last_error: errorMessage(e), last_error_code: e.code });
    }
  }
}
