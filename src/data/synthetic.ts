import { allocCandles, computeCvd, type CandleColumns } from '../core/candles.ts';
import { HalyardError } from '../core/errors.ts';
import { SeededRandom } from '../core/rng.ts';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.ts';

/** What to generate: `from` is the first open time (epoch ms, aligned to `timeframe`), `count` the number of bars. */
export interface SyntheticOptions {
  readonly seed: number;
  readonly count: number;
  /** First open time in epoch ms; default 2024-01-01T00:00Z. */
  readonly from?: number;
  /** First open price in quote currency; default 30,000 (BTC-like). */
  readonly startPrice?: number;
  readonly timeframe?: Timeframe;
}

/** Default first open time of synthetic series: 2024-01-01T00:00Z in epoch ms. */
export const SYNTHETIC_DEFAULT_FROM = Date.UTC(2024, 0, 1);

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Long-run volatility of one 1m log return (~0.06 %, ≈ 45 % a year). */
const SIGMA_1M = 0.0006;
/** GARCH(1,1) weights: shock and persistence (half-life of a volatility burst ≈ 70 bars). */
const ALPHA = 0.06;
const BETA = 0.93;
/** Mean base volume of a 1m bar in base units at average activity. */
const VOLUME_1M = 25;
/** Chance a bar starts a run of zero-volume bars (a quiet venue or an outage): ~40 runs a year of 1m. */
const QUIET_P = 8e-5;
/** Chance of a price jump of 6 long-run standard deviations in a bar. */
const JUMP_P = 5e-5;
/** Weekend activity relative to a weekday. */
const WEEKEND = 0.65;
const WEEKEND_SQRT = Math.sqrt(WEEKEND);

/** Rounds to a step of 1/`perUnit` (10 → 0.1); dividing by an integer keeps decimals like 30000.1 exact. */
const roundTo = (x: number, perUnit: number): number => Math.round(x * perUnit) / perUnit;

/**
 * Activity over the UTC day for each minute: lowest around 05:00, highest around the US open (14:30).
 * Volatility scales by the square root of it, volume linearly.
 */
function daySeasonality(): Float64Array {
  const s = new Float64Array(1440);
  for (let m = 0; m < 1440; m++) {
    const h = m / 60;
    s[m] = 1 + 0.35 * Math.cos((2 * Math.PI * (h - 14.5)) / 24) + 0.25 * Math.exp(-(((h - 14.5) / 0.8) ** 2));
  }
  return s;
}

const TABLE_SIZE = 8192;
let tables: { halfNormal: Float64Array; volumeNoise: Float64Array } | undefined;

/**
 * Draw tables for the wick sizes (|N(0,1)|) and volume noise (lognormal, mean ≈ 1): one uniform picks
 * an entry, which costs far less than a Box–Muller draw and an `exp` per bar. Built once from a fixed
 * seed, so every series is still a pure function of its own seed.
 */
function drawTables(): { halfNormal: Float64Array; volumeNoise: Float64Array } {
  if (tables) return tables;
  const r = new SeededRandom(0x5eed);
  const halfNormal = new Float64Array(TABLE_SIZE);
  const volumeNoise = new Float64Array(TABLE_SIZE);
  for (let k = 0; k < TABLE_SIZE; k++) {
    halfNormal[k] = Math.abs(r.normal());
    volumeNoise[k] = Math.exp(0.45 * r.normal() - 0.1);
  }
  return (tables = { halfNormal, volumeNoise });
}

/**
 * Deterministic synthetic candles for a seed: GARCH(1,1) volatility clustering, trending and sideways
 * regimes lasting hours to days, intrabar high/low around open/close, volume that follows volatility,
 * the UTC day and the weekend, occasional runs of zero-volume (flat) bars, CVD by the
 * `volume * sign(close - open)` approximation, and open interest as a positive slow random walk.
 * Prices are rounded to a 0.1 tick, volumes and open interest to 0.001.
 */
export function syntheticCandles(opts: SyntheticOptions): CandleColumns {
  const { seed, count } = opts;
  const tf = opts.timeframe ?? '1m';
  const from = opts.from ?? SYNTHETIC_DEFAULT_FROM;
  const step = TIMEFRAME_MS[tf];
  const startPrice = opts.startPrice ?? 30_000;
  if (!Number.isInteger(count) || count < 0) throw new HalyardError('invalid_input', `synthetic count must be a whole number >= 0, got ${count}`);
  if (!(startPrice > 0)) throw new HalyardError('invalid_input', `synthetic start price must be > 0, got ${startPrice}`);
  if (!Number.isInteger(from) || from % step !== 0) {
    throw new HalyardError('invalid_input', `synthetic start ${from} is not an epoch-ms open time aligned to ${tf}`);
  }
  const rng = new SeededRandom(seed);
  // Box–Muller gives two normals per draw; the second is kept for the next bar. Plain locals (no
  // closure) so V8 keeps these doubles unboxed in the hot loop.
  let spare = 0;
  let hasSpare = false;
  const minutes = step / MINUTE;
  const season = daySeasonality();
  const seasonSqrt = season.map(Math.sqrt);
  const { halfNormal, volumeNoise } = drawTables();
  const c = allocCandles(count);
  // The GARCH tracks the variance of a bar at average activity; per-bar volatility scales with the
  // square root of the bar length and of the time-of-day activity.
  const sigmaBar = SIGMA_1M * Math.sqrt(minutes);
  const longVar = sigmaBar * sigmaBar;
  const omega = longVar * (1 - ALPHA - BETA);
  let variance = longVar;
  let shock = 0;
  let logPrice = Math.log(startPrice);
  let drift = 0;
  let regimeLeft = 0;
  let anchor = logPrice;
  let quietLeft = 0;
  let oi = 80_000;
  const oiStep = 0.0007 * Math.sqrt(minutes);
  // Sideways regimes pull the price back to where they began (per bar, capped for long bars).
  const pull = Math.min(0.5, 0.002 * minutes);
  let prevClose = roundTo(startPrice, 10);
  let minuteOfDay = Math.floor((((from % DAY) + DAY) % DAY) / MINUTE);
  let weekday = (Math.floor(from / DAY) + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  for (let i = 0; i < count; i++) {
    c.ts[i] = from + i * step;
    if (regimeLeft <= 0) {
      // New regime: up, down or sideways, lasting 1 h to a few days (exponential, mean 16 h).
      const u = rng.next();
      const strength = (0.4 + 1.2 * rng.next()) * 1.5e-5 * minutes;
      drift = u < 0.3 ? strength : u < 0.6 ? -strength : 0;
      anchor = logPrice;
      regimeLeft = Math.max(60, -Math.log(1 - rng.next()) * 960) / minutes;
    }
    regimeLeft--;
    const weekend = weekday === 0 || weekday === 6;
    const activity = (season[minuteOfDay] as number) * (weekend ? WEEKEND : 1);
    const scale = (seasonSqrt[minuteOfDay] as number) * (weekend ? WEEKEND_SQRT : 1);
    minuteOfDay += minutes;
    while (minuteOfDay >= 1440) {
      minuteOfDay -= 1440;
      weekday = (weekday + 1) % 7;
    }
    variance = omega + ALPHA * shock * shock + BETA * variance;
    const open = prevClose;
    const u = rng.next();
    if (quietLeft > 0 || u < QUIET_P) {
      // No trades: a flat bar at the last price and no volume; the volatility state decays meanwhile.
      quietLeft = quietLeft > 0 ? quietLeft - 1 : Math.floor(rng.next() * 4);
      shock = 0;
      c.open[i] = c.high[i] = c.low[i] = c.close[i] = open;
      c.volume[i] = 0;
    } else {
      const sigma = Math.sqrt(variance);
      let z: number;
      if (hasSpare) {
        z = spare;
        hasSpare = false;
      } else {
        const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
        const a = 2 * Math.PI * rng.next();
        spare = r * Math.sin(a);
        z = r * Math.cos(a);
        hasSpare = true;
      }
      shock = sigma * z;
      // Rare jumps (≈ 1 in 20,000 bars) fatten the tails; they stay out of the GARCH feedback.
      const jump = u > 1 - JUMP_P ? (u > 1 - JUMP_P / 2 ? 6 : -6) * sigmaBar : 0;
      const meanRevert = drift === 0 ? -pull * (logPrice - anchor) : 0;
      logPrice += drift + meanRevert + shock * scale + jump;
      const px = Math.exp(logPrice);
      const close = roundTo(px, 10);
      // Wicks: half-normal excursions beyond the body, proportional to the bar's volatility.
      const wick = 0.6 * sigma * scale * px;
      c.open[i] = open;
      c.close[i] = close;
      c.high[i] = Math.max(roundTo(Math.max(open, close) + (halfNormal[(rng.next() * TABLE_SIZE) | 0] as number) * wick, 10), open, close);
      c.low[i] = Math.max(0.1, Math.min(roundTo(Math.min(open, close) - (halfNormal[(rng.next() * TABLE_SIZE) | 0] as number) * wick, 10), open, close));
      // Volume follows activity, the size of the move (relative to the long-run scale) and noise.
      const moveRatio = Math.abs(shock * scale + jump) / sigmaBar;
      c.volume[i] = roundTo(VOLUME_1M * minutes * activity * (0.35 + 0.65 * moveRatio) * (volumeNoise[(rng.next() * TABLE_SIZE) | 0] as number), 1000);
      prevClose = close;
    }
    // Open interest: a slow mean-reverting walk that leans with the price move.
    oi *= 1 + oiStep * (rng.next() - 0.5) + 0.0005 * (1 - oi / 80_000) + 0.02 * shock;
    c.openInterest[i] = roundTo(oi, 1000);
  }
  computeCvd(c);
  return c;
}
