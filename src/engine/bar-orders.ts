import type { Position } from '../core/ledger.ts';
import { roundPrice } from '../core/round.ts';
import { newEntryResolution, resolveEntry, type FinerSeries } from '../core/sltp.ts';
import type { FillPlan } from './execution.ts';
import type { Kernel } from './kernel.ts';
import { fillsBelow, type RestingOrder } from './resting.ts';

/** What a level check did to a position: nothing, closed it (or planned to), or reduced it (check it again). */
export const Checked = { None: 0, Gone: 1, Reduced: 2 } as const;

/**
 * What happens on a bar after the exits of the positions that were open: resting entries that the bar
 * reaches fill (in the order they were placed), each new position's exits are checked on what is left of
 * the bar, then trailing stops ratchet and candle-counted orders count down. The backtest runs it all at
 * once (`restOfBar`); the paper runtime runs the same steps (`begin`, `next`, `applied`, `end`) with its
 * venue's fills between them.
 *
 * Inside the bar of a fill nothing is assumed that the candle does not prove: a limit that fills as the
 * price falls to it has seen the low after the fill, so its stop-loss is hit if the low reaches it; a stop
 * entry's stop-loss is taken as hit too when the low reaches it (the low may have come first: the
 * conservative reading, counted as ambiguous); no take-profit is taken on the fill bar, except after a
 * gap at the open, when the whole bar came after the fill. With finer cached candles, the finer candle of
 * the fill is found and the ones after it are checked in full.
 */
export class BarOrders {
  /** Time of the latest fill `next` planned (epoch ms): the bar's open, or the finer candle's. */
  fillTs = Number.NaN;
  private cursor = 0;
  private current: RestingOrder | null = null;
  private readonly res = newEntryResolution();
  private readonly lvl = { below: false, price: Number.NaN };

  constructor(
    private readonly k: Kernel,
    private readonly symbol: string,
    private readonly tick: number,
  ) {}

  /** The backtest: the whole rest of the bar, fills applied at once, then the unrealized PnL at the close again. */
  restOfBar(): void {
    const exec = this.k.exec;
    this.begin();
    for (let plans = this.next(); plans !== null; plans = this.next()) {
      for (const plan of plans) exec.apply(plan, plan.price, exec.feeOf(plan.qty, plan.price, plan.maker), plan.qty, this.fillTs);
      this.applied();
    }
    this.end();
    const bar = this.k.bar;
    bar[5] = this.k.book.unrealized(bar[4] as number);
  }

  /** Starts the resting entries of the kernel's bar. */
  begin(): void {
    this.cursor = 0;
    this.current = null;
  }

  /**
   * The fills of the next resting entry the bar reaches (null: none left). Orders past their expiry time
   * expire on the way; an entry the executor refuses (margin, levels) is canceled with its reason.
   */
  next(): FillPlan[] | null {
    const k = this.k;
    const resting = k.exec.resting;
    const open = resting.open;
    const bar = k.bar;
    const t = bar[0] as number;
    const res = this.res;
    const lvl = this.lvl;
    this.current = null;
    while (this.cursor < open.length) {
      const o = open[this.cursor] as RestingOrder;
      // An order lives through a candle only if it has not expired by the candle's end: a fill at an
      // unknown moment of a candle it did not outlive could come after its expiry.
      if (o.expiresAt !== null && t + k.baseMs > o.expiresAt) {
        resting.end(this.cursor, 'expire', o.expiresAt, null, null);
        continue;
      }
      lvl.below = fillsBelow(o);
      lvl.price = o.price;
      resolveEntry(lvl, bar[1] as number, bar[2] as number, bar[3] as number, t, k.baseMs, k.finer, res);
      if (!res.filled) {
        this.cursor++;
        continue;
      }
      const limit = o.type === 'limit';
      const price = res.gap ? roundPrice(res.price, this.tick) : res.price;
      const ts = res.level >= 0 ? ((k.finer[res.level] as FinerSeries).candles.ts[res.index] as number) : t;
      const rejected = k.exec.rejections.length;
      // A limit fills at its price (or the better open) as a maker; a stop is a market order when triggered.
      const plans = k.exec.planOpen(o.signal, price, ts, limit, !limit);
      if (plans.length === 0) {
        resting.end(this.cursor, 'cancel', ts, null, `refused when the market reached it: ${k.exec.rejections[rejected]?.detail ?? 'no fill'}`);
        continue;
      }
      resting.end(this.cursor, 'fill', ts, price, null);
      this.current = o;
      this.fillTs = ts;
      return plans;
    }
    return null;
  }

  /**
   * After `next`'s fills were applied: the exits of the position they opened on what is left of the bar.
   * With deferred exits (paper), `k.again` asks for another call once the planned exits are applied.
   */
  applied(): void {
    const o = this.current;
    if (o === null) return;
    const k = this.k;
    const p = k.book.ledger.find(this.symbol, o.positionSide ?? undefined);
    if (p === undefined || p.side !== o.side) return;
    const res = this.res;
    const bar = k.bar;
    const long = p.side === 'long';
    const t = bar[0] as number;
    const trail = o.signal.trailing !== null ? k.exec.exits.get(p)?.trail : undefined;
    if (res.level < 0) {
      if (res.gap) this.whole(p, t, bar[1] as number, bar[2] as number, bar[3] as number, bar[4] as number, k.baseMs, k.finer);
      else {
        this.stopAfterFill(p, t, bar[2] as number, bar[3] as number, o.type === 'stop');
        if (trail) {
          trail.fresh = true;
          trail.freshBest = long ? Math.max(res.price, bar[4] as number) : Math.min(res.price, bar[4] as number);
        }
      }
      return;
    }
    const f = k.finer[res.level] as FinerSeries;
    const cs = f.candles;
    const below = k.finerFrom[res.level + 1] as readonly FinerSeries[];
    const end = t + k.baseMs;
    let i = res.index;
    let best = res.gap ? (long ? (cs.high[i] as number) : (cs.low[i] as number)) : long ? Math.max(res.price, cs.close[i] as number) : Math.min(res.price, cs.close[i] as number);
    let r = res.gap ? this.whole(p, cs.ts[i] as number, cs.open[i] as number, cs.high[i] as number, cs.low[i] as number, cs.close[i] as number, f.ms, below) : this.stopAfterFill(p, cs.ts[i] as number, cs.high[i] as number, cs.low[i] as number, o.type === 'stop');
    for (i++; r === Checked.None && i < cs.length && (cs.ts[i] as number) < end; i++) {
      const x = long ? (cs.high[i] as number) : (cs.low[i] as number);
      if (long ? x > best : x < best) best = x;
      r = this.whole(p, cs.ts[i] as number, cs.open[i] as number, cs.high[i] as number, cs.low[i] as number, cs.close[i] as number, f.ms, below);
    }
    if (trail) {
      trail.fresh = true;
      trail.freshBest = best;
    }
  }

  /** Ends the bar: trailing stops ratchet; candle-counted orders count the bar and expire after their last. */
  end(): void {
    const k = this.k;
    const bar = k.bar;
    if (k.exec.exits.byId.size > 0) k.exec.exits.ratchet(bar[2] as number, bar[3] as number);
    const resting = k.exec.resting;
    const open = resting.open;
    const close = bar[4] as number;
    for (let j = open.length - 1; j >= 0; j--) {
      const o = open[j] as RestingOrder;
      o.lastPrice = close;
      if (o.candlesLeft === null) continue;
      o.candlesLeft--;
      if (o.candlesLeft <= 0) resting.end(j, 'expire', (bar[0] as number) + k.baseMs, null, null);
    }
  }

  /**
   * All of `p`'s levels on a candle that came wholly after its fill, again after a partial take-profit
   * (at once; deferred: `k.again` brings the caller back). Returns the last `Checked` value.
   */
  private whole(p: Position, t: number, o: number, h: number, l: number, c: number, ms: number, finer: readonly FinerSeries[]): number {
    const k = this.k;
    for (;;) {
      const long = p.side === 'long';
      const liq = p.entryPrice * (long ? k.liqLong : k.liqShort);
      const sl = p.stopLoss ?? (long ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
      const liqFirst = long ? liq > sl : liq < sl;
      const stop = liqFirst ? liq : sl;
      const tp = p.takeProfit ?? (long ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
      const touched = long ? l <= stop || h >= tp : h >= stop || l <= tp;
      const r = touched ? k.resolveHit(p, liqFirst, stop, t, o, h, l, c, ms, finer) : Checked.None;
      if (r === Checked.None) this.adverse(p, h, l);
      if (r !== Checked.Reduced || k.deferExits) return r;
    }
  }

  /**
   * The stop-loss (or liquidation) of `p` on the candle of its fill, where only what follows the fill
   * counts and that is not known: taken when the candle reaches it. `ambiguous` when the candle may have
   * reached it before the fill (a stop entry).
   */
  private stopAfterFill(p: Position, t: number, h: number, l: number, ambiguous: boolean): number {
    const k = this.k;
    const long = p.side === 'long';
    const liq = p.entryPrice * (long ? k.liqLong : k.liqShort);
    const sl = p.stopLoss ?? (long ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
    const liqFirst = long ? liq > sl : liq < sl;
    const stop = liqFirst ? liq : sl;
    if (!(long ? l <= stop : h >= stop)) {
      this.adverse(p, h, l);
      return Checked.None;
    }
    if (ambiguous) k.ambiguous++;
    if (liqFirst) k.exit(p, stop, t, 'liquidation', false, false);
    else k.exit(p, stop, t, k.exec.exits.trailing(p) ? 'trailing_stop' : 'stop_loss', false, true);
    return Checked.Gone;
  }

  /** The worst unrealized loss of `p` on a candle (high, low) after its fill. */
  private adverse(p: Position, h: number, l: number): void {
    const worst = p.side === 'long' ? (p.entryPrice - l) * p.qty : (h - p.entryPrice) * p.qty;
    if (worst > p.maxAdverse) p.maxAdverse = worst;
  }
}
