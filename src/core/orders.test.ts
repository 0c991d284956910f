import { describe, expect, it } from 'vitest';
import { isTerminal, nextOrderStatus, transition, type Order } from './orders.ts';

describe('order state machine', () => {
  it('moves only through the table', () => {
    expect(nextOrderStatus('new', 'submit')).toBe('submitted');
    expect(nextOrderStatus('accepted', 'partial_fill')).toBe('partially_filled');
    expect(nextOrderStatus('partially_filled', 'fill')).toBe('filled');
    expect(() => nextOrderStatus('filled', 'cancel')).toThrow(/cannot cancel while filled/);
    expect(() => nextOrderStatus('rejected', 'fill')).toThrow();
    expect(isTerminal('canceled')).toBe(true);
    expect(isTerminal('accepted')).toBe(false);
  });

  it('records the reason and time', () => {
    const o: Order = { id: 'o1', clientId: 'c1', symbol: 'BTC', side: 'buy', type: 'market', qty: 1, price: null, positionSide: null, reduceOnly: false, status: 'new', filledQty: 0, avgFillPrice: Number.NaN, createdAt: 1, updatedAt: 1, reason: null };
    transition(o, 'reject', 5, 'insufficient margin');
    expect(o).toMatchObject({ status: 'rejected', updatedAt: 5, reason: 'insufficient margin' });
  });
});
