import type { RejectionRecord, Summary, TradeRecord } from '../core/results.ts';
import type { BacktestConfig } from '../engine/result.ts';
import type { RunOverrides, RunSettings } from './run-combination.ts';
import type { SharedMarket } from './shared-columns.ts';
import type { Combination } from './space.ts';

/** What a sweep worker starts with (its workerData): it loads the strategy while the main thread loads candles. */
export interface WorkerStart {
  /** The strategy file as the user named it (the worker shares the process's working directory). */
  readonly strategyFile: string;
}

/** Base candles [from, to) a batch runs on (a walk-forward window), or null for all of them. */
export type CandleRange = readonly [number, number] | null;

/** One combination to run: its index in the space and its parameter values. */
export interface WorkItem {
  readonly index: number;
  readonly params: Combination;
}

/** A full run as a worker sends it back: everything of a BacktestResult but the candles (the main thread has them). */
export interface FullRun {
  readonly config: BacktestConfig;
  readonly summary: Summary;
  readonly trades: readonly TradeRecord[];
  readonly rejections: readonly RejectionRecord[];
  readonly equity: Float64Array;
  readonly forcedCloses: number;
}

/** Main thread → worker. */
export type WorkerRequest =
  | { readonly kind: 'init'; readonly market: SharedMarket; readonly settings: RunSettings }
  | { readonly kind: 'run'; readonly range: CandleRange; readonly items: readonly WorkItem[] }
  | { readonly kind: 'full'; readonly range: CandleRange; readonly params: Combination; readonly over: RunOverrides };

/** Worker → main thread. */
export type WorkerReply =
  | { readonly kind: 'loaded' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly results: readonly { readonly index: number; readonly summary: Summary; readonly daily: Float64Array }[] }
  | { readonly kind: 'full'; readonly run: FullRun }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };
