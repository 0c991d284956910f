import type { CandleColumns } from '../core/candles.ts';
import type { Signal } from '../core/signals.ts';
import type { Strategy } from '../strategy/strategy.ts';
import { asSignals, strategyError, type Kernel } from './kernel.ts';
import type { PlotRecorder } from './plots.ts';
import type { FillModel } from './result.ts';

/**
 * Candles per call of `walk`. The loop runs as a small function called once per chunk rather than as one
 * long loop inside `runBacktest`: V8 compiles a small function in a fraction of the time, so the first
 * run in a fresh process leaves the interpreter sooner, and it optimizes it as a whole (with the strategy
 * inlined) instead of on-stack-replacing a large function. Divides 65,536 (the progress period).
 */
export const CHUNK = 4096;

/** What the backtest loop carries from one chunk to the next (one object per run, fixed shape). */
export class LoopState {
  /** Signals waiting for the next open (`--fill next-open`). */
  pending: readonly Signal[] | undefined = undefined;
  /** Bars that ended with a position open. */
  exposed = 0;
  /** Indicators declared for plotting, read after each candle (null: none). */
  plots: PlotRecorder | null = null;

  constructor(
    readonly kernel: Kernel,
    readonly strategy: Strategy,
    readonly name: string,
    readonly fill: FillModel,
    readonly candles: CandleColumns,
    readonly equity: Float64Array,
  ) {}
}

/**
 * Walks base candles `from` (inclusive) to `to` (exclusive). Per candle: funding; pending next-open
 * signals fill at the open; stop-loss / take-profit / liquidation, then resting entries and trailing
 * stops; the higher timeframes update; the strategy is called (`Kernel.decide` written out, so V8 can
 * inline the strategy here; the paper runtime calls `decide`); its signals fill at the close or wait for
 * the next open; equity is marked at the close.
 */
export function walk(s: LoopState, from: number, to: number): void {
  const kernel = s.kernel;
  const exec = kernel.exec;
  const book = kernel.book;
  const positions = book.ledger.open;
  const resting = kernel.resting;
  const plots = s.plots;
  const baseView = kernel.baseView;
  const higherList = kernel.higherList;
  const ctx = kernel.ctx;
  const baseMs = kernel.baseMs;
  const strategy = s.strategy;
  const close = s.fill === 'close';
  const equity = s.equity;
  // Columns in locals: V8 must reload object properties after every call it cannot see through.
  const c = s.candles;
  const cTs = c.ts;
  const cOpen = c.open;
  const cClose = c.close;
  let pending = s.pending;
  let exposed = s.exposed;
  for (let i = from; i < to; i++) {
    const t = cTs[i] as number;
    const cl = cClose[i] as number;

    // Rare calls re-read their prices from the columns: V8 hoists the boxing of a call's number
    // arguments out of the branch, an allocation per candle for a call made once per 480.
    if (t >= kernel.nextFunding) kernel.payFunding(cTs[i] as number, cOpen[i] as number, i === 0);
    if (pending !== undefined) {
      for (let k = 0; k < pending.length; k++) exec.execute(pending[k] as Signal, cOpen[i] as number, cTs[i] as number);
      pending = undefined;
    }
    let unrealized = 0;
    if (positions.length > 0 || resting.length > 0) {
      kernel.levelsAt(i);
      unrealized = kernel.unrealized;
    }
    baseView.i = i; // base indicators were precomputed: moving the cursor is their update
    for (let k = 0; k < higherList.length; k++) higherList[k]!.updateAt(c, i);
    ctx.time = t + baseMs;
    ctx.markPrice = cl;
    let out: readonly Signal[] | undefined;
    try {
      out = asSignals(strategy.onCandle(ctx));
    } catch (e) {
      throw strategyError(e, s.name, t);
    }
    if (plots !== null) plots.record(i);
    if (out !== undefined && out.length > 0) {
      if (close) {
        for (let k = 0; k < out.length; k++) exec.execute(out[k] as Signal, cClose[i] as number, (cTs[i] as number) + baseMs);
        unrealized = book.unrealized(cClose[i] as number);
      } else pending = out;
    }
    equity[i] = book.balance + unrealized;
    if (positions.length > 0) exposed++;
  }
  s.pending = pending;
  s.exposed = exposed;
}
