import type { PositionMode } from '../core/types.ts';
import type { Timeframe } from '../core/timeframe.ts';
import type { StrategyContext } from '../strategy/context.ts';
import { Strategy, type SignalOutput } from '../strategy/strategy.ts';

/**
 * A strategy that sees every candle but may trade only after `openAt` (epoch ms, a candle close time
 * above it): a walk-forward test run starts early so the strategy's indicators are warm when its window
 * opens, and its signals before then are dropped. Name, parameters, timeframes and mode are the inner one's.
 */
export class GatedStrategy extends Strategy {
  override readonly timeframes: readonly Timeframe[];
  override readonly positionMode: PositionMode;

  constructor(
    private readonly inner: Strategy,
    private readonly openAt: number,
  ) {
    super();
    this.timeframes = inner.timeframes;
    this.positionMode = inner.positionMode;
    Object.defineProperty(this, 'params', { value: inner.params });
  }

  override get name(): string {
    return this.inner.name;
  }

  override onInit(ctx: StrategyContext): void {
    this.inner.onInit?.(ctx);
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    const out = this.inner.onCandle(ctx);
    return ctx.time > this.openAt ? out : undefined;
  }
}
