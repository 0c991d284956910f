/**
 * The reference for the engine's speed: one hand-written loop doing the same arithmetic as
 * strategies/sma-cross.ts under `--fill next-open` with a fixed quantity — SMA(fast/slow) ring buffers, a
 * crossover, a pending order filled at the next open, a gap-aware SL/TP check with the conservative
 * policy, taker/maker fees, equity marked at every close. No objects, no calls: the floor for this job.
 */
export interface HandResult {
  trades: number;
  finalEquity: number;
}

const TICK = 0.1;
const roundTick = (x: number): number => Number((Math.round(x / TICK) * TICK).toFixed(1));

export function handwrittenSmaCross(
  c: { length: number; open: Float64Array; high: Float64Array; low: Float64Array; close: Float64Array },
  fast: number,
  slow: number,
  qty: number,
  sl: number,
  tp: number,
  balance0: number,
  takerBps: number,
  makerBps: number,
): HandResult {
  const n = c.length;
  const fb = new Float64Array(fast);
  const sb = new Float64Array(slow);
  let fs = 0;
  let kf = 0;
  let ks = 0;
  let ss = 0;
  let fPrev = Number.NaN;
  let sPrev = Number.NaN;
  let fVal = Number.NaN;
  let sVal = Number.NaN;
  let balance = balance0;
  let side = 0; // +1 long, -1 short, 0 flat
  let entry = 0;
  let stop = 0;
  let take = 0;
  let pending = 0; // +1 buy, -1 sell at the next open
  let pSl = 0;
  let pTp = 0;
  let trades = 0;
  const taker = takerBps / 10_000;
  const maker = makerBps / 10_000;
  const equity = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = c.open[i]!;
    const h = c.high[i]!;
    const l = c.low[i]!;
    const cl = c.close[i]!;
    if (pending !== 0) {
      const fill = roundTick(o); // fills are rounded to the contract's tick, as the engine does
      if (side !== 0 && side !== pending) {
        balance += (fill - entry) * qty * side - fill * qty * taker;
        trades++;
        side = 0;
      }
      if (side === 0) {
        side = pending;
        entry = fill;
        balance -= fill * qty * taker;
      }
      stop = pSl;
      take = pTp;
      pending = 0;
    }
    if (side !== 0) {
      let exit = Number.NaN;
      let fee = taker;
      if (side > 0) {
        if (o <= stop) exit = roundTick(o);
        else if (o >= take) exit = o;
        else if (l <= stop) exit = stop;
        else if (h >= take) {
          exit = take;
          fee = maker;
        }
      } else if (o >= stop) exit = roundTick(o);
      else if (o <= take) exit = o;
      else if (h >= stop) exit = stop;
      else if (l <= take) {
        exit = take;
        fee = maker;
      }
      if (exit === exit) {
        balance += (exit - entry) * qty * side - exit * qty * fee;
        trades++;
        side = 0;
      }
    }
    fs += cl - fb[kf]!;
    ss += cl - sb[ks]!;
    fb[kf] = cl;
    sb[ks] = cl;
    kf = kf + 1 === fast ? 0 : kf + 1;
    ks = ks + 1 === slow ? 0 : ks + 1;
    fPrev = fVal;
    sPrev = sVal;
    fVal = i + 1 >= fast ? fs / fast : Number.NaN;
    sVal = i + 1 >= slow ? ss / slow : Number.NaN;
    if (sPrev === sPrev) {
      if (fPrev <= sPrev && fVal > sVal) {
        pending = 1;
        pSl = roundTick(cl * (1 - sl));
        pTp = roundTick(cl * (1 + tp));
      } else if (fPrev >= sPrev && fVal < sVal) {
        pending = -1;
        pSl = roundTick(cl * (1 + sl));
        pTp = roundTick(cl * (1 - tp));
      }
    }
    equity[i] = side !== 0 ? balance + (cl - entry) * qty * side : balance;
  }
  if (side !== 0) {
    const last = roundTick(c.close[n - 1]!);
    balance += (last - entry) * qty * side - last * qty * taker;
    trades++;
  }
  return { trades, finalEquity: balance };
}
