import { describe, expect, it } from 'vitest';
import type { Position } from '../core/ledger.ts';
import { SignalBook, type EffectiveSignal, type SignalEffect } from './signal-ledger.ts';

/** 2026-01-01T00:00Z; each signal below is one second after the previous one. */
const T = Date.UTC(2026, 0, 1);

/** An effective signal with no target, leg, stop-loss or take-profit unless given. */
function sig(action: EffectiveSignal['action'], qty: number, price: number, extra: Partial<EffectiveSignal> = {}): EffectiveSignal {
  return { action, ticker: 'NQ', qty, price, ts: T, targetSize: null, positionSide: null, stopLoss: null, takeProfit: null, ...extra };
}

function applied(effect: SignalEffect): Extract<SignalEffect, { kind: 'applied' }> {
  if (effect.kind !== 'applied') throw new Error(`expected the signal to apply, it was refused: ${effect.reason}`);
  return effect;
}

function refusal(effect: SignalEffect): string {
  if (effect.kind !== 'refused') throw new Error(`expected a refusal, the signal applied ${effect.changes.length} change(s)`);
  return effect.reason;
}

/** [side, qty, entry price] of a position, the way a trader reads it. */
function brief(p: Position | undefined): [string, number, number] | undefined {
  return p ? [p.side, p.qty, p.entryPrice] : undefined;
}

/** Every open position as [id, side, qty, entry]: a snapshot to compare before and after a refusal. */
function openBook(book: SignalBook): [string, string, number, number][] {
  return book.ledger.open.map((p) => [p.id, p.side, p.qty, p.entryPrice]);
}

describe('SignalBook, one-way', () => {
  it('follows the seed scenario: DCA average, reduce, close, realized 15 + 25 = 40', () => {
    const book = new SignalBook('oneway', 'r1');

    const e1 = applied(book.apply(sig('BUY', 1, 25600, { ts: T })));
    expect(e1.changes.map((c) => c.kind)).toEqual(['opened']);
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 1, 25600]);

    // (25600 × 1 + 25610 × 1) / 2 = 25605
    const e2 = applied(book.apply(sig('BUY', 1, 25610, { ts: T + 1000 })));
    expect(e2.changes.map((c) => c.kind)).toEqual(['increased']);
    const p = book.ledger.find('NQ');
    expect(brief(p)).toEqual(['long', 2, 25605]);
    expect(p?.entries).toEqual([
      { price: 25600, qty: 1, ts: T },
      { price: 25610, qty: 1, ts: T + 1000 },
    ]);

    // (25620 − 25605) × 1 = 15; the average entry of what is left does not move
    const e3 = applied(book.apply(sig('SELL', 1, 25620, { ts: T + 2000 })));
    expect(e3.changes).toHaveLength(1);
    expect(e3.changes[0]).toMatchObject({ kind: 'reduced', qty: 1, price: 25620, realizedPnl: 15 });
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 1, 25605]);
    expect(book.ledger.find('NQ')?.realizedPnl).toBe(15);
    expect(book.realized).toBe(15);

    // CLOSE: (25630 − 25605) × 1 = 25; the position's total is 15 + 25 = 40
    const e4 = applied(book.apply(sig('CLOSE', 1, 25630, { ts: T + 3000 })));
    expect(e4.changes).toHaveLength(1);
    expect(e4.changes[0]).toMatchObject({ kind: 'closed', qty: 1, price: 25630, realizedPnl: 25 });
    const closed = e4.changes[0]?.position;
    expect(closed?.id).toBe('r1-000001');
    expect(closed?.realizedPnl).toBe(40);
    expect(closed?.closedAt).toBe(T + 3000);
    expect(closed?.source).toBe('signal');
    expect(e4.touched).toEqual([closed]);
    expect(book.ledger.open).toEqual([]);
    expect(book.realized).toBe(40);
    expect(book.unrealized()).toBe(0);
  });

  it('flips: SELL 3 against long 1 @ 100 closes it with +10 and opens short 2 @ 110 under a new id', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 1, 100)));
    const e = applied(book.apply(sig('SELL', 3, 110, { ts: T + 1000 })));
    // closes 1: (110 − 100) × 1 = +10; the other 2 open a short at 110
    expect(e.changes.map((c) => [c.kind, c.position.id, c.qty])).toEqual([
      ['closed', 'r1-000001', 1],
      ['opened', 'r1-000002', 2],
    ]);
    expect(e.changes[0]).toMatchObject({ realizedPnl: 10 });
    expect(book.ledger.open.map((p) => p.id)).toEqual(['r1-000002']);
    expect(brief(book.ledger.find('NQ'))).toEqual(['short', 2, 110]);
    expect(book.realized).toBe(10);
    expect(e.touched.map((p) => p.id).sort()).toEqual(['r1-000001', 'r1-000002']);
  });

  it('ADD adds to the open side: on a short it sells', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('SELL', 1, 100)));
    const e = applied(book.apply(sig('ADD', 2, 94, { ts: T + 1000 })));
    // short 1 @ 100 + 2 @ 94 → 3 @ (100 + 188) / 3 = 96
    expect(e.changes.map((c) => c.kind)).toEqual(['increased']);
    expect(brief(book.ledger.find('NQ'))).toEqual(['short', 3, 96]);
    expect(book.ledger.open).toHaveLength(1);
  });

  it('refuses ADD while flat, with a reason, and leaves the book as it was', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 1, 100, { ticker: 'BTC' })));
    const before = openBook(book);
    const reason = refusal(book.apply(sig('ADD', 1, 25600)));
    expect(reason).toBe('ADD needs an open NQ position to add to; there is none');
    expect(openBook(book)).toEqual(before);
    // a refusal does not even record the price
    expect(book.lastPrice.has('NQ')).toBe(false);
    expect(book.realized).toBe(0);
    // the next position still gets the next id: the refusal used none
    applied(book.apply(sig('BUY', 1, 25600)));
    expect(book.ledger.find('NQ')?.id).toBe('r1-000002');
  });

  it('moves to the target size instead of adding the quantity, and heals a missed alert', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 2, 100)));

    // target 5 from long 2: buy 3 (not the signal's qty 1) → 5 @ (2 × 100 + 3 × 110) / 5 = 530 / 5 = 106
    const up = applied(book.apply(sig('BUY', 1, 110, { targetSize: 5 })));
    expect(up.changes).toHaveLength(1);
    expect(up.changes[0]).toMatchObject({ kind: 'increased', qty: 3 });
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 5, 106]);

    // target −1: sell 6, closing 5 at (120 − 106) × 5 = 70 and opening short 1 @ 120
    const flip = applied(book.apply(sig('SELL', 1, 120, { targetSize: -1 })));
    expect(flip.changes.map((c) => [c.kind, c.qty])).toEqual([
      ['closed', 5],
      ['opened', 1],
    ]);
    expect(flip.changes[0]).toMatchObject({ realizedPnl: 70 });
    expect(brief(book.ledger.find('NQ'))).toEqual(['short', 1, 120]);

    // target 0 closes the short whatever the action says: (120 − 115) × 1 = 5; total 70 + 5 = 75
    const flat = applied(book.apply(sig('BUY', 1, 115, { targetSize: 0 })));
    expect(flat.changes.map((c) => c.kind)).toEqual(['closed']);
    expect(flat.changes[0]).toMatchObject({ realizedPnl: 5 });
    expect(book.ledger.open).toEqual([]);
    expect(book.realized).toBe(75);

    // already at the target: nothing to do
    expect(applied(book.apply(sig('CLOSE', 1, 116, { targetSize: 0 }))).changes).toEqual([]);

    // missed alert healed: flat, the alert says the strategy is long 3 → open long 3, not the qty 1
    const healed = applied(book.apply(sig('BUY', 1, 200, { targetSize: 3 })));
    expect(healed.changes).toHaveLength(1);
    expect(healed.changes[0]).toMatchObject({ kind: 'opened', qty: 3 });
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 3, 200]);
    expect(book.ledger.find('NQ')?.source).toBe('signal');
  });

  it('refuses position_side on a BUY, SELL or ADD: it is for hedge-mode recorders', () => {
    const book = new SignalBook('oneway', 'r1');
    expect(refusal(book.apply(sig('BUY', 1, 100, { positionSide: 'long' })))).toBe('position_side is for hedge-mode recorders; this recorder is one-way');
    expect(refusal(book.apply(sig('SELL', 1, 100, { positionSide: 'short' })))).toContain('hedge-mode');
    expect(book.ledger.open).toEqual([]);
    expect(book.lastPrice.size).toBe(0);
    applied(book.apply(sig('BUY', 1, 100)));
    expect(refusal(book.apply(sig('ADD', 1, 100, { positionSide: 'long' })))).toContain('hedge-mode');
    expect(book.ledger.find('NQ')?.qty).toBe(1);
  });

  it('accepts position_side with a target size only when they agree', () => {
    const book = new SignalBook('oneway', 'r1');
    // target +2 on the long side: opens long 2
    applied(book.apply(sig('BUY', 1, 100, { positionSide: 'long', targetSize: 2 })));
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 2, 100]);
    // target −1 said to be the long side: a template mix-up, refused, book unchanged
    expect(refusal(book.apply(sig('SELL', 1, 101, { positionSide: 'long', targetSize: -1 })))).toBe('position_side long contradicts target size -1 on a one-way recorder');
    expect(brief(book.ledger.find('NQ'))).toEqual(['long', 2, 100]);
    // "exit short → flat" while long: nothing to exit
    expect(applied(book.apply(sig('CLOSE', 1, 102, { positionSide: 'short', targetSize: 0 }))).changes).toEqual([]);
    expect(book.ledger.find('NQ')?.qty).toBe(2);
    // "exit long → flat" while long: closes, (103 − 100) × 2 = 6
    const e = applied(book.apply(sig('CLOSE', 1, 103, { positionSide: 'long', targetSize: 0 })));
    expect(e.changes.map((c) => c.kind)).toEqual(['closed']);
    expect(book.ledger.open).toEqual([]);
    expect(book.realized).toBe(6);
  });

  it('carries stop-loss and take-profit from the signal onto the opened position', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 1, 100, { stopLoss: 95, takeProfit: 120 })));
    let p = book.ledger.find('NQ');
    expect([p?.stopLoss, p?.takeProfit]).toEqual([95, 120]);

    // an add with only a new stop moves the stop and keeps the take-profit
    applied(book.apply(sig('BUY', 1, 102, { stopLoss: 97 })));
    expect([p?.stopLoss, p?.takeProfit]).toEqual([97, 120]);

    // a reduce does not set levels
    applied(book.apply(sig('SELL', 1, 105, { stopLoss: 50, takeProfit: 60 })));
    expect([p?.qty, p?.stopLoss, p?.takeProfit]).toEqual([1, 97, 120]);

    // a flip sets them on the new position only
    const e = applied(book.apply(sig('SELL', 2, 110, { stopLoss: 115, takeProfit: 90 })));
    const old = e.changes[0]?.position;
    expect([old?.stopLoss, old?.takeProfit]).toEqual([97, 120]);
    p = book.ledger.find('NQ');
    expect([p?.side, p?.stopLoss, p?.takeProfit]).toEqual(['short', 115, 90]);
  });

  it('CANCEL moves no position (it still records its price)', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 2, 100)));
    const e = applied(book.apply(sig('CANCEL', 5, 90, { targetSize: 0, stopLoss: 1, takeProfit: 2 })));
    expect(e.changes).toEqual([]);
    const p = book.ledger.find('NQ');
    expect(brief(p)).toEqual(['long', 2, 100]);
    expect([p?.entries.length, p?.stopLoss, p?.takeProfit, p?.realizedPnl]).toEqual([1, null, null, 0]);
    expect(book.realized).toBe(0);
    // The price of a CANCEL is a price observation like any other: (90 − 100) × 2 = −20.
    expect(book.lastPrice.get('NQ')).toBe(90);
    expect(p?.maxAdverse).toBe(20);
  });
});

describe('SignalBook, max adverse excursion and unrealized PnL', () => {
  it('widens max adverse from a signal that moves nothing, never narrows it, and values at the last price', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 1, 100)));
    expect(book.unrealized()).toBe(0);

    // One-way CLOSE of the short leg while long: no change, but the price 90 is marked.
    const e = applied(book.apply(sig('CLOSE', 1, 90, { positionSide: 'short' })));
    expect(e.changes).toEqual([]);
    const p = book.ledger.find('NQ');
    expect(e.touched).toEqual([p]);
    expect(p?.qty).toBe(1);
    // adverse = −(90 − 100) × 1 = 10
    expect(p?.maxAdverse).toBe(10);
    expect(book.lastPrice.get('NQ')).toBe(90);
    expect(book.unrealized()).toBe(-10);

    // back to 95: the worst seen stays 10; unrealized is (95 − 100) × 1 = −5
    applied(book.apply(sig('CLOSE', 1, 95, { positionSide: 'short' })));
    expect(p?.maxAdverse).toBe(10);
    expect(book.unrealized()).toBe(-5);

    // a price of another ticker does not touch NQ; unrealized sums both: −5 + (2000 − 2000) × 3 = −5
    applied(book.apply(sig('SELL', 3, 2000, { ticker: 'ETH' })));
    expect(book.unrealized()).toBe(-5);
    applied(book.apply(sig('CLOSE', 1, 2100, { ticker: 'ETH', positionSide: 'long' })));
    // short 3 @ 2000 at 2100: (2100 − 2000) × 3 × −1 = −300; total −305; ETH adverse 300, NQ's still 10
    expect(book.unrealized()).toBe(-305);
    expect(book.ledger.find('ETH')?.maxAdverse).toBe(300);
    expect(p?.maxAdverse).toBe(10);
  });

  it('marks before it fills: a DCA buy below the entry counts the drop first', () => {
    const book = new SignalBook('oneway', 'r1');
    applied(book.apply(sig('BUY', 1, 100)));
    // long 1 @ 100 marked at 80 → adverse 20, then the buy makes it 2 @ 90
    applied(book.apply(sig('BUY', 1, 80)));
    const p = book.ledger.find('NQ');
    expect(brief(p)).toEqual(['long', 2, 90]);
    expect(p?.maxAdverse).toBe(20);
    expect(book.unrealized()).toBe(-20); // (80 − 90) × 2
  });
});

describe('SignalBook, hedge mode', () => {
  it('keeps a long and a short leg at once; a SELL on the long leg reduces that leg only', () => {
    const book = new SignalBook('hedge', 'h');
    applied(book.apply(sig('BUY', 2, 100)));
    applied(book.apply(sig('SELL', 1, 105)));
    expect(book.ledger.open.map((p) => [p.id, p.side, p.positionSide, p.qty, p.entryPrice])).toEqual([
      ['h-000001', 'long', 'long', 2, 100],
      ['h-000002', 'short', 'short', 1, 105],
    ]);

    // SELL 1 on the long leg: (110 − 100) × 1 = +10; the short leg stays 1 @ 105
    const e = applied(book.apply(sig('SELL', 1, 110, { positionSide: 'long' })));
    expect(e.changes).toHaveLength(1);
    expect(e.changes[0]).toMatchObject({ kind: 'reduced', realizedPnl: 10 });
    expect(e.changes[0]?.position.id).toBe('h-000001');
    expect(brief(book.ledger.find('NQ', 'long'))).toEqual(['long', 1, 100]);
    expect(brief(book.ledger.find('NQ', 'short'))).toEqual(['short', 1, 105]);
    expect(book.realized).toBe(10);
  });

  it('refuses a BUY on a short leg that is not open', () => {
    const book = new SignalBook('hedge', 'h');
    applied(book.apply(sig('BUY', 1, 100)));
    const before = openBook(book);
    expect(refusal(book.apply(sig('BUY', 1, 101, { positionSide: 'short' })))).toBe('BUY on the short leg reduces it, but NQ has no short leg open');
    expect(openBook(book)).toEqual(before);
    expect(book.lastPrice.get('NQ')).toBe(100);
  });

  it('CLOSE with position_side short closes the short leg only; without it closes both', () => {
    const book = new SignalBook('hedge', 'h');
    applied(book.apply(sig('BUY', 1, 100)));
    applied(book.apply(sig('SELL', 2, 100)));

    // short 2 @ 100 closed at 90: (90 − 100) × 2 × −1 = +20
    const one = applied(book.apply(sig('CLOSE', 1, 90, { positionSide: 'short' })));
    expect(one.changes.map((c) => [c.kind, c.position.side, c.qty])).toEqual([['closed', 'short', 2]]);
    expect(one.changes[0]).toMatchObject({ realizedPnl: 20 });
    expect(book.ledger.open.map((p) => p.side)).toEqual(['long']);

    // open a new short, then CLOSE with no side: long (95 − 100) × 1 = −5, short (95 − 91) × 1 × −1 = −4
    applied(book.apply(sig('SELL', 1, 91)));
    expect(book.ledger.find('NQ', 'short')?.id).toBe('h-000003');
    const both = applied(book.apply(sig('CLOSE', 1, 95)));
    expect(both.changes.map((c) => [c.kind, c.position.id])).toEqual([
      ['closed', 'h-000001'],
      ['closed', 'h-000003'],
    ]);
    expect(both.changes.map((c) => (c.kind === 'closed' ? c.realizedPnl : null))).toEqual([-5, -4]);
    expect(book.ledger.open).toEqual([]);
    // 20 − 5 − 4 = 11
    expect(book.realized).toBe(11);
  });

  it('refuses an ADD that could mean either leg, and adds when position_side says which', () => {
    const book = new SignalBook('hedge', 'h');
    applied(book.apply(sig('BUY', 1, 100)));
    applied(book.apply(sig('SELL', 1, 100)));
    const before = openBook(book);
    expect(refusal(book.apply(sig('ADD', 1, 90)))).toBe('ADD is ambiguous: NQ has a long and a short leg; say position_side');
    expect(openBook(book)).toEqual(before);

    // ADD 1 @ 90 to the short leg: 2 @ (100 + 90) / 2 = 95
    const e = applied(book.apply(sig('ADD', 1, 90, { positionSide: 'short' })));
    expect(e.changes.map((c) => [c.kind, c.position.side])).toEqual([['increased', 'short']]);
    expect(brief(book.ledger.find('NQ', 'short'))).toEqual(['short', 2, 95]);
    expect(brief(book.ledger.find('NQ', 'long'))).toEqual(['long', 1, 100]);
  });

  it('moves one leg to a target size; target 0 without a side closes both', () => {
    const book = new SignalBook('hedge', 'h');
    applied(book.apply(sig('BUY', 1, 100)));
    applied(book.apply(sig('SELL', 1, 100)));
    // target 3 → long leg to 3: buys 2 @ 110 → 3 @ (100 + 220) / 3 = 106.666…
    applied(book.apply(sig('BUY', 1, 110, { targetSize: 3 })));
    expect(book.ledger.find('NQ', 'long')?.qty).toBe(3);
    expect(book.ledger.find('NQ', 'long')?.entryPrice).toBeCloseTo(320 / 3, 9);
    expect(book.ledger.find('NQ', 'short')?.qty).toBe(1);
    applied(book.apply(sig('CLOSE', 1, 110, { targetSize: 0 })));
    expect(book.ledger.open).toEqual([]);
  });
});
