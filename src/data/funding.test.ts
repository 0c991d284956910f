import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadFundingCsv } from './funding.ts';

const dir = mkdtempSync(join(tmpdir(), 'halyard-funding-'));

describe('funding rate CSV', () => {
  it('reads epoch ms or ISO times with an optional header', () => {
    const f = join(dir, 'rates.csv');
    writeFileSync(f, 'timestamp,rate\n1704067200000,0.0001\n2024-01-01T08:00:00Z,-0.0002\n');
    const s = loadFundingCsv(f);
    expect(Array.from(s.ts)).toEqual([1704067200000, 1704096000000]);
    expect(Array.from(s.rate)).toEqual([0.0001, -0.0002]);
  });
  it('names the line of a bad row and refuses unordered times', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, '1704067200000,0.0001\n1704096000000,abc\n');
    expect(() => loadFundingCsv(bad)).toThrow(/bad\.csv:2: expected timestamp,rate/);
    const unordered = join(dir, 'unordered.csv');
    writeFileSync(unordered, '1704096000000,0.0001\n1704067200000,0.0001\n');
    expect(() => loadFundingCsv(unordered)).toThrow(/:2: timestamps must increase/);
  });
});
