import type { EngineState } from '../kernel.ts';

/**
 * The stored strategy state of a run that has had resting entries or exit plans: the engine's state
 * (`$engine`, null once nothing is left) beside the strategy's own `saveState()` (`strategy`, present
 * when the strategy has one). Runs that never had either store the strategy's state as it is.
 */
export interface StateEnvelope {
  readonly $engine: EngineState | null;
  readonly strategy?: unknown;
}

/** Whether a stored state is an envelope. */
export function isEnvelope(v: unknown): v is StateEnvelope {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && '$engine' in v;
}

/**
 * A price just on the side a resting limit waits from (above a buy, below a sell, by a billionth), so the
 * simulated exchange rests the order before the market reaches its price and books a maker fill.
 */
export function restingSide(side: 'buy' | 'sell', price: number): number {
  return side === 'buy' ? price * (1 + 1e-9) : price * (1 - 1e-9);
}
