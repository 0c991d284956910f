import { HalyardError, errorMessage, isHalyardError } from '../core/errors.ts';
import type { Signal } from '../core/signals.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';
import type { Strategy } from '../strategy/strategy.ts';

/** The timeframes a strategy runs on with `base` data, checked. */
export function declaredTimeframes(strategy: Strategy, base: Timeframe): readonly Timeframe[] {
  // A single-timeframe strategy runs on whatever base it is given (`--timeframe`); a multi-timeframe one
  // must get the base it declared first.
  const declared: readonly Timeframe[] = strategy.timeframes.length <= 1 ? [base] : strategy.timeframes;
  if (declared[0] !== base) {
    throw new HalyardError('invalid_input', `the strategy's base timeframe is ${declared[0]} (first of ${declared.join(', ')}), the data is ${base}`, { strategy: declared[0], data: base });
  }
  const baseMs = TIMEFRAME_MS[base];
  for (const tf of declared) {
    if (TIMEFRAME_MS[tf] % baseMs !== 0) throw new HalyardError('invalid_input', `timeframe ${tf} is not a multiple of the base ${base}`);
  }
  return declared;
}

/**
 * What a strategy threw, as a `strategy_error` naming the strategy and the candle (its open time, ISO;
 * null: in onInit), the original error as cause (its stack points into the strategy file).
 */
export function strategyError(e: unknown, strategy: string, candleTime: number | null): HalyardError {
  if (isHalyardError(e, 'strategy_error')) return e;
  const iso = candleTime === null ? null : new Date(candleTime).toISOString();
  const at = iso === null ? 'in onInit' : `at the candle of ${iso}`;
  return new HalyardError('strategy_error', `strategy ${strategy} threw ${at}: ${errorMessage(e)}`, { strategy, candleTime: iso }, e);
}

/** A strategy's answer as a list of signals (undefined when it gave none). */
export function asSignals(out: unknown): readonly Signal[] | undefined {
  if (out === undefined || out === null) return undefined;
  return Array.isArray(out) ? (out as Signal[]) : [out as Signal];
}
