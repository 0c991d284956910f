import { describe, expect, it } from 'vitest';
import { floorQty, roundPrice } from './round.ts';

describe('rounding to tick and lot', () => {
  it('rounds prices to the nearest tick without binary noise', () => {
    expect(roundPrice(101.101000001, 0.1)).toBe(101.1);
    expect(roundPrice(0.1 + 0.2, 0.1)).toBe(0.3);
    expect(roundPrice(25605.04, 0.5)).toBe(25605);
    expect(roundPrice(1.23456, 0.0001)).toBe(1.2346);
    expect(roundPrice(42, 0)).toBe(42);
  });
  it('floors quantities to whole lots, tolerating float error', () => {
    expect(floorQty(0.0029999999999999996, 0.001)).toBe(0.003); // float noise, not a smaller quantity
    expect(floorQty(0.0029999, 0.001)).toBe(0.002);
    expect(floorQty(0.0025, 0.001)).toBe(0.002);
    expect(floorQty(19.99, 1)).toBe(19);
    expect(floorQty(0.3, 0.1)).toBe(0.3);
  });
});
