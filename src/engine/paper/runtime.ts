import type { Kysely } from 'kysely';
import { HalyardError } from '../../core/errors.ts';
import type { Position } from '../../core/ledger.ts';
import type { Clock } from '../../core/ports.ts';
import type { TradeRecord } from '../../core/results.ts';
import type { Signal } from '../../core/signals.ts';
import type { Timeframe } from '../../core/timeframe.ts';
import type { Venue } from '../../core/venue.ts';
import type { LiveCandle } from '../../data/live-feed.ts';
import { enqueueAlerts, runStream, type NewAlert } from '../../store/alert-outbox.ts';
import { createPaperRun, loadRunState, paperRun, saveRunEvent, saveRunEventIn, setRunStatus, type PaperRunRow, type RunEvent } from '../../store/paper-runs.ts';
import type { Database, RunOrdersTable, RunPositionsTable, RunTradesTable } from '../../store/schema.ts';
import type { Strategy } from '../../strategy/strategy.ts';
import { CandleBuffer } from '../candle-buffer.ts';
import type { ExecutionCosts, FillPlan } from '../execution.ts';
import { Kernel, declaredTimeframes } from '../kernel.ts';
import type { FillModel, SlTpPolicy } from '../result.ts';
import { engineEvents, tradeAlerts, type PositionMark, type TradeAlert } from './events.ts';
import { barSteps } from './bar-steps.ts';
import { PaperOrders, restingSide, type MarketDriver } from './orders.ts';
import { isEnvelope, type StateEnvelope } from './state.ts';

/** A closed candle as the runtime takes it: a live candle plus open interest and CVD (base units, NaN when unknown). */
export type RuntimeCandle = LiveCandle & { readonly openInterest: number; readonly cvd: number };

/** What a paper run is: the strategy, the market, the rules of execution. Fees and slippage in bps. */
export interface PaperSettings {
  readonly runId: string;
  readonly strategy: Strategy;
  readonly strategyName: string;
  readonly strategyPath: string;
  readonly symbol: string;
  readonly target: string;
  readonly timeframe: Timeframe;
  readonly mode: 'live' | 'replay';
  readonly initialBalance: number;
  readonly leverage: number;
  readonly costs: ExecutionCosts;
  readonly fill: FillModel;
  readonly slTpPolicy: SlTpPolicy;
  readonly maintenanceMarginRate: number;
  /** Constant funding rate per 8 h (fraction). */
  readonly funding: number;
  /** Other settings recorded with the run (replay range, speed, ...). */
  readonly extra: Readonly<Record<string, unknown>>;
  /** Write engine events to the outbox (when a server URL is configured). */
  readonly publishEvents: boolean;
}

/**
 * How the runtime writes its trade alerts: as rows of the alert outbox (stream `run:<run id>`, one row per
 * channel), in the candle's own transaction and in the order the fills made them; a sender delivers them.
 */
export interface RuntimeAlerts {
  /** The channels each alert is written for. */
  readonly channels: readonly string[];
  /** The text of a position just opened (as it was right after its opening fill). */
  opened(p: Position): string;
  /** The text of a closed trade. */
  closed(t: TradeRecord): string;
  /** Called after a candle committed alerts (a sender may go). */
  written?(): void;
}

/** What the runtime runs on. */
export interface PaperDeps {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  readonly venue: Venue;
  /** The simulated exchange's price input (null for real venues). */
  readonly market: MarketDriver | null;
  readonly alerts?: RuntimeAlerts;
  /** A recoverable error that is tried once more (logged and alerted by the caller). */
  readonly onRetry?: (error: unknown) => void;
}

function positionRow(runId: string, p: Position, now: number): RunPositionsTable {
  return {
    run_id: runId,
    position_id: p.id,
    status: p.closedAt === null ? 'open' : 'closed',
    symbol: p.symbol,
    side: p.side,
    qty: p.closedAt === null ? p.qty : 0,
    entry_price: p.entryPrice,
    data: JSON.stringify(p),
    opened_at: p.openedAt,
    closed_at: p.closedAt,
    updated_at: now,
  };
}

/**
 * Forward testing: the backtest's kernel driven one closed candle at a time, with fills made by a venue
 * (the simulated exchange or a real one) and every state change written to the store in one transaction
 * per candle. A run is resumed by name: the portfolio, open positions, trades and the strategy's state
 * come back from the store, and the candles up to the last one processed warm the views and indicators
 * up again without trading.
 */
export class PaperRuntime {
  readonly kernel: Kernel;
  private readonly buffer = new CandleBuffer();
  private readonly orders: PaperOrders;
  private pending: readonly Signal[] | undefined;
  /** Open time of the last candle processed (or warmed), epoch ms. */
  private cursor: number | null;
  private processed: number;
  private seq: number;
  private resumed: boolean;
  private lastEquity: number;
  /**
   * The stored strategy state is an envelope `{ $engine, strategy }` holding the run's resting entries and
   * exit plans beside the strategy's own `saveState()` (from the first time the run had any).
   */
  private enveloped = false;

  private constructor(
    readonly settings: PaperSettings,
    private readonly deps: PaperDeps,
    run: PaperRunRow,
  ) {
    const s = settings;
    // Higher timeframes start empty and grow from the base candles as they close (`goLive` below).
    const higher = new Map(declaredTimeframes(s.strategy, s.timeframe).slice(1).map((tf) => [tf, new CandleBuffer().columns]));
    this.kernel = new Kernel({
      strategy: s.strategy,
      strategyName: s.strategyName,
      symbol: s.symbol,
      base: s.timeframe,
      candles: this.buffer.columns,
      higher,
      initialBalance: s.initialBalance,
      leverage: s.leverage,
      maintenanceMarginRate: s.maintenanceMarginRate,
      costs: s.costs,
      fill: s.fill,
      slTpPolicy: s.slTpPolicy,
      funding: s.funding,
      finer: [],
    });
    for (const v of this.kernel.higherList) v.goLive();
    this.kernel.deferExits = true;
    this.orders = new PaperOrders({ db: deps.db, runId: s.runId, symbol: s.symbol, venue: deps.venue, market: deps.market, clock: deps.clock, onRetry: deps.onRetry });
    this.cursor = run.cursor_ts;
    this.processed = run.candles;
    this.seq = run.seq;
    this.resumed = run.candles > 0;
    this.lastEquity = s.initialBalance;
  }

  /** Opens run `settings.runId`: creates it, or resumes it when it exists with the same strategy, symbol and target. */
  static async open(settings: PaperSettings, deps: PaperDeps): Promise<PaperRuntime> {
    const now = deps.clock.now();
    let run = await paperRun(deps.db, settings.runId);
    if (run) {
      const same = run.strategy_path === settings.strategyPath && run.symbol === settings.symbol && run.target_key === settings.target && run.timeframe === settings.timeframe;
      if (!same) {
        throw new HalyardError('conflict', `run "${settings.runId}" exists with other settings (${run.strategy_path} ${run.symbol} on ${run.target_key}, ${run.timeframe}); choose another --run name`, { run: settings.runId });
      }
      if (run.mode !== settings.mode) {
        throw new HalyardError('conflict', `run "${settings.runId}" is a ${run.mode} run and this one is ${settings.mode}: resume it the way it started, or choose another --run name`, { run: settings.runId });
      }
      if (run.status === 'finished') throw new HalyardError('conflict', `run "${settings.runId}" has finished; choose another --run name`, { run: settings.runId });
    } else {
      run = {
        id: settings.runId,
        strategy: settings.strategyName,
        strategy_path: settings.strategyPath,
        symbol: settings.symbol,
        target_key: settings.target,
        timeframe: settings.timeframe,
        mode: settings.mode,
        config: JSON.stringify({ ...settings.extra, balance: settings.initialBalance, leverage: settings.leverage, costs: settings.costs, fill: settings.fill, slTpPolicy: settings.slTpPolicy, params: settings.strategy.params }),
        status: 'running',
        cursor_ts: null,
        candles: 0,
        seq: 0,
        started_at: now,
        updated_at: now,
        stopped_at: null,
        stop_reason: null,
      };
      const pf = { run_id: settings.runId, initial_balance: settings.initialBalance, balance: settings.initialBalance, fees_paid: 0, funding_net: 0, equity: settings.initialBalance, updated_at: now };
      await createPaperRun(deps.db, run, pf);
    }
    const rt = new PaperRuntime(settings, deps, run);
    const mode = settings.strategy.positionMode;
    if (deps.venue.positionMode() !== mode) await deps.venue.setPositionMode(mode, settings.symbol);
    if (rt.resumed) await rt.restore();
    await setRunStatus(deps.db, settings.runId, 'running', now, null);
    return rt;
  }

  /** Open time of the last candle processed, or null before the first (epoch ms). */
  get lastProcessed(): number | null {
    return this.cursor;
  }

  /** True when the run continues an earlier process's state. */
  get isResumed(): boolean {
    return this.resumed;
  }

  /** Candles processed by this run, across restarts. */
  get candlesProcessed(): number {
    return this.processed;
  }

  /** Equity at the latest close (quote). */
  get equity(): number {
    return this.lastEquity;
  }

  private async restore(): Promise<void> {
    const st = await loadRunState(this.deps.db, this.settings.runId);
    const book = this.kernel.book;
    book.balance = st.portfolio.balance;
    book.feesPaid = st.portfolio.fees_paid;
    book.fundingNet = st.portfolio.funding_net;
    this.lastEquity = st.portfolio.equity;
    const open = st.positions.filter((p) => p.status === 'open').map((p) => JSON.parse(p.data) as Position);
    book.ledger.restore(open, st.positions.length);
    for (const t of st.trades) {
      const rec = JSON.parse(t.data) as TradeRecord;
      this.kernel.exec.trades.push(rec);
      if (rec.exitReason === 'liquidation') this.kernel.exec.liquidations++;
    }
    if (st.stateJson !== null) {
      const state = JSON.parse(st.stateJson) as unknown;
      if (isEnvelope(state)) {
        this.enveloped = true;
        if (state.$engine !== null) this.kernel.restoreEngineState(state.$engine);
        if ('strategy' in state) this.settings.strategy.loadState?.(state.strategy);
      } else this.settings.strategy.loadState?.(state);
    }
    if (this.deps.market !== null) await this.replayVenue(st.orders);
  }

  /** Puts the simulated exchange back: the run's fills again, in order, at their own prices. */
  private async replayVenue(orders: readonly RunOrdersTable[]): Promise<void> {
    const { venue, market } = this.deps;
    if (market === null) return;
    for (const o of orders) {
      if (!(o.filled_qty > 0)) continue;
      const req = {
        clientId: o.client_id,
        symbol: o.symbol,
        side: o.side === 'sell' ? ('sell' as const) : ('buy' as const),
        type: o.type === 'limit' ? ('limit' as const) : ('market' as const),
        qty: o.filled_qty,
        ...(o.limit_price !== null ? { price: o.limit_price } : {}),
        ...(o.position_side ? { positionSide: o.position_side as 'long' | 'short' } : {}),
        ...(o.reduce_only === 1 ? { reduceOnly: true } : {}),
      };
      if (o.maker === 1) {
        if (o.reason === 'entry') await market.setPrice(o.symbol, restingSide(req.side, o.reference));
        await venue.createOrder(req);
        await market.setPrice(o.symbol, o.reference);
      } else {
        await market.setPrice(o.symbol, o.reference);
        await venue.createOrder(req);
      }
    }
  }

  /** Feeds a candle the run already processed (after a restart) or a warm-up candle: views and indicators only. */
  warm(c: RuntimeCandle): void {
    if (this.cursor !== null && c.ts > this.cursor) throw new HalyardError('invalid_input', `warm-up candle ${new Date(c.ts).toISOString()} is after the last processed one`);
    this.append(c);
    for (const v of this.kernel.higherList) v.update(c.ts, c.open, c.high, c.low, c.close, c.volume, c.openInterest, c.cvd);
    this.kernel.resumeFunding(c.ts);
  }

  private append(c: RuntimeCandle): void {
    const b = this.buffer;
    b.push(c.ts, c.open, c.high, c.low, c.close, c.volume, c.openInterest, c.cvd);
    const view = this.kernel.baseView;
    view.rebind(b.columns);
    view.i = b.length - 1;
    for (const ind of view.indicators) ind.push(c.open, c.high, c.low, c.close, c.volume);
  }

  /**
   * Processes one closed candle: funding, pending next-open signals, stop-loss / take-profit, the strategy
   * and its signals, each fill through the venue; then writes everything it changed in one transaction.
   * A candle at or before the last processed one is ignored (a feed may repeat itself after a reconnect).
   */
  async process(c: RuntimeCandle): Promise<void> {
    if (this.cursor !== null && c.ts <= this.cursor) return;
    const k = this.kernel;
    const book = k.book;
    const t = c.ts;
    const first = this.processed === 0;
    const before = new Map<string, PositionMark>();
    for (const p of book.positions) before.set(p.id, markOf(p));
    const tradesBefore = k.exec.trades.length;
    const changed = new Map<string, Position>();
    const orders: RunOrdersTable[] = [];
    const happened: TradeAlert[] = [];
    let n = 0;
    const fill = async (plan: FillPlan, ts: number): Promise<void> => {
      const out = await this.orders.send(plan, t, n++);
      orders.push(out.row);
      if (out.kind === 'rejected') {
        k.exec.rejectExternal(ts, plan.opens ?? plan.position?.side ?? null, out.reason);
        return;
      }
      const fee = out.fee ?? k.exec.feeOf(out.qty, out.price, plan.maker);
      const tradesAt = k.exec.trades.length;
      const changes = k.exec.apply(plan, out.price, fee, out.qty, ts);
      for (const ch of changes) changed.set(ch.position.id, ch.position);
      happened.push(...tradeAlerts(changes, k.exec.trades.slice(tradesAt)));
    };

    this.append(c);
    if (t >= k.nextFunding) k.payFunding(t, c.open, first);
    if (this.pending !== undefined) {
      const sigs = this.pending;
      this.pending = undefined;
      for (const s of sigs) for (const plan of k.exec.plan(s, c.open, t)) await fill(plan, t);
    }
    k.setBar(t, c.open, c.high, c.low, c.close);
    await barSteps(k, fill);
    const out = k.decide(t, c.open, c.high, c.low, c.close, c.volume, c.openInterest, c.cvd);
    if (out !== undefined && out.length > 0) {
      if (this.settings.fill === 'close') {
        for (const s of out) for (const plan of k.exec.plan(s, c.close, t + k.baseMs)) await fill(plan, t + k.baseMs);
      } else this.pending = out;
    }
    this.lastEquity = book.equity(c.close);
    // Positions still open whose levels or marks changed this candle are written too (max adverse excursion).
    for (const p of book.positions) changed.set(p.id, p);
    await this.persist(c, changed, before, tradesBefore, orders, happened);
  }

  private async persist(c: RuntimeCandle, changed: Map<string, Position>, before: Map<string, PositionMark>, tradesBefore: number, orders: RunOrdersTable[], happened: readonly TradeAlert[]): Promise<void> {
    const s = this.settings;
    const now = this.deps.clock.now();
    const book = this.kernel.book;
    const newTrades = this.kernel.exec.trades.slice(tradesBefore);
    const trades: RunTradesTable[] = newTrades.map((tr) => ({ run_id: s.runId, position_id: tr.id, exit_reason: tr.exitReason, pnl: tr.pnl, data: JSON.stringify(tr), closed_at: tr.exitTime }));
    const reasons = new Map(newTrades.map((tr) => [tr.id, tr.exitReason]));
    const events = engineEvents(s, changed, before, reasons, this.seq, now);
    this.seq += events.length;
    const state = this.stateJson();
    const event: RunEvent = {
      run: { id: s.runId, cursor_ts: c.ts, candles: this.processed + 1, seq: this.seq, status: 'running', updated_at: now },
      portfolio: { run_id: s.runId, initial_balance: s.initialBalance, balance: book.balance, fees_paid: book.feesPaid, funding_net: book.fundingNet, equity: this.lastEquity, updated_at: now },
      strategyState: state,
      positions: [...changed.values()].map((p) => positionRow(s.runId, p, now)),
      trades,
      orders,
      outbox: s.publishEvents ? events : [],
    };
    const alerts = this.deps.alerts;
    const stream = runStream(s.runId);
    const rows: NewAlert[] = alerts && alerts.channels.length > 0 ? happened.map((a) => ({ stream, kind: a.kind, text: a.kind === 'trade_opened' ? alerts.opened(a.position) : alerts.closed(a.trade) })) : [];
    if (rows.length === 0) await saveRunEvent(this.deps.db, event);
    else {
      // The alerts commit with the candle they announce: none is lost by a crash, none announces a candle that rolled back.
      await this.deps.db.transaction().execute(async (trx) => {
        await saveRunEventIn(trx, event);
        await enqueueAlerts(trx, rows, alerts?.channels ?? [], now);
      });
    }
    this.cursor = c.ts;
    this.processed++;
    if (rows.length > 0) alerts?.written?.();
  }

  /** The strategy state to store: its `saveState()`, in an envelope with the engine's state once the run has any. */
  private stateJson(): string | null {
    const strategy = this.settings.strategy;
    const engine = this.kernel.engineState();
    if (engine !== null) this.enveloped = true;
    if (!this.enveloped) return strategy.saveState ? JSON.stringify(strategy.saveState() ?? null) : null;
    const envelope: StateEnvelope = { $engine: engine, ...(strategy.saveState ? { strategy: strategy.saveState() ?? null } : {}) };
    return JSON.stringify(envelope);
  }

  /** Marks the run stopped (or finished / failed) with a reason; the state itself is already stored. */
  async stop(status: 'stopped' | 'finished' | 'failed', reason: string): Promise<void> {
    await setRunStatus(this.deps.db, this.settings.runId, status, this.deps.clock.now(), reason);
  }
}

function markOf(p: Position): PositionMark {
  return { qty: p.qty, entryPrice: p.entryPrice, stopLoss: p.stopLoss, takeProfit: p.takeProfit, entries: p.entries.length };
}
