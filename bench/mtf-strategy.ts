import { Strategy, openLong, openShort, type Indicator, type SignalOutput, type StrategyContext } from '../src/strategy/index.ts';

/** The bench's multi-timeframe variant: the SMA(50/200) cross on 1m, taken only in the 4h trend's direction. */
export class MtfSmaCross extends Strategy {
  override readonly timeframes = ['1m', '4h'] as const;
  private fast!: Indicator;
  private slow!: Indicator;
  private trend!: Indicator;

  override onInit(ctx: StrategyContext): void {
    this.fast = ctx.indicators.sma(50);
    this.slow = ctx.indicators.sma(200);
    this.trend = ctx.indicators.sma(20, { timeframe: '4h' });
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    if (!this.slow.ready || !this.trend.ready) return;
    const price = ctx.candles().close();
    const up = ctx.candles('4h').close() > this.trend.value;
    if (up && this.fast.crossedAbove(this.slow)) return openLong({ qty: 1, stopLoss: price * 0.99, takeProfit: price * 1.02 });
    if (!up && this.fast.crossedBelow(this.slow)) return openShort({ qty: 1, stopLoss: price * 1.01, takeProfit: price * 0.98 });
  }
}
