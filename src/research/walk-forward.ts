import { HalyardError } from '../core/errors.ts';

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A walk-forward plan: window lengths in ms (as written too), and whether training windows keep their start. */
export interface WalkForwardSpec {
  readonly train: number;
  readonly test: number;
  readonly step: number;
  readonly anchored: boolean;
  /** The lengths as written (`180d`), for optimize.json. */
  readonly text: { readonly train: string; readonly test: string; readonly step: string };
}

/** One window's bounds (epoch ms, ends exclusive): it trains on [trainFrom, trainTo) and tests on [testFrom, testTo). */
export interface WindowBounds {
  readonly trainFrom: number;
  readonly trainTo: number;
  readonly testFrom: number;
  readonly testTo: number;
}

const bad = (why: string): HalyardError =>
  new HalyardError('invalid_input', `--walk-forward: ${why} (write e.g. train=180d,test=30d, optionally step=30d and anchored)`);

function duration(key: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)([hdw])$/.exec(v.trim());
  if (!m) throw bad(`cannot read ${key}=${v} as a length in hours, days or weeks (12h, 30d, 4w)`);
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (!(ms > 0)) throw bad(`${key} must be longer than zero`);
  return ms;
}

/**
 * Parses `train=180d,test=30d[,step=30d][,anchored]`. The step defaults to the test length and may not be
 * shorter than it (test windows would overlap and the out-of-sample curve count days twice).
 */
export function parseWalkForward(spec: string): WalkForwardSpec {
  const parts = new Map<string, string>();
  let anchored = false;
  for (const raw of spec.split(',')) {
    const p = raw.trim();
    if (p === 'anchored') anchored = true;
    else {
      const eq = p.indexOf('=');
      const key = eq > 0 ? p.slice(0, eq).trim() : p;
      if (!['train', 'test', 'step'].includes(key) || eq <= 0) throw bad(`unknown part "${p}"`);
      if (parts.has(key)) throw bad(`${key} is given twice`);
      parts.set(key, p.slice(eq + 1).trim());
    }
  }
  const trainText = parts.get('train');
  const testText = parts.get('test');
  if (trainText === undefined || testText === undefined) throw bad('it needs both train= and test=');
  const stepText = parts.get('step') ?? testText;
  const train = duration('train', trainText);
  const test = duration('test', testText);
  const step = duration('step', stepText);
  if (step < test) throw bad(`step=${stepText} is shorter than test=${testText}, so test windows would overlap`);
  return { train, test, step, anchored, text: { train: trainText, test: testText, step: stepText } };
}

/**
 * The windows over data spanning [from, end) (epoch ms): window k tests on [from + train + k·step, … + test)
 * right after its training window, which is [that − train, that) rolling, or [from, that) anchored. Only
 * windows whose test fits in the data are kept.
 */
export function windowsOf(spec: WalkForwardSpec, from: number, end: number): WindowBounds[] {
  const out: WindowBounds[] = [];
  for (let k = 0; ; k++) {
    const testFrom = from + spec.train + k * spec.step;
    const testTo = testFrom + spec.test;
    if (testTo > end) break;
    out.push({ trainFrom: spec.anchored ? from : testFrom - spec.train, trainTo: testFrom, testFrom, testTo });
  }
  if (out.length === 0) {
    const days = (ms: number): string => `${Math.round((ms / 86_400_000) * 10) / 10} d`;
    throw bad(`the data covers ${days(end - from)}, less than one train and test window (${days(spec.train + spec.test)})`);
  }
  return out;
}

/** Walk-forward efficiency: out-of-sample annualised return ÷ in-sample annualised return; null unless the latter is positive. */
export function efficiency(oosAnnual: number, isAnnual: number): number | null {
  return isAnnual > 0 && Number.isFinite(oosAnnual) ? oosAnnual / isAnnual : null;
}
