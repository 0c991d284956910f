import type { Kysely } from 'kysely';
import { errorMessage } from '../core/errors.ts';
import type { Position } from '../core/ledger.ts';
import type { Clock } from '../core/ports.ts';
import type { TradeRecord } from '../core/results.ts';
import { enqueueAlerts, runStream } from '../store/alert-outbox.ts';
import type { Database } from '../store/schema.ts';
import type { AlertSender } from './alert-sender.ts';
import { alertText, type AlertKind, type AlertLog, type RunSummary, type StrategyDetails } from './alerts.ts';

/** What a run's alerts need. */
export interface RunAlertsOptions {
  readonly db: Kysely<Database>;
  /** Delivers the rows; its channels are the ones rows are written for. */
  readonly sender: AlertSender;
  readonly runId: string;
  /** Strategy name shown in every alert. */
  readonly strategy: string;
  /** Target key `exchange:env`. */
  readonly target: string;
  /** Epoch ms of each row. */
  readonly clock: Clock;
  readonly logger?: AlertLog;
}

/** The paper runtime's alert hooks (the shape of its `RuntimeAlerts`). */
export interface RunTradeAlerts {
  readonly channels: readonly string[];
  opened(p: Position): string;
  closed(t: TradeRecord): string;
  written(): void;
}

/**
 * The alerts of one paper run, written to the store as the ordered stream `run:<run id>` and delivered by
 * the sender in that order: the start before anything else, the trades as the candles' transactions wrote
 * them, the stop last. Writes outside a candle (start, stop, a critical error) are chained, so they keep
 * the order they were asked in; a store error is logged, never thrown (alerts do not stop trading).
 */
export class RunAlerts {
  /** The stream every row of this run is written to. */
  readonly stream: string;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RunAlertsOptions) {
    this.stream = runStream(opts.runId);
  }

  /** Hooks for the paper runtime: texts of opened and closed trades, written in each candle's transaction. */
  get trades(): RunTradeAlerts {
    const { strategy, target, sender } = this.opts;
    return {
      channels: sender.channelNames,
      opened: (p) => alertText.tradeOpened({ strategy, symbol: p.symbol, side: p.side, qty: p.qty, entry: p.entryPrice, stopLoss: p.stopLoss, takeProfit: p.takeProfit, target }),
      closed: (t) => alertText.tradeClosed({ strategy, symbol: t.symbol, side: t.side, qty: t.qty, entry: t.entryPrice, exit: t.exitPrice, pnl: t.pnl, pnlPercent: t.pnlPercent, exitReason: t.exitReason, target }),
      written: () => sender.wake(),
    };
  }

  /** Writes "🚀 … is now active" (await it before the first candle, so it goes first). */
  started(details: StrategyDetails = {}): Promise<void> {
    return this.write('strategy_started', alertText.strategyStarted(this.opts.strategy, details));
  }

  /** Writes "🛑 … stopped (reason)" with the run's figures (the last alert of a run). */
  stopped(reason: string, summary: RunSummary = {}): Promise<void> {
    return this.write('strategy_stopped', alertText.strategyStopped(this.opts.strategy, reason, summary));
  }

  /** Writes "🚨 CRITICAL" with the error's code and message. */
  critical(error: unknown): Promise<void> {
    return this.write('critical_error', alertText.criticalError(this.opts.strategy, error));
  }

  /**
   * Waits until every alert written is delivered or dead (true), or `timeoutMs` has passed (false: the rest
   * stays in the store and the next start of the run sends it first).
   */
  async flush(timeoutMs: number): Promise<boolean> {
    await this.tail;
    return this.opts.sender.flush(this.stream, timeoutMs);
  }

  private write(kind: AlertKind, text: string): Promise<void> {
    const { db, sender, clock, logger } = this.opts;
    this.tail = this.tail.then(async () => {
      try {
        await enqueueAlerts(db, [{ stream: this.stream, kind, text }], sender.channelNames, clock.now());
        sender.wake();
      } catch (e) {
        logger?.warn({ stream: this.stream, kind, err: errorMessage(e) }, 'alert not written');
      }
    });
    return this.tail;
  }
}
