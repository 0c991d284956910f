import { describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { efficiency, parseWalkForward, windowsOf } from './walk-forward.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function refusal(spec: string): string {
  try {
    parseWalkForward(spec);
  } catch (e) {
    expect(isHalyardError(e, 'invalid_input')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`expected "${spec}" to be refused`);
}

describe('walk-forward windows', () => {
  it('reads train, test, step and anchored (step defaults to test)', () => {
    expect(parseWalkForward('train=180d,test=30d')).toMatchObject({ train: 180 * DAY, test: 30 * DAY, step: 30 * DAY, anchored: false });
    expect(parseWalkForward(' train=4w , test=12h, step=1d, anchored ')).toMatchObject({ train: 28 * DAY, test: DAY / 2, step: DAY, anchored: true, text: { train: '4w', test: '12h', step: '1d' } });
    expect(refusal('train=180d')).toMatch(/needs both train= and test=/);
    expect(refusal('train=180d,test=30d,step=10d')).toMatch(/shorter than test=30d, so test windows would overlap/);
    expect(refusal('train=180,test=30d')).toMatch(/cannot read train=180/);
    expect(refusal('train=0d,test=30d')).toMatch(/longer than zero/);
    expect(refusal('train=1d,test=1d,warmup=2d')).toMatch(/unknown part "warmup=2d"/);
  });

  it('rolls: each test window follows its train window, none overlaps its own train window, all fit in the data', () => {
    const w = windowsOf(parseWalkForward('train=20d,test=10d'), T0, T0 + 65 * DAY);
    expect(w.map((x) => [(x.trainFrom - T0) / DAY, (x.trainTo - T0) / DAY, (x.testFrom - T0) / DAY, (x.testTo - T0) / DAY])).toEqual([
      [0, 20, 20, 30], [10, 30, 30, 40], [20, 40, 40, 50], [30, 50, 50, 60],
    ]);
    for (const x of w) expect(x.testFrom).toBeGreaterThanOrEqual(x.trainTo);
    for (let k = 1; k < w.length; k++) expect(w[k]!.testFrom).toBeGreaterThanOrEqual(w[k - 1]!.testTo);
  });

  it('anchors: every train window starts at the data start and grows by the step', () => {
    const w = windowsOf(parseWalkForward('train=20d,test=10d,step=15d,anchored'), T0, T0 + 60 * DAY);
    expect(w.map((x) => [(x.trainFrom - T0) / DAY, (x.trainTo - T0) / DAY, (x.testFrom - T0) / DAY, (x.testTo - T0) / DAY])).toEqual([
      [0, 20, 20, 30], [0, 35, 35, 45], [0, 50, 50, 60],
    ]);
  });

  it('refuses data shorter than one train and test window', () => {
    expect(() => windowsOf(parseWalkForward('train=20d,test=10d'), T0, T0 + 29 * DAY)).toThrow(/covers 29 d, less than one train and test window \(30 d\)/);
  });

  it('efficiency is OOS over IS annualised return, undefined unless IS is positive', () => {
    expect(efficiency(0.1, 0.4)).toBe(0.25);
    expect(efficiency(0.1, 0)).toBeNull();
    expect(efficiency(0.1, -0.2)).toBeNull();
  });
});
