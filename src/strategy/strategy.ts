import { HalyardError } from '../core/errors.ts';
import type { Signal } from '../core/signals.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { PositionMode } from '../core/types.ts';
import type { StrategyContext } from './context.ts';

/** A parameter value: number, string or boolean. */
export type ParamValue = number | string | boolean;

/** A strategy's parameters with their defaults. */
export type Params = Readonly<Record<string, ParamValue>>;

/** What `onCandle` may return: nothing, one signal, or several. */
export type SignalOutput = Signal | readonly Signal[] | undefined | void;

/**
 * Base class of every strategy. Declare `static defaults` (the parameters with their default values and
 * types), `timeframes` (base first), optionally `positionMode`, then write `onCandle`. The same class runs
 * in backtests, paper and live trading.
 */
export abstract class Strategy<P extends Params = Params> {
  /** Parameter defaults; also the schema: each `--param name=value` is coerced to the default's type. */
  static readonly defaults: Params = {};
  /** Timeframes the strategy reads; the first is the base the loop walks. */
  readonly timeframes: readonly Timeframe[] = ['1m'];
  /** One-way (netting) or hedge (a long and a short leg per symbol). */
  readonly positionMode: PositionMode = 'oneway';
  /**
   * Base candles before the start (`--from`, or the replay's start) that feed indicators and views
   * without trading, so indicators are ready when trading starts (`--warmup` overrides it).
   */
  readonly warmup: number = 0;
  /** Parameters after merging overrides into the defaults. */
  readonly params: P;

  constructor(params: Partial<P> = {}) {
    const defaults = (this.constructor as typeof Strategy).defaults as P;
    this.params = Object.freeze({ ...defaults, ...params }) as P;
  }

  /** The strategy's name in results and logs (its class name by default). */
  get name(): string {
    return this.constructor.name;
  }

  /** Called once before the first candle: create indicators here. */
  onInit?(ctx: StrategyContext): void;

  /** Called on each closed base candle; returns signals to execute. */
  abstract onCandle(ctx: StrategyContext): SignalOutput;

  /** State to persist between restarts in live trading (plain JSON). */
  saveState?(): unknown;

  /** Restores what `saveState` returned. */
  loadState?(state: unknown): void;
}

/** A strategy's warm-up (base candles): its `warmup` field, or a `static warmup` of its class, whichever is larger. */
export function warmupOf(strategy: Strategy): number {
  const fromClass = (strategy.constructor as { readonly warmup?: unknown }).warmup;
  const w = Math.max(strategy.warmup, typeof fromClass === 'number' ? fromClass : 0);
  if (!(w >= 0) || !Number.isInteger(w)) throw new HalyardError('invalid_input', `the strategy's warmup must be a whole number of candles >= 0, got ${w}`);
  return w;
}

/** A strategy class as loaded from a file. */
export interface StrategyClass {
  new (params?: Partial<Params>): Strategy;
  readonly defaults: Params;
  readonly name: string;
}

/**
 * Coerces `name=value` overrides to the types of the strategy's defaults; unknown names and values of the
 * wrong type are refused with a message that lists the known parameters.
 */
export function parseParams(defaults: Params, overrides: readonly string[]): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  const known = Object.keys(defaults);
  for (const raw of overrides) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new HalyardError('invalid_input', `--param expects name=value, got "${raw}"`);
    const name = raw.slice(0, eq).trim();
    const value = raw.slice(eq + 1).trim();
    if (!(name in defaults)) {
      throw new HalyardError('invalid_input', `unknown parameter "${name}"; this strategy takes: ${known.join(', ') || '(none)'}`, { param: name });
    }
    const def = defaults[name];
    if (typeof def === 'number') {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n)) throw new HalyardError('invalid_input', `parameter "${name}" must be a number, got "${value}"`, { param: name });
      out[name] = n;
    } else if (typeof def === 'boolean') {
      if (!['true', 'false', '1', '0', 'yes', 'no'].includes(value.toLowerCase())) {
        throw new HalyardError('invalid_input', `parameter "${name}" must be true or false, got "${value}"`, { param: name });
      }
      out[name] = ['true', '1', 'yes'].includes(value.toLowerCase());
    } else {
      out[name] = value;
    }
  }
  return out;
}
