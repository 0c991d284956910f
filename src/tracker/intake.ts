import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { PositionMode, Side } from '../core/types.ts';
import { GroupCommit } from '../store/group-commit.ts';
import { loadRecorderSnapshot } from '../store/positions.ts';
import { getRecorder, recorderBySecret, recorderLinks, type Recorder } from '../store/recorders.ts';
import type { Database } from '../store/schema.ts';
import { acceptedByKey, insertSignal, type NewSignalRow } from '../store/signals.ts';
import { dedupeKey } from './dedupe.ts';
import { parseSignalBody } from './parse.ts';
import type { NormalizedSignal } from './signal.ts';
import { SignalBook, type EffectiveSignal } from './signal-ledger.ts';
import { KeyedLock } from './keyed-lock.ts';
import { bookIdPrefix, writeSignalEffect } from './book-writes.ts';
import { intentRows } from '../store/order-intents.ts';
import { legsOf, planSignalOrders, type ExecutionLink } from './signal-orders.ts';
import type { SimHold, SimInline } from './sim-inline.ts';

/** An open position of the signal's ticker after a delivery (hedge mode lists both legs). */
export interface PositionBrief {
  readonly id: string;
  readonly symbol: string;
  readonly side: string;
  readonly size: number;
  readonly entry_price: number;
}

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
    const rec = await this.recorderOf(secret, receivedAt);
    if (!rec) throw new HalyardError('not_found', 'no recorder has this webhook secret');
    const parsed = parseSignalBody(raw, contentType ? { contentType } : {});
    if (parsed.kind === 'invalid') throw new HalyardError('invalid_input', `not a signal: ${parsed.reason}`);
    return this.lock.run(rec.id, () => this.process(rec, parsed.signal, raw, contentType, receivedAt));
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
    return this.lock.run(rec.id, () => this.process(rec, s, raw, 'application/json', now));
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
    return this.lock.run(rec.id, () => this.process(rec, s, raw, 'application/json', now, { targetKey: fill.targetKey, leg: fill.positionSide, signed: fill.signedQty }));
  }

  private async process(rec: Recorder, s: NormalizedSignal, raw: string, contentType: string | null, receivedAt: number, doneOn?: { readonly targetKey: string; readonly leg: Side | null; readonly signed: number }): Promise<IntakeAnswer> {
    // A venue's bracket fill carries its order as the order id: booked twice, it is one signal.
    const key = dedupeKey(rec.id, s, receivedAt);
    const row: NewSignalRow = {
      recorder_id: rec.id,
      user_id: rec.user_id,
      received_at: receivedAt,
      format: s.format,
      action: s.action,
      ticker: s.ticker,
      qty: s.qty,
      price: s.price,
      signal_time: s.time,
      order_id: s.orderId,
      target_size: s.targetSize,
      position_side: s.positionSide,
      stop_loss: s.stopLoss,
      take_profit: s.takeProfit,
      dedupe_key: key,
      outcome: 'accepted',
      reason: null,
      raw_body: raw,
      content_type: contentType,
    };
    const original = await acceptedByKey(this.db, rec.id, key);
    if (original !== undefined) {
      const id = await this.writes.run((trx) => insertSignal(trx, { ...row, outcome: 'duplicate', reason: `duplicate of signal ${original}` }));
      return { status: 'duplicate', signal_id: id, duplicate_of: original };
    }
    const lagLimit = Math.min(rec.max_lag_ms, s.maxLagMs ?? Infinity);
    if (s.time !== null && receivedAt - s.time > lagLimit) {
      const reason = `stale: generated ${((receivedAt - s.time) / 1000).toFixed(1)} s before it arrived; max lag is ${(lagLimit / 1000).toFixed(0)} s`;
      return this.reject(row, reason);
    }
    const book = await this.book(rec);
    const price = s.price ?? book.lastPrice.get(s.ticker) ?? null;
    const hasOpen = book.ledger.open.some((p) => p.symbol === s.ticker);
    const needsPrice = s.action !== 'CANCEL' && (hasOpen || (s.action !== 'CLOSE' && s.targetSize !== 0));
    if (price === null) {
      if (needsPrice) return this.reject(row, `no price: the signal carries none and no earlier ${s.ticker} signal of this recorder had one`);
      // Nothing to move and no price to learn (CANCEL, or CLOSE while flat): stored, positions untouched.
      const id = await this.writes.run((trx) => insertSignal(trx, { ...row, qty: s.qty ?? rec.default_qty, price: null }));
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
    const links = await this.linksOf(rec.id);
    const before = legsOf(book.ledger, s.ticker);
    const effect = book.apply(eff);
    if (effect.kind === 'refused') return this.reject(row, effect.reason);
    const after = legsOf(book.ledger, s.ticker);
    let deferred = false;
    let executed: readonly string[] = [];
    const held: SimHold = { venues: [], groups: [] };
    const sim = this.sim;
    try {
      if (sim) await sim.prepare(rec.user_id, links.map((l) => l.targetKey));
      const id = await this.writes.run(async (trx, ctx) => {
        const signalId = await insertSignal(trx, { ...row, qty: eff.qty, price: eff.price });
        await writeSignalEffect(trx, rec, book, effect, receivedAt, signalId, ctx);
        const intents = planSignalOrders({ userId: rec.user_id, recorderId: rec.id, signalId, ticker: s.ticker, before, after, links, ...(doneOn ? { doneOn } : {}) });
        if (intents.length === 0) return signalId;
        const out = sim ? await sim.execute(trx, ctx, rec.user_id, intents, eff.price, held) : { rows: intents, deferred: true, executed: [] };
        deferred = out.deferred;
        executed = out.executed;
        ctx.insertLater('order_intents', intentRows(out.rows, receivedAt));
        return signalId;
      });
      if (deferred) this.onIntents();
      for (const t of executed) this.onExecuted(rec.user_id, t);
      if (s.price !== null) this.onPrice(rec.user_id, s.ticker, s.price, receivedAt);
      const positions = book.ledger.open
        .filter((p) => p.symbol === s.ticker)
        .map((p) => ({ id: p.id, symbol: p.symbol, side: p.side, size: p.qty, entry_price: p.entryPrice }));
      return { status: 'accepted', signal_id: id, action: s.action, positions };
    } catch (e) {
      this.books.delete(rec.id); // the book moved but the store did not: reload it from the store next time
      throw e;
    } finally {
      sim?.release(held);
    }
  }

  private async reject(row: NewSignalRow, reason: string): Promise<IntakeAnswer> {
    const id = await this.writes.run((trx) => insertSignal(trx, { ...row, outcome: 'rejected', reason }));
    return { status: 'rejected', signal_id: id, reason };
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
