import type { CandleColumns } from '../../src/core/candles.ts';
import { cancel, close, openLong, openShort, reduce, type Signal } from '../../src/core/signals.ts';
import type { BacktestInput } from '../../src/engine/backtest.ts';
import type { StrategyContext } from '../../src/strategy/context.ts';
import type { Indicator } from '../../src/strategy/indicators.ts';
import { Strategy, type SignalOutput } from '../../src/strategy/strategy.ts';
import { bars, MIN, T0 } from '../helpers.ts';

/**
 * The hand-made scenarios of what strategies can say (resting entries, trailing stops, take-profit
 * ladders, reduce, warm-up, risk sizing): each test file asserts its expected fills, and
 * paper-features.test.ts runs every one through the paper runtime on the simulated exchange.
 */

/** Costs of every case: the simulated exchange's BTC rules (tick 0.1, lot 0.001), maker 2 / taker 5 bps. */
export const COSTS = { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 0, tick: 0.1, lot: 0.001 } as const;

/** One scenario: candles, a strategy, and backtest settings beyond `COSTS`. */
export interface FeatureCase {
  readonly name: string;
  readonly candles: CandleColumns;
  readonly strategy: () => Strategy;
  readonly slippageBps?: number;
  readonly fill?: 'close' | 'next-open';
  /** Candles before this many only warm up (the backtest's `tradeFrom`, the paper run's warm candles). */
  readonly warmup?: number;
}

/** The backtest input of a case. */
export function backtestInput(c: FeatureCase): BacktestInput {
  return {
    ...COSTS,
    slippageBps: c.slippageBps ?? 0,
    initialBalance: 10_000,
    leverage: 10,
    exchange: 'test',
    symbol: 'BTC/USDT:USDT',
    timeframe: '1m',
    candles: c.candles,
    strategy: c.strategy(),
    ...(c.fill ? { fill: c.fill } : {}),
    ...(c.warmup ? { tradeFrom: c.candles.ts[c.warmup] as number } : {}),
  };
}

/**
 * A strategy that runs `step(i, ctx)` on candle i (its index in the series, so a paper run resumed in a
 * new process picks up where it was) and records what it saw with `seen`.
 */
export function probe(step: (i: number, ctx: StrategyContext, self: { seen: unknown[] }) => Signal | Signal[] | undefined): () => Strategy {
  return () => {
    class Probe extends Strategy {
      readonly seen: unknown[] = [];
      onCandle(ctx: StrategyContext): SignalOutput {
        return step(ctx.candles().length - 1, ctx, this);
      }
    }
    return new Probe();
  };
}

/** The signals of `script` at candle indices (like `scripted`, but resumable: it counts candles, not calls). */
function byCandle(script: Record<number, Signal | Signal[]>): () => Strategy {
  return probe((i) => script[i]);
}

/** Limit long at 98 placed at the close of bar 1 (101); bar 3 trades down to 97. */
export const limitTouch: FeatureCase = {
  name: 'limit entry filled on touch, take-profit on a later bar',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // signal: limit buy 98, SL 94, TP 106
    [101, 102, 99, 100], // low 99: not reached
    [100, 107, 97, 99], // reaches 98: fills at 98; the high 107 may have come first, so no TP on this bar
    [99, 106.5, 98.5, 106], // TP 106
  ]),
  strategy: byCandle({ 1: openLong({ qty: 1, limit: 98, stopLoss: 94, takeProfit: 106 }) }),
};

/** The same limit, but bar 3 opens below it (a gap): it fills at the open and the whole bar counts. */
export const limitGap: FeatureCase = {
  name: 'limit entry on a gap fills at the better open, the bar after it counts in full',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101],
    [101, 102, 99, 100],
    [96, 107, 95, 106], // opens at 96 < 98: filled at 96, then TP 106 on the same bar
    [106, 106, 105, 105],
  ]),
  strategy: byCandle({ 1: openLong({ qty: 1, limit: 98, stopLoss: 94, takeProfit: 106 }) }),
};

/** A limit that is never reached in its two candles, then would have been. */
export function limitExpiry(expiry: { expiresAfter: number } | { expiresIn: string }): FeatureCase {
  return {
    name: `limit entry expires (${JSON.stringify(expiry)})`,
    candles: bars([
      [100, 101, 99, 100],
      [100, 102, 99, 101], // signal at the close (T0 + 2m)
      [101, 102, 99, 100],
      [100, 101, 98.5, 99],
      [99, 99, 96, 97], // would fill: the order expired at T0 + 4m
      [97, 98, 96, 97],
    ]),
    strategy: byCandle({ 1: openLong({ qty: 1, limit: 98, ...expiry }) }),
  };
}

/** A labelled limit the strategy sees in ctx.orders() and cancels. */
export const limitCancel: FeatureCase = {
  name: 'a resting entry is visible in ctx.orders() and canceled by label',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101],
    [101, 102, 99, 100],
    [100, 100, 96, 97], // would fill, but the order is gone
    [97, 98, 96, 97],
  ]),
  strategy: probe((i, ctx, self) => {
    if (i === 1) return openLong({ qty: 1, limit: 98, label: 'dip' });
    if (i === 2) {
      self.seen.push(ctx.orders().map((o) => ({ id: o.id, label: o.label, price: o.price, side: o.side, type: o.type })));
      return cancel('dip');
    }
    if (i === 3) self.seen.push(ctx.orders().length);
    return undefined;
  }),
};

/** A short stop at 95 placed at 101; bar 3 opens at 93, below it. */
export const stopGap: FeatureCase = {
  name: 'stop entry on a gap fills at the open with slippage',
  slippageBps: 10,
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // signal: sell stop 95, SL 99, TP 90
    [101, 101.5, 99, 100],
    [93, 94, 91, 92], // gap below 95: sell at 93 − 10 bps = 92.907 → 92.9
    [92, 92.5, 89, 89.5], // TP 90
  ]),
  strategy: byCandle({ 1: openShort({ qty: 1, stop: 95, stopLoss: 99, takeProfit: 90 }) }),
};

/** A long stop at 103 triggered inside a bar that also reaches its stop-loss. */
export const stopThenStopLoss: FeatureCase = {
  name: 'stop entry and its stop-loss in one bar: the stop-loss is taken (conservative, ambiguous)',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // signal: buy stop 103, SL 100
    [101, 104, 99.5, 102], // 103 reached; the low 99.5 may have come after: stopped at 100
    [102, 103, 101, 102],
  ]),
  strategy: byCandle({ 1: openLong({ qty: 1, stop: 103, stopLoss: 100 }) }),
};

/** A long with a 2.0 trailing stop activated at 104; the strategy records its stop after each bar. */
export const trailActivation: FeatureCase = {
  name: 'trailing stop: activation, ratchet after each bar, exit',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // market long 1 at 101, trailing 2.0 from 104
    [101, 103, 100.5, 102.5], // 103 < 104: not active
    [102.5, 105, 102, 104.5], // active; best 105 → stop 103 after the bar
    [104.5, 107, 104, 106.5], // checked against 103 (low 104: safe); best 107 → stop 105 after the bar
    [106.5, 106.8, 104.5, 105], // 104.5 <= 105: out at 105
    [105, 105, 104, 104],
  ]),
  strategy: probe((i, ctx, self) => {
    self.seen.push(ctx.position()?.stopLoss ?? null);
    if (i === 1) return openLong({ qty: 1, trailingStop: { distance: 2, activation: 104 } });
    return undefined;
  }),
};

/** A short with a 1 % trailing stop from its entry at 100. */
export const trailPercent: FeatureCase = {
  name: 'trailing stop by percent on a short',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // market short 1 at 100: stop 101
    [100, 100.5, 98, 98.5], // high 100.5 < 101; best 98 → stop 98.98 → 99.0 after the bar
    [98.5, 99.2, 98.2, 99], // 99.2 >= 99.0: out at 99.0
    [99, 99.5, 98.5, 99],
  ]),
  strategy: byCandle({ 1: openShort({ qty: 1, trailingStop: { percent: 1 } }) }),
};

/** Long 3 with take-profits of 1 at 104 and 1 at 106; the last 1 rides the stop-loss at 96. */
export const ladder: FeatureCase = {
  name: 'two take-profits, then the stop-loss on the remainder',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // long 3 at 100
    [100, 104.5, 99.5, 104], // TP 104: 1 out
    [104, 107, 103, 105], // TP 106: 1 out
    [105, 105.5, 95, 96], // SL 96: the last 1
    [96, 97, 95, 96],
  ]),
  strategy: byCandle({ 1: openLong({ qty: 3, stopLoss: 96, takeProfit: [{ price: 104, fraction: 1 / 3 }, { price: 106, fraction: 1 / 3 }] }) }),
};

/** Both targets of the ladder inside one bar, then the rest closes by signal. */
export const ladderOneBar: FeatureCase = {
  name: 'two take-profits inside one bar',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // long 3 at 100
    [100, 107, 99.5, 106], // 104 and 106 both
    [106, 106.5, 105, 105], // close the rest at 105
    [105, 105, 104, 104],
  ]),
  strategy: byCandle({ 1: openLong({ qty: 3, stopLoss: 96, takeProfit: [{ price: 104, fraction: 1 / 3 }, { price: 106, fraction: 1 / 3 }] }), 3: close() }),
};

/** Long 2, reduce half at 103, close the rest at 105. */
export const partialReduce: FeatureCase = {
  name: 'reduce half, then close',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // long 2 at 100
    [100, 103.5, 99.5, 103], // reduce 0.5 → 1 out at 103
    [103, 105.5, 102.5, 105], // close: 1 out at 105
    [105, 105, 104, 104],
  ]),
  strategy: byCandle({ 1: openLong({ qty: 2 }), 2: reduce({ fraction: 0.5 }), 3: close() }),
};

/** An SMA(3) strategy that buys on its first call once the SMA is ready, with three warm-up candles. */
export const warmup: FeatureCase = {
  name: 'warm-up candles make the indicator ready at the start, and nothing trades before it',
  warmup: 3,
  candles: bars([
    [10, 11, 9, 10],
    [10, 13, 10, 12],
    [12, 15, 12, 14], // last warm-up candle
    [14, 17, 14, 16], // first traded candle: SMA(3) = (12 + 14 + 16) / 3 = 14
    [16, 16, 15, 15],
    [15, 18, 15, 18],
  ]),
  strategy: () => {
    class SmaProbe extends Strategy {
      override readonly warmup = 3;
      readonly seen: unknown[] = [];
      private sma!: Indicator;
      override onInit(ctx: StrategyContext): void {
        this.sma = ctx.indicators.sma(3);
      }
      onCandle(ctx: StrategyContext): SignalOutput {
        this.seen.push({ time: ctx.time, sma: this.sma.value, candles: ctx.candles().length });
        if (this.sma.ready && !ctx.position()) return openLong({ qty: 1 });
        if (this.seen.length === 3) return close();
        return undefined;
      }
    }
    return new SmaProbe();
  },
};

/** Size for 1 % of equity between an entry at 100 and a stop at 97, then stopped. */
export const riskSized: FeatureCase = {
  name: 'sizeByRisk: 1 % of equity over the stop distance',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // size and open at 100, SL 97
    [100, 100.5, 96, 96.5], // stopped at 97
    [96.5, 97, 96, 96],
  ]),
  strategy: probe((i, ctx, self) => {
    if (i !== 1) return undefined;
    const qty = ctx.sizeByRisk({ riskPercent: 1, stopLoss: 97 });
    self.seen.push(qty, ctx.sizeByRisk({ riskPercent: 1, entry: 100, stopLoss: 100 }));
    return openLong({ qty, stopLoss: 97 });
  }),
};

/** A limit entry with a trailing stop, filled inside a bar whose high may have come before the fill. */
export const trailAfterLimit: FeatureCase = {
  name: 'trailing stop of a limit entry: the fill bar moves it only with what came after the fill',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // limit buy 98, trailing 2.0
    [101, 102, 99, 100],
    [100, 107, 97, 99], // fills at 98 (stop 96); after the fill only 98..99 is known: stop 97, not 105
    [99, 99.5, 97.5, 98], // 97.5 > 97; best 99.5 → stop 97.5
    [98, 98.2, 97, 97.2], // out at 97.5
  ]),
  strategy: byCandle({ 1: openLong({ qty: 1, limit: 98, trailingStop: { distance: 2 } }) }),
};

/** With next-open fills, a resting entry is placed at the next open and that whole candle can fill it. */
export const limitNextOpen: FeatureCase = {
  name: 'limit entry placed at the next open (next-open fills)',
  fill: 'next-open',
  candles: bars([
    [100, 101, 99, 100],
    [100, 102, 99, 101], // signal
    [100.5, 101, 97.5, 98], // placed at the open 100.5, filled at 98 in the same candle
    [98, 99, 97, 98.5],
    [98.5, 99, 98, 99], // close at the next open: 98.5
  ]),
  strategy: byCandle({ 1: openLong({ qty: 1, limit: 98 }), 3: close() }),
};

/** Hedge mode: a resting short on the short leg while the long leg is open, and a reduce of the long leg. */
export const hedgeLegs: FeatureCase = {
  name: 'hedge mode: a limit short on its leg beside an open long, a reduce of the long leg',
  candles: bars([
    [100, 101, 99, 100],
    [100, 101, 99.5, 100], // long 2 at 100; limit sell 103 on the short leg
    [100, 103.5, 99.5, 103], // the short fills at 103; reduce the long by half at the close 103
    [103, 103, 101, 101.5], // close both legs at 101.5
    [101.5, 102, 101, 101],
  ]),
  strategy: () => {
    const s = probe((i) => {
      if (i === 1) return [openLong({ qty: 2, positionSide: 'long' }), openShort({ qty: 1, limit: 103, positionSide: 'short' })];
      if (i === 2) return reduce({ side: 'long', fraction: 0.5 });
      if (i === 3) return close();
      return undefined;
    })();
    Object.defineProperty(s, 'positionMode', { value: 'hedge' });
    return s;
  },
};

/** Every case, for the paper runtime. */
export const ALL_CASES: readonly FeatureCase[] = [
  limitTouch, limitGap, limitExpiry({ expiresAfter: 2 }), limitExpiry({ expiresIn: '2m' }), limitCancel, stopGap, stopThenStopLoss,
  trailActivation, trailPercent, trailAfterLimit, ladder, ladderOneBar, partialReduce, warmup, riskSized, limitNextOpen, hedgeLegs,
];

export { MIN, T0 };
