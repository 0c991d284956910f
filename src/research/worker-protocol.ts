import type { Summary } from '../core/results.ts';
import type { BacktestResult } from '../engine/result.ts';
import type { RunSettings } from './run-combination.ts';
import type { SharedMarket } from './shared-columns.ts';
import type { Combination } from './space.ts';

/** What a sweep worker starts with (its workerData): it loads the strategy while the main thread loads candles. */
export interface WorkerStart {
  /** The strategy file as the user named it (the worker shares the process's working directory). */
  readonly strategyFile: string;
}

/**
 * Which shared base candles a run reads: [start, end) by index, and the open time (epoch ms) of its first
 * trading candle, the ones before it only warming up indicators (none: it trades from `start`).
 */
export interface RunSpan {
  readonly start: number;
  readonly end: number;
  readonly tradeFrom?: number;
}

/** One combination to run: its index in the space, its parameter values and its candles. */
export interface WorkItem {
  readonly index: number;
  readonly params: Combination;
  readonly span: RunSpan;
}

/** A full run as a worker sends it back: everything of a BacktestResult but the candles (the main thread has them). */
export type FullRun = Omit<BacktestResult, 'candles' | 'timings'>;

/** Main thread → worker. */
export type WorkerRequest =
  | { readonly kind: 'init'; readonly market: SharedMarket; readonly settings: RunSettings }
  | { readonly kind: 'run'; readonly items: readonly WorkItem[] }
  | { readonly kind: 'full'; readonly span: RunSpan; readonly params: Combination; readonly initialBalance?: number };

/** Worker → main thread. */
export type WorkerReply =
  | { readonly kind: 'loaded' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly results: readonly { readonly index: number; readonly summary: Summary; readonly daily: Float64Array }[] }
  | { readonly kind: 'full'; readonly run: FullRun }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };
