import type { TargetHistory } from '../api.ts';
import type { EquityPoint } from '../charts.ts';

/** Figures of one equity curve (quote, percent, epoch ms). */
export interface CurveStats {
  readonly latest: number | null;
  readonly first: number | null;
  /** latest − first (quote). */
  readonly change: number | null;
  /** change / first, in percent. */
  readonly changePct: number | null;
  /** Deepest fall from the running peak, in percent (a positive depth). */
  readonly maxDrawdownPct: number;
  readonly count: number;
  readonly lastTs: number | null;
}

/** The points of a target with an equity (failed snapshots carry none), oldest first. */
export function pointsOf(h: TargetHistory): EquityPoint[] {
  const out: EquityPoint[] = [];
  for (const p of h.points) if (p.status === 'ok' && p.equity !== null && Number.isFinite(p.equity)) out.push({ ts: p.ts, equity: p.equity });
  return out.sort((a, b) => a.ts - b.ts);
}

/**
 * The total equity over time: at each snapshot of any target, the sum of every target's latest equity so
 * far (a step function; a target adds nothing before its first snapshot).
 */
export function totalCurve(histories: readonly TargetHistory[]): EquityPoint[] {
  const events = histories.flatMap((h) => pointsOf(h).map((p) => ({ ...p, target: h.target })));
  events.sort((a, b) => a.ts - b.ts);
  const latest = new Map<string, number>();
  const out: EquityPoint[] = [];
  let sum = 0;
  for (const e of events) {
    sum += e.equity - (latest.get(e.target) ?? 0);
    latest.set(e.target, e.equity);
    // Recompute now and then so float error of the running sum cannot build up.
    if (out.length % 512 === 0) sum = [...latest.values()].reduce((a, b) => a + b, 0);
    out.push({ ts: e.ts, equity: sum });
  }
  return out;
}

/** Latest value, change, max drawdown and count of a curve (oldest point first). */
export function curveStats(points: readonly EquityPoint[]): CurveStats {
  const first = points[0]?.equity ?? null;
  const last = points[points.length - 1] ?? null;
  let peak = -Infinity;
  let dd = 0;
  for (const p of points) {
    peak = Math.max(peak, p.equity);
    if (peak > 0) dd = Math.max(dd, ((peak - p.equity) / peak) * 100);
  }
  const change = first !== null && last ? last.equity - first : null;
  return {
    latest: last?.equity ?? null,
    first,
    change,
    changePct: change !== null && first ? (change / first) * 100 : null,
    maxDrawdownPct: dd,
    count: points.length,
    lastTs: last?.ts ?? null,
  };
}
