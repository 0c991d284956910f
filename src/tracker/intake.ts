import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { PositionMode, Side } from '../core/types.ts';
import { GroupCommit } from '../store/group-commit.ts';
import { loadRecorderSnapshot } from '../store/positions.ts';
import { getRecorder, recorderBySecret, recorderLinks, type Recorder } from '../store/recorders.ts';
import type { Database } from '../store/schema.ts';
import { acceptedByKey, checkDelivery, insertSignal, type NewSignalRow } from '../store/signals.ts';
import { dedupeKey } from './dedupe.ts';
import { parseSignalBody } from './parse.ts';
import type { NormalizedSignal } from './signal.ts';
import { SignalBook, type EffectiveSignal, type SignalEffect } from './signal-ledger.ts';
import { KeyedLock } from './keyed-lock.ts';
import { bookIdPrefix, writeSignalEffect } from './book-writes.ts';
import { intentRows } from '../store/order-intents.ts';
import { legsOf, planSignalOrders, type ExecutionLink, type LegState } from './signal-orders.ts';
import type { SimHold, SimInline } from './sim-inline.ts';

/** An open position of the signal's ticker after a delivery (hedge mode lists both legs). */
export interface PositionBrief {
  readonly id: string;
  readonly symbol: string;
  readonly side: string;
  readonly size: number;
  readonly entry_price: number;
}

/** What `process` answers when the delivery's secret no longer opens its recorder (nothing stored). */
const GONE = Symbol('gone');

/** Most secrets remembered (`SignalIntake.known`); past it the map starts anew. */
const MAX_KNOWN_SECRETS = 10_000;

/** How a delivery ended; every one is stored before this is returned. */
export type IntakeAnswer =
  | { readonly status: 'accepted'; readonly signal_id: number; readonly action: string; readonly positions: readonly PositionBrief[] }
  | { readonly status: 'duplicate'; readonly signal_id: number; readonly duplicate_of: number }
  | { readonly status: 'rejected'; readonly signal_id: number; readonly reason: string };

/**
 * Signal intake: parse, dedupe, check lag, store the delivery and move the recorder's signal-based
 * positions — all in one transaction per delivery, one delivery at a time per recorder.
 */
export class SignalIntake {
  private readonly books = new Map<number, SignalBook>();
  private readonly links = new Map<number, readonly ExecutionLink[]>();
  /** Called after a delivery wrote order intents left for the dispatcher (it wakes up). */
  onIntents: () => void = () => {};
  /** Called after a delivery's orders were executed on a simulated exchange in its own transaction (its snapshot is settled soon). */
  onExecuted: (userId: number, targetKey: string) => void = () => {};
  /** Executes `sim:*` orders inside the signal's transaction; unset, every order goes through the dispatcher. */
  sim: SimInline | null = null;
  /**
   * Recorder lookups by secret, shared by the deliveries that arrive before the next group transaction
   * starts and dropped then: a rotation or a delete (by this server, another one or the CLI) counts from
   * the next group, as a lookup made just before it would.
   */
  private readonly recorders = new Map<string, Promise<Recorder | undefined>>();
  /**
   * Recorders by the secrets of earlier deliveries, for the server's life: a delivery's transaction checks
   * that its secret still opens its recorder (one statement with the duplicate check), so a rotation or a
   * delete (by this server, another one or the CLI) counts from the next delivery. Recorder rows change
   * only in their secrets and deletion.
   */
  private readonly known = new Map<string, Recorder>();
  /** Called with the price of every accepted signal that carried one, and the recorder's user (that user's marks). */
  onPrice: (userId: number, ticker: string, price: number, ts: number) => void = () => {};
  private readonly lock = new KeyedLock();

  private readonly writes: GroupCommit;

  /** `lanes`: write transactions in flight at once (1 for SQLite, a few for PostgreSQL). */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    lanes = 1,
  ) {
    this.writes = new GroupCommit(db, lanes);
    this.writes.onBatch = () => this.recorders.clear();
  }

  /** The live recorder of a webhook secret (see `recorders`). */
  private recorderOf(secret: string, now: number): Promise<Recorder | undefined> {
    let r = this.recorders.get(secret);
    if (!r) {
      r = recorderBySecret(this.db, secret, now);
      this.recorders.set(secret, r);
      r.catch(() => this.recorders.delete(secret));
    }
    return r;
  }

  /** Handles one webhook delivery. Unknown secret → not_found; a body that is no signal → invalid_input (nothing stored). */
  async receive(secret: string, raw: string, contentType: string | null): Promise<IntakeAnswer> {
    const receivedAt = this.clock.now();
    const known = this.known.get(secret);
    const rec = known ?? (await this.recorderOf(secret, receivedAt));
    if (!rec) throw new HalyardError('not_found', 'no recorder has this webhook secret');
    if (!known) {
      if (this.known.size >= MAX_KNOWN_SECRETS) this.known.clear();
      this.known.set(secret, rec);
    }
    const parsed = parseSignalBody(raw, contentType ? { contentType } : {});
    if (parsed.kind === 'invalid') {
      // A recorder known from an earlier delivery may have been deleted or rotated since: an unknown secret is answered first.
      if (known && (await recorderBySecret(this.db, secret, receivedAt))?.id !== rec.id) return this.gone(secret);
      throw new HalyardError('invalid_input', `not a signal: ${parsed.reason}`);
    }
    const answer = await this.lock.run(rec.id, () => this.process(rec, parsed.signal, raw, contentType, receivedAt, secret));
    return answer === GONE ? this.gone(secret) : answer;
  }

  /** A secret that no longer opens its recorder: forgotten, and answered not_found. */
  private gone(secret: string): never {
    this.known.delete(secret);
    throw new HalyardError('not_found', 'no recorder has this webhook secret');
  }

  /**
   * Closes one of a recorder's signal positions from the dashboard: a CLOSE of its ticker (and leg) at
   * `price`, stored in the signal log (format `dashboard`) and applied like any delivery, so every target
   * linked to the recorder gets its exit order and the signal log still rebuilds the positions.
   */
  async closeFromDashboard(userId: number, recorderId: number, ticker: string, positionSide: Side | null, price: number | null): Promise<IntakeAnswer> {
    const rec = await getRecorder(this.db, userId, recorderId);
    const now = this.clock.now();
    const raw = JSON.stringify({ action: 'close', ticker, ...(positionSide ? { position_side: positionSide } : {}), ...(price !== null ? { price } : {}), by: 'dashboard', at: now });
    const s: NormalizedSignal = {
      format: 'dashboard',
      action: 'CLOSE',
      ticker,
      qty: null,
      price,
      time: null,
      // Unique per click: two closes of one position are two signals (the second finds it flat).
      orderId: `dashboard-${now}-${++this.dashboardSeq}`,
      targetSize: null,
      positionSide,
      stopLoss: null,
      takeProfit: null,
      maxLagMs: null,
      comment: 'closed from the dashboard',
    };
    return this.lock.run(rec.id, () => this.process(rec, s, raw, 'application/json', now)) as Promise<IntakeAnswer>;
  }

  private dashboardSeq = 0;

  /**
   * Books a signal position's stop-loss or take-profit that filled at a venue: a CLOSE of the recorder's
   * leg at the fill price (format `venue`, deduplicated by the order, so booking it twice is one signal);
   * the other linked targets get their exits, the target where it filled only the cancel of the rest of
   * its bracket.
   */
  async closeFromVenue(fill: {
    userId: number;
    recorderId: number;
    ticker: string;
    positionSide: Side | null;
    price: number;
    targetKey: string;
    intentId: number;
    role: string;
    /** What the bracket filled there, signed (+ bought, − sold; base units). */
    signedQty: number;
  }): Promise<IntakeAnswer> {
    const rec = await getRecorder(this.db, fill.userId, fill.recorderId);
    const now = this.clock.now();
    const raw = JSON.stringify({ action: 'close', ticker: fill.ticker, ...(fill.positionSide ? { position_side: fill.positionSide } : {}), price: fill.price, by: fill.role, target: fill.targetKey, order_id: fill.intentId });
    const s: NormalizedSignal = {
      format: 'venue',
      action: 'CLOSE',
      ticker: fill.ticker,
      qty: null,
      price: fill.price,
      time: null,
      orderId: `venue-${fill.targetKey}-${fill.intentId}`,
      targetSize: null,
      positionSide: fill.positionSide,
      stopLoss: null,
      takeProfit: null,
      maxLagMs: null,
      comment: `${fill.role.replace('_', '-')} filled on ${fill.targetKey}`,
    };
    return this.lock.run(rec.id, () => this.process(rec, s, raw, 'application/json', now, undefined, { targetKey: fill.targetKey, leg: fill.positionSide, signed: fill.signedQty })) as Promise<IntakeAnswer>;
  }

  /**
   * Stores one delivery and applies it, in one job of the group transaction: the job checks first (inside
   * the transaction, one statement) that the secret still opens the recorder (`secret`; absent for the
   * dashboard's and venues' closes) and whether the delivery repeats an accepted signal, then decides.
   * Answers GONE when the secret no longer opens the recorder (nothing is stored).
   */
  private async process(
    rec: Recorder,
    s: NormalizedSignal,
    raw: string,
    contentType: string | null,
    receivedAt: number,
    secret?: string,
    doneOn?: { readonly targetKey: string; readonly leg: Side | null; readonly signed: number },
  ): Promise<IntakeAnswer | typeof GONE> {
    // A venue's bracket fill carries its order as the order id: booked twice, it is one signal.
    const key = dedupeKey(rec.id, s, receivedAt);
    // Each stored row is written out whole: V8 (Node 20) builds `{ ...row, outcome }` many times slower.
    const row = (outcome: string, reason: string | null, qty: number | null, price: number | null): NewSignalRow => ({
      recorder_id: rec.id,
      user_id: rec.user_id,
      received_at: receivedAt,
      format: s.format,
      action: s.action,
      ticker: s.ticker,
      qty,
      price,
      signal_time: s.time,
      order_id: s.orderId,
      target_size: s.targetSize,
      position_side: s.positionSide,
      stop_loss: s.stopLoss,
      take_profit: s.takeProfit,
      dedupe_key: key,
      outcome,
      reason,
      raw_body: raw,
      content_type: contentType,
    });
    // What can be decided before the transaction (the book is this recorder's alone: the lock is held).
    const lagLimit = Math.min(rec.max_lag_ms, s.maxLagMs ?? Infinity);
    const stale =
      s.time !== null && receivedAt - s.time > lagLimit
        ? `stale: generated ${((receivedAt - s.time) / 1000).toFixed(1)} s before it arrived; max lag is ${(lagLimit / 1000).toFixed(0)} s`
        : null;
    const book = stale === null ? await this.book(rec) : null;
    const price = book ? (s.price ?? book.lastPrice.get(s.ticker) ?? null) : null;
    const links = book && price !== null ? await this.linksOf(rec.id) : [];
    const sim = this.sim;
    if (sim && links.length > 0) await sim.prepare(rec.user_id, links.map((l) => l.targetKey));
    let applied: { readonly effect: SignalEffect; readonly before: Map<string, LegState> } | null = null;
    let deferred = false;
    let executed: readonly string[] = [];
    const held: SimHold = { venues: [], groups: [] };
    try {
      const out = await this.writes.run(async (trx, ctx): Promise<IntakeAnswer | typeof GONE> => {
        const check = secret !== undefined ? await checkDelivery(trx, rec.id, secret, receivedAt, key) : { live: true, duplicateOf: await acceptedByKey(trx, rec.id, key) };
        if (!check.live) return GONE;
        const original = check.duplicateOf;
        if (original !== undefined) {
          const id = await insertSignal(trx, row('duplicate', `duplicate of signal ${original}`, s.qty, s.price));
          return { status: 'duplicate', signal_id: id, duplicate_of: original };
        }
        if (stale !== null || !book) return this.reject(trx, row('rejected', stale ?? 'stale', s.qty, s.price));
        if (price === null) {
          const hasOpen = book.ledger.open.some((p) => p.symbol === s.ticker);
          const needsPrice = s.action !== 'CANCEL' && (hasOpen || (s.action !== 'CLOSE' && s.targetSize !== 0));
          if (needsPrice) return this.reject(trx, row('rejected', `no price: the signal carries none and no earlier ${s.ticker} signal of this recorder had one`, s.qty, s.price));
          // Nothing to move and no price to learn (CANCEL, or CLOSE while flat): stored, positions untouched.
          const id = await insertSignal(trx, row('accepted', null, s.qty ?? rec.default_qty, null));
          return { status: 'accepted', signal_id: id, action: s.action, positions: [] };
        }
        const eff: EffectiveSignal = {
          action: s.action,
          ticker: s.ticker,
          qty: s.qty ?? rec.default_qty,
          price,
          ts: receivedAt,
          targetSize: s.targetSize,
          positionSide: s.positionSide,
          stopLoss: s.stopLoss,
          takeProfit: s.takeProfit,
        };
        // Applied once: a job retried alone after its group failed writes the same effect again.
        if (!applied) {
          const before = legsOf(book.ledger, s.ticker);
          applied = { effect: book.apply(eff), before };
        }
        const { effect, before } = applied;
        if (effect.kind === 'refused') return this.reject(trx, row('rejected', effect.reason, s.qty, s.price));
        const signalId = await insertSignal(trx, row('accepted', null, eff.qty, eff.price));
        await writeSignalEffect(trx, rec, book, effect, receivedAt, signalId, ctx);
        const after = legsOf(book.ledger, s.ticker);
        const intents = planSignalOrders({ userId: rec.user_id, recorderId: rec.id, signalId, ticker: s.ticker, before, after, links, doneOn });
        if (intents.length > 0) {
          const done = sim ? await sim.execute(trx, ctx, rec.user_id, intents, eff.price, held) : { rows: intents, deferred: true, executed: [] };
          deferred = done.deferred;
          executed = done.executed;
          ctx.insertLater('order_intents', intentRows(done.rows, receivedAt));
        }
        return { status: 'accepted', signal_id: signalId, action: s.action, positions: [] };
      });
      if (out === GONE || out.status !== 'accepted' || !applied) return out;
      if (deferred) this.onIntents();
      for (const t of executed) this.onExecuted(rec.user_id, t);
      if (s.price !== null) this.onPrice(rec.user_id, s.ticker, s.price, receivedAt);
      const positions = book!.ledger.open
        .filter((p) => p.symbol === s.ticker)
        .map((p) => ({ id: p.id, symbol: p.symbol, side: p.side, size: p.qty, entry_price: p.entryPrice }));
      return { status: 'accepted', signal_id: out.signal_id, action: out.action, positions };
    } catch (e) {
      if (applied) this.books.delete(rec.id); // the book moved but the store did not: reload it from the store next time
      throw e;
    } finally {
      sim?.release(held);
    }
  }

  private async reject(trx: Kysely<Database>, row: NewSignalRow): Promise<IntakeAnswer> {
    const id = await insertSignal(trx, row);
    return { status: 'rejected', signal_id: id, reason: row.reason ?? '' };
  }

  /** The targets a recorder executes on (links are set when the recorder is created). */
  private async linksOf(recorderId: number): Promise<readonly ExecutionLink[]> {
    const cached = this.links.get(recorderId);
    if (cached) return cached;
    const rows = await recorderLinks(this.db, recorderId);
    const links = rows.map((r) => ({ targetKey: r.target_key, multiplier: r.multiplier }));
    this.links.set(recorderId, links);
    return links;
  }

  private async book(rec: Recorder): Promise<SignalBook> {
    const cached = this.books.get(rec.id);
    if (cached) return cached;
    const book = new SignalBook(rec.position_mode as PositionMode, bookIdPrefix(rec.id));
    const snap = await loadRecorderSnapshot(this.db, rec.id);
    book.ledger.restore(snap.open, snap.issued);
    book.realized = snap.realized;
    for (const [k, v] of snap.lastPrice) book.lastPrice.set(k, v);
    this.books.set(rec.id, book);
    return book;
  }
}
