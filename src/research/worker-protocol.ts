import type { Summary } from '../core/results.ts';
import type { RunSettings } from './run-combination.ts';
import type { SharedMarket } from './shared-columns.ts';
import type { Combination } from './space.ts';

/** What a sweep worker starts with (its workerData). */
export interface WorkerInit {
  /** The strategy file as the user named it (the worker shares the process's working directory). */
  readonly strategyFile: string;
  readonly market: SharedMarket;
  readonly settings: RunSettings;
}

/** Base candles [from, to) a batch runs on (a walk-forward window), or null for all of them. */
export type CandleRange = readonly [number, number] | null;

/** One combination to run: its index in the space and its parameter values. */
export interface WorkItem {
  readonly index: number;
  readonly params: Combination;
}

/** Main thread → worker: run a batch. */
export interface RunRequest {
  readonly kind: 'run';
  readonly batch: number;
  readonly range: CandleRange;
  readonly items: readonly WorkItem[];
}

/** Worker → main thread. */
export type WorkerReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'done'; readonly batch: number; readonly results: readonly { readonly index: number; readonly summary: Summary; readonly daily: Float64Array }[] }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };
