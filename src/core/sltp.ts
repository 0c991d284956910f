import { lowerBound, type CandleColumns } from './candles.ts';
import type { Side } from './types.ts';

/** Policy at the finest level when stop and take-profit are both inside one candle. */
export type AmbiguityPolicy = 'conservative' | 'candle-direction';

/** A finer series available for drill-down: its timeframe length (ms) and candles. Coarsest first. */
export interface FinerSeries {
  readonly ms: number;
  readonly candles: CandleColumns;
}

/** Protective levels of a position. `stop` is the stop-loss or the liquidation price, whichever is hit first. */
export interface Levels {
  readonly side: Side;
  /** Adverse level (absolute price) or NaN when none. */
  readonly stop: number;
  /** Favourable level (absolute price) or NaN when none. */
  readonly take: number;
}

/** Which level a candle hit: none, the adverse one, the favourable one. */
export const Hit = { None: 0, Stop: 1, Take: 2 } as const;

/** A value of `Hit`. */
export type Hit = (typeof Hit)[keyof typeof Hit];

/** Outcome of checking one candle. `price` is the fill price before slippage; `gap` when the open was beyond. */
export interface Resolution {
  hit: Hit;
  price: number;
  gap: boolean;
  /** Both levels were inside the finest candle available and the policy decided. */
  ambiguous: boolean;
  /** Finer candles decided (drill-down). */
  drilled: boolean;
}

/** A reusable result object (the hot loop allocates nothing per candle). */
export function newResolution(): Resolution {
  return { hit: Hit.None, price: Number.NaN, gap: false, ambiguous: false, drilled: false };
}

const BOTH = 3;

/** Which levels one candle touches (bit 1 stop, bit 2 take) — ignoring order inside the candle. */
function touches(lv: Levels, h: number, l: number): number {
  let r = 0;
  if (lv.side === 'long') {
    if (l <= lv.stop) r |= Hit.Stop;
    if (h >= lv.take) r |= Hit.Take;
  } else {
    if (h >= lv.stop) r |= Hit.Stop;
    if (l <= lv.take) r |= Hit.Take;
  }
  return r;
}

/** The level a candle that opens beyond it fills at once (gap), or None. */
function gapAtOpen(lv: Levels, o: number): Hit {
  if (lv.side === 'long') return o <= lv.stop ? Hit.Stop : o >= lv.take ? Hit.Take : Hit.None;
  return o >= lv.stop ? Hit.Stop : o <= lv.take ? Hit.Take : Hit.None;
}

function levelPrice(lv: Levels, hit: Hit): number {
  return hit === Hit.Stop ? lv.stop : lv.take;
}

/**
 * Checks one candle (o, h, l, c over [t, t + ms)) against a position's levels. When both levels are inside
 * the candle, drills down through `finer` (coarsest first) and takes whichever is hit first; at the finest
 * level available the policy decides: `conservative` takes the stop, `candle-direction` assumes a green
 * candle went open-low-high-close and a red one open-high-low-close. Writes into `out` and returns it.
 */
export function resolveCandle(
  lv: Levels,
  o: number,
  h: number,
  l: number,
  c: number,
  t: number,
  ms: number,
  finer: readonly FinerSeries[],
  policy: AmbiguityPolicy,
  out: Resolution,
): Resolution {
  out.hit = Hit.None;
  out.gap = false;
  out.ambiguous = false;
  out.drilled = false;
  const g = gapAtOpen(lv, o);
  if (g !== Hit.None) {
    out.hit = g;
    out.price = o;
    out.gap = true;
    return out;
  }
  const r = touches(lv, h, l);
  if (r === Hit.None) return out;
  if (r !== BOTH) {
    out.hit = r as Hit;
    out.price = levelPrice(lv, r as Hit);
    return out;
  }
  if (drill(lv, t, t + ms, finer, 0, policy, out)) {
    out.drilled = true;
    return out;
  }
  out.ambiguous = true;
  out.hit = policyHit(lv.side, o, c, policy);
  out.price = levelPrice(lv, out.hit);
  return out;
}

function policyHit(side: Side, o: number, c: number, policy: AmbiguityPolicy): Hit {
  if (policy === 'conservative') return Hit.Stop;
  const green = c >= o; // green: open → low → high → close
  if (side === 'long') return green ? Hit.Stop : Hit.Take;
  return green ? Hit.Take : Hit.Stop;
}

/** Walks the candles of finer[level] inside [from, to); returns false when no finer data decides. */
function drill(lv: Levels, from: number, to: number, finer: readonly FinerSeries[], level: number, policy: AmbiguityPolicy, out: Resolution): boolean {
  for (let k = level; k < finer.length; k++) {
    const f = finer[k] as FinerSeries;
    const cs = f.candles;
    let i = lowerBound(cs.ts, from);
    if (i >= cs.length || (cs.ts[i] as number) >= to) continue; // this level has no data here: try finer
    for (; i < cs.length && (cs.ts[i] as number) < to; i++) {
      const o = cs.open[i] as number;
      const g = gapAtOpen(lv, o);
      if (g !== Hit.None) {
        out.hit = g;
        out.price = o;
        out.gap = true;
        return true;
      }
      const r = touches(lv, cs.high[i] as number, cs.low[i] as number);
      if (r === Hit.None) continue;
      if (r !== BOTH) {
        out.hit = r as Hit;
        out.price = levelPrice(lv, r as Hit);
        return true;
      }
      const t = cs.ts[i] as number;
      if (drill(lv, t, t + f.ms, finer, k + 1, policy, out)) return true;
      out.ambiguous = true;
      out.hit = policyHit(lv.side, o, cs.close[i] as number, policy);
      out.price = levelPrice(lv, out.hit);
      return true;
    }
    return false; // the finer data covers the candle but never touches both: inconsistent, let the policy decide
  }
  return false;
}

/** A resting entry's level: `price` (quote), reached as the price falls (`below`: a long limit, a short stop) or rises. */
export interface EntryLevel {
  readonly below: boolean;
  readonly price: number;
}

/** Where in a candle a resting entry filled (a reusable object, like `Resolution`). */
export interface EntryResolution {
  filled: boolean;
  /** Fill price before slippage: the level, or the open of the (finer) candle that opened beyond it. */
  price: number;
  /** The candle of the fill opened beyond the level: all of that candle came after the fill. */
  gap: boolean;
  /** When finer data located the fill: the index in `finer` of its series and the candle there (else -1). */
  level: number;
  index: number;
}

/** A reusable entry resolution (the hot loop allocates nothing per candle). */
export function newEntryResolution(): EntryResolution {
  return { filled: false, price: Number.NaN, gap: false, level: -1, index: -1 };
}

function beyond(e: EntryLevel, o: number): boolean {
  return e.below ? o <= e.price : o >= e.price;
}

function reaches(e: EntryLevel, h: number, l: number): boolean {
  return e.below ? l <= e.price : h >= e.price;
}

/**
 * Checks one candle (o, h, l over [t, t + ms)) against a resting entry. A candle that opens beyond the
 * level fills at its open (a gap); one that trades through it fills at the level. When it trades through
 * and finer data covers the candle, the finest series available locates the finer candle of the fill (so
 * the caller can check what came after it), with the same gap rule at that candle's open. Writes `out`.
 */
export function resolveEntry(e: EntryLevel, o: number, h: number, l: number, t: number, ms: number, finer: readonly FinerSeries[], out: EntryResolution): EntryResolution {
  out.filled = false;
  out.gap = false;
  out.level = -1;
  out.index = -1;
  if (beyond(e, o)) {
    out.filled = true;
    out.price = o;
    out.gap = true;
    return out;
  }
  if (!reaches(e, h, l)) return out;
  out.filled = true;
  out.price = e.price;
  for (let k = finer.length - 1; k >= 0; k--) {
    const cs = (finer[k] as FinerSeries).candles;
    let i = lowerBound(cs.ts, t);
    if (i >= cs.length || (cs.ts[i] as number) >= t + ms) continue; // no data at this level: try a coarser one
    for (; i < cs.length && (cs.ts[i] as number) < t + ms; i++) {
      const fo = cs.open[i] as number;
      if (beyond(e, fo)) {
        out.price = fo;
        out.gap = true;
      } else if (!reaches(e, cs.high[i] as number, cs.low[i] as number)) continue;
      out.level = k;
      out.index = i;
      return out;
    }
    return out; // the finer data never reaches the level: inconsistent, the candle itself decides
  }
  return out;
}
