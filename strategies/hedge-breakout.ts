import { Strategy, close, openLong, openShort, type Indicator, type SignalOutput, type StrategyContext } from '../src/strategy/index.ts';

const defaults = { trend: 50, htfTrend: 20, percent: 5, sl: 0.02, tp: 0.03, hedgeSl: 0.006, hedgeTp: 0.004 };

/**
 * Hedge-mode example on 1m + 4h. The long leg follows the 4h trend: it opens when the 1m close crosses
 * above its EMA while the last closed 4h candle is above the 4h EMA, and closes when that trend turns.
 * The short leg is a hedge against pullbacks: it opens on a 1m cross below the EMA, whatever the long leg
 * holds, with a tight stop-loss and take-profit. Both legs can be open at once.
 */
export default class HedgeBreakout extends Strategy<typeof defaults> {
  static override readonly defaults = defaults;
  override readonly timeframes = ['1m', '4h'] as const;
  override readonly positionMode = 'hedge' as const;
  private ema!: Indicator;
  private htf!: Indicator;

  override onInit(ctx: StrategyContext): void {
    this.ema = ctx.indicators.ema(this.params.trend);
    this.htf = ctx.indicators.ema(this.params.htfTrend, { timeframe: '4h' });
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    if (!this.ema.ready || Number.isNaN(this.ema.previous) || !this.htf.ready) return;
    const p = this.params;
    const m1 = ctx.candles('1m');
    const price = m1.close();
    const up = ctx.candles('4h').close(1) > this.htf.value;
    const crossedUp = m1.close(1) <= this.ema.previous && price > this.ema.value;
    const crossedDown = m1.close(1) >= this.ema.previous && price < this.ema.value;
    const long = ctx.position('long');
    if (long && !up) return close({ positionSide: 'long' });
    if (!long && up && crossedUp) {
      return openLong({ percent: p.percent, stopLoss: price * (1 - p.sl), takeProfit: price * (1 + p.tp), positionSide: 'long' });
    }
    if (!ctx.position('short') && crossedDown) {
      return openShort({ percent: p.percent, stopLoss: price * (1 + p.hedgeSl), takeProfit: price * (1 - p.hedgeTp), positionSide: 'short' });
    }
  }
}
