import { describe, expect, it } from 'vitest';
import { Ledger } from './ledger.ts';

const T = Date.UTC(2024, 0, 1);

describe('ledger, one-way (netting)', () => {
  it('follows the rules: DCA average, reduce with realized PnL, close flattens', () => {
    const l = new Ledger({ mode: 'oneway' });
    l.apply({ symbol: 'NQ', side: 'buy', qty: 1, price: 25600, ts: T });
    let p = l.find('NQ')!;
    expect([p.side, p.qty, p.entryPrice]).toEqual(['long', 1, 25600]);
    l.apply({ symbol: 'NQ', side: 'buy', qty: 1, price: 25610, ts: T + 1 });
    p = l.find('NQ')!;
    expect([p.side, p.qty, p.entryPrice]).toEqual(['long', 2, 25605]);
    expect(p.entries).toHaveLength(2);
    const r = l.apply({ symbol: 'NQ', side: 'sell', qty: 1, price: 25620, ts: T + 2 });
    expect(r.changes[0]).toMatchObject({ kind: 'reduced', realizedPnl: 15 });
    p = l.find('NQ')!;
    expect([p.qty, p.entryPrice, p.realizedPnl]).toEqual([1, 25605, 15]);
    const closed = l.close('NQ', 25630, T + 3);
    expect(closed[0]).toMatchObject({ kind: 'closed', realizedPnl: 25 });
    expect(l.find('NQ')).toBeUndefined();
    expect(closed[0]!.position.realizedPnl).toBe(40);
    expect(closed[0]!.position.closedAt).toBe(T + 3);
  });

  it('flips with the remainder and splits the fee pro rata', () => {
    const l = new Ledger({ mode: 'oneway' });
    l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: 100, ts: T });
    const r = l.apply({ symbol: 'BTC', side: 'sell', qty: 3, price: 90, ts: T + 1, fee: 3 });
    expect(r.changes.map((c) => c.kind)).toEqual(['closed', 'opened']);
    expect(r.changes[0]).toMatchObject({ realizedPnl: -10 });
    expect(r.changes[0]!.position.fees).toBeCloseTo(1);
    const s = l.find('BTC')!;
    expect([s.side, s.qty, s.entryPrice, s.fees]).toEqual(['short', 2, 90, 2]);
  });

  it('reduce-only never flips and reports the excess', () => {
    const l = new Ledger({ mode: 'oneway' });
    l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: 100, ts: T });
    const r = l.apply({ symbol: 'BTC', side: 'sell', qty: 2, price: 110, ts: T, reduceOnly: true });
    expect(r.changes.map((c) => c.kind)).toEqual(['closed']);
    expect(r.unfilledQty).toBe(1);
    expect(l.open).toHaveLength(0);
    expect(l.apply({ symbol: 'BTC', side: 'sell', qty: 1, price: 110, ts: T, reduceOnly: true }).unfilledQty).toBe(1);
  });

  it('computes the fill toward a target size (heals a missed signal)', () => {
    const l = new Ledger({ mode: 'oneway' });
    l.apply({ symbol: 'BTC', side: 'buy', qty: 2, price: 100, ts: T });
    expect(l.fillToTarget('BTC', -1, 100, T)).toMatchObject({ side: 'sell', qty: 3 });
    expect(l.fillToTarget('BTC', 2, 100, T)).toBeUndefined();
  });

  it('refuses bad fills and positionSide in one-way mode', () => {
    const l = new Ledger({ mode: 'oneway' });
    expect(() => l.apply({ symbol: 'BTC', side: 'buy', qty: 0, price: 100, ts: T })).toThrow(/quantity/);
    expect(() => l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: -1, ts: T })).toThrow(/price/);
    expect(() => l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: 1, ts: T, positionSide: 'long' })).toThrow(/hedge/);
  });
});

describe('ledger, hedge', () => {
  it('keeps a long and a short leg and routes by positionSide', () => {
    const l = new Ledger({ mode: 'hedge' });
    l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: 100, ts: T, positionSide: 'long' });
    l.apply({ symbol: 'BTC', side: 'sell', qty: 2, price: 101, ts: T, positionSide: 'short' });
    expect(l.find('BTC', 'long')).toMatchObject({ qty: 1, entryPrice: 100 });
    expect(l.find('BTC', 'short')).toMatchObject({ qty: 2, entryPrice: 101 });
    // A sell on the long leg reduces it; it never flips into the short leg.
    const r = l.apply({ symbol: 'BTC', side: 'sell', qty: 3, price: 105, ts: T, positionSide: 'long' });
    expect(r.changes).toHaveLength(1);
    expect(r.changes[0]).toMatchObject({ kind: 'closed', realizedPnl: 5 });
    expect(r.unfilledQty).toBe(2);
    expect(l.find('BTC', 'short')).toMatchObject({ qty: 2 });
    const c = l.close('BTC', 99, T, { positionSide: 'short' });
    expect(c[0]).toMatchObject({ kind: 'closed', realizedPnl: 4 });
    expect(l.open).toHaveLength(0);
  });

  it('requires positionSide', () => {
    const l = new Ledger({ mode: 'hedge' });
    expect(() => l.apply({ symbol: 'BTC', side: 'buy', qty: 1, price: 100, ts: T })).toThrow(/positionSide/);
  });
});
