import { Strategy, close, openLong, openShort, type Indicator, type SignalOutput, type StrategyContext } from '../src/strategy/index.ts';

/** Parameters: SMA periods (candles), size as % of equity or a fixed qty, SL/TP as fractions of the entry. */
const defaults = { fast: 50, slow: 200, percent: 10, qty: 0, sl: 0.01, tp: 0.02, short: true };

/**
 * SMA crossover: long when the fast SMA crosses above the slow one, short (or flat with short=false) when
 * it crosses below; each entry carries a stop-loss and a take-profit at fixed distances from the close.
 */
export default class SmaCross extends Strategy<typeof defaults> {
  static override readonly defaults = defaults;
  override readonly timeframes = ['1m'] as const;
  private fast!: Indicator;
  private slow!: Indicator;

  override onInit(ctx: StrategyContext): void {
    this.fast = ctx.indicators.sma(this.params.fast);
    this.slow = ctx.indicators.sma(this.params.slow);
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    const { fast, slow } = this;
    if (!slow.ready) return; // crossings need a previous value too: a comparison with NaN is false
    const p = this.params;
    if (fast.crossedAbove(slow)) {
      const price = ctx.candles().close();
      return openLong({ ...this.size(), stopLoss: price * (1 - p.sl), takeProfit: price * (1 + p.tp) });
    }
    if (fast.crossedBelow(slow)) {
      const price = ctx.candles().close();
      if (p.short) return openShort({ ...this.size(), stopLoss: price * (1 + p.sl), takeProfit: price * (1 - p.tp) });
      if (ctx.position('long')) return close();
    }
  }

  /** A fixed quantity when `qty` > 0, else `percent` of equity. */
  private size(): { qty: number } | { percent: number } {
    return this.params.qty > 0 ? { qty: this.params.qty } : { percent: this.params.percent };
  }
}
