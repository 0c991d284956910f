import { Strategy, cancel, openLong, openShort, type CandleView, type Indicator, type Signal, type SignalOutput, type StrategyContext } from '../src/strategy/index.ts';

/**
 * Parameters: the channel (closed 1h candles), ATR period (1h), risk per trade (% of equity), the stop
 * and the first take-profit in ATRs, the share closed there, and the trailing stop's distance in ATRs.
 */
const defaults = { channel: 24, atr: 14, risk: 0.5, stopAtr: 2, tpAtr: 2, tpShare: 0.5, trailAtr: 2 };

/**
 * Channel breakout on 1m + 1h, showing what strategies can say. Each hour, while flat, it rests a buy
 * stop at the high and a sell stop at the low of the last `channel` closed 1h candles; both expire after
 * an hour and the one left over is canceled once the other fills. Each entry is sized so its stop-loss
 * (`stopAtr` ATRs away) loses `risk` % of equity, takes `tpShare` of the position off at `tpAtr` ATRs,
 * and trails the rest `trailAtr` ATRs behind the best price once the first target is reached. The
 * channel is drawn on the report's price chart, and a day of candles warms it up before the start.
 */
export default class BreakoutTrail extends Strategy<typeof defaults> {
  static override readonly defaults = defaults;
  override readonly timeframes = ['1m', '1h'] as const;
  /** The channel and the ATR need `channel` + `atr` hours of 1m candles before the first trade. */
  override readonly warmup = (this.params.channel + this.params.atr + 1) * 60;
  private atr!: Indicator;
  private hour = Number.NaN;
  private upper = Number.NaN;
  private lower = Number.NaN;

  override onInit(ctx: StrategyContext): void {
    this.atr = ctx.indicators.atr(this.params.atr, { timeframe: '1h' });
    ctx.plot('EMA 60 (hlc3)', ctx.indicators.ema(60, { source: 'hlc3' }), { color: '#64748b' });
  }

  onCandle(ctx: StrategyContext): SignalOutput {
    const h = ctx.candles('1h');
    if (h.ts() !== this.hour) this.newHour(h);
    if (Number.isNaN(this.upper) || !this.atr.ready) return;
    ctx.plot('channel high', this.upper, { color: '#22c55e' });
    ctx.plot('channel low', this.lower, { color: '#ef4444' });
    const resting = ctx.orders().length;
    if (ctx.position()) return resting > 0 ? cancel() : undefined;
    if (resting > 0) return;
    const price = ctx.candles().close();
    if (price >= this.upper || price <= this.lower) return; // outside the channel: wait for the next hour
    return [...this.entry(ctx, 'long'), ...this.entry(ctx, 'short')];
  }

  /** The highest high and lowest low of the last `channel` closed 1h candles. */
  private newHour(h: CandleView): void {
    this.hour = h.ts();
    let hi = Number.NEGATIVE_INFINITY;
    let lo = Number.POSITIVE_INFINITY;
    for (let k = 1; k <= this.params.channel; k++) {
      hi = Math.max(hi, h.high(k));
      lo = Math.min(lo, h.low(k));
    }
    this.upper = hi; // NaN until `channel` 1h candles have closed
    this.lower = lo;
  }

  /** A stop entry at the channel edge on `side`, sized by risk, with its ladder and trailing stop. */
  private entry(ctx: StrategyContext, side: 'long' | 'short'): Signal[] {
    const p = this.params;
    const a = this.atr.value;
    const dir = side === 'long' ? 1 : -1;
    const level = side === 'long' ? this.upper : this.lower;
    const stopLoss = level - dir * p.stopAtr * a;
    // Risk-sized, but never more than 90 % of what the margin allows.
    const cap = (ctx.portfolio.available * ctx.portfolio.leverage * 0.9) / level;
    const qty = Math.min(ctx.sizeByRisk({ riskPercent: p.risk, entry: level, stopLoss }), cap);
    if (!(qty > 0)) return [];
    const target = level + dir * p.tpAtr * a;
    const o = {
      qty,
      stop: level,
      expiresIn: '1h',
      label: `breakout-${side}`,
      stopLoss,
      takeProfit: [{ price: target, fraction: p.tpShare }],
      trailingStop: { distance: p.trailAtr * a, activation: target },
    };
    return [side === 'long' ? openLong(o) : openShort(o)];
  }
}
