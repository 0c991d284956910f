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
