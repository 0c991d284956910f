import { describe, expect, it } from 'vitest';
import { serializeResults, toResultsJson, type ResultsJson } from './results.ts';
import { FIXTURE_START, FIXTURE_SUMMARY, fixtureResult } from './test-fixture.ts';

describe('results.json', () => {
  it('is byte-identical across calls and independent of params insertion order', () => {
    const a = fixtureResult();
    const b = fixtureResult(600, { params: { useStop: true, fast: 50, slow: 200 } });
    const s = serializeResults(a);
    expect(serializeResults(a)).toBe(s);
    expect(serializeResults(b)).toBe(s);
    expect(s.endsWith('}\n')).toBe(true);
    expect(s).not.toMatch(/runId|generatedAt/);
  });

  it('parses back with the summary, the trades (plus ISO times) and the config range', () => {
    const r = fixtureResult();
    const parsed = JSON.parse(serializeResults(r)) as ResultsJson;
    expect(parsed.version).toBe(1);
    expect(parsed.summary).toEqual(FIXTURE_SUMMARY);
    expect(Object.keys(parsed.summary)).toEqual(Object.keys(FIXTURE_SUMMARY));
    expect(parsed.trades).toHaveLength(3);
    const [t1] = parsed.trades;
    expect(t1).toMatchObject({ ...r.trades[0], entryTimeIso: '2024-03-01T00:10:00.000Z', exitTimeIso: '2024-03-01T01:35:00.000Z' });
    expect(parsed.config.fromIso).toBe('2024-03-01T00:00:00.000Z');
    expect(parsed.config.toIso).toBe('2024-03-01T09:59:00.000Z');
    expect(Object.keys(parsed.config.params)).toEqual(['fast', 'slow', 'useStop']);
    expect(parsed.rejections[0]?.tsIso).toBe('2024-03-01T03:20:00.000Z');
    expect(parsed.forcedCloses).toBe(1);
  });

  it('samples the equity curve hourly for a 10-hour run, ending on the last bar', () => {
    const r = fixtureResult();
    const curve = toResultsJson(r).equityCurve;
    expect(curve).toHaveLength(10);
    expect(curve[0]).toEqual({ t: FIXTURE_START + 59 * 60_000, v: r.equity[59] });
    expect(curve.at(-1)).toEqual({ t: r.candles.ts[599], v: r.equity[599] });
  });
});
