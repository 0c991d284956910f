import { describe, expect, it } from 'vitest';
import { compareHoldings, netHolding, planIssues, qtyMatches, type ExchangeHolding, type LedgerHolding, type MatchTolerance } from './reconcile-rules.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
const AT = 1_000_000_000;
const TOL: MatchTolerance = { qtyRel: 1e-6, priceRel: 0.005, graceMs: 60_000, lotOf: () => 0.001 };

let n = 0;
const led = (o: Partial<LedgerHolding>): LedgerHolding => ({ positionId: `p${++n}`, source: 'engine', symbol: BTC, side: 'long', leg: null, qty: 1, entryPrice: 50_000, openedAt: AT - 3_600_000, ...o });
const ex = (o: Partial<ExchangeHolding>): ExchangeHolding => ({ symbol: BTC, side: 'long', leg: null, qty: 1, entryPrice: 50_000, ...o });

describe('quantity and net holdings', () => {
  it('treats less than one lot as rounding and one lot or more as a difference', () => {
    expect(qtyMatches(0.02, 0.0201, 0.001, 1e-6)).toBe(true);
    expect(qtyMatches(0.02, 0.021, 0.001, 1e-6)).toBe(false);
    expect(qtyMatches(1000, 1000.0005, 0, 1e-6)).toBe(true);
    expect(qtyMatches(1000, 1000.01, 0, 1e-6)).toBe(false);
  });

  it('nets one-way quantities signed and averages the entry over the net side', () => {
    expect(netHolding([led({ qty: 2, entryPrice: 100 }), led({ qty: 1, entryPrice: 130 }), led({ side: 'short', qty: 0.5, entryPrice: 999 })])).toEqual({ side: 'long', qty: 2.5, price: 110 });
    expect(netHolding([led({ qty: 1 }), led({ side: 'short', qty: 1 })])).toBeNull();
  });
});

describe('compareHoldings', () => {
  it('finds nothing when the ledger (several sources summed) matches the exchange', () => {
    const ledger = [led({ source: 'signal', qty: 0.5 }), led({ source: 'engine', qty: 0.5 })];
    expect(compareHoldings(ledger, [ex({ qty: 1 })], AT, TOL)).toEqual([]);
  });

  it('reports an orphan with the exchange side, a ghost with the ledger side', () => {
    const orphan = compareHoldings([], [ex({ side: 'short', qty: 2, entryPrice: 3_000, symbol: ETH })], AT, TOL);
    expect(orphan).toEqual([{ symbol: ETH, side: 'short', kind: 'orphan', hedge: false, ledger: null, exchange: { side: 'short', qty: 2, price: 3_000 }, positionIds: [], closableIds: [] }]);
    const sig = led({ source: 'signal', qty: 0.4 });
    const eng = led({ source: 'engine', qty: 0.6 });
    const ghost = compareHoldings([sig, eng], [], AT, TOL);
    expect(ghost).toEqual([expect.objectContaining({ kind: 'ghost', side: 'long', ledger: { side: 'long', qty: 1, price: 50_000 }, exchange: null, positionIds: [sig.positionId, eng.positionId], closableIds: [eng.positionId] })]);
  });

  it('reports a conflict on size, on side and on entry price beyond the tolerance, with both values', () => {
    expect(compareHoldings([led({ qty: 1 })], [ex({ qty: 2 })], AT, TOL)).toEqual([expect.objectContaining({ kind: 'conflict', ledger: { side: 'long', qty: 1, price: 50_000 }, exchange: { side: 'long', qty: 2, price: 50_000 } })]);
    expect(compareHoldings([led({})], [ex({ side: 'short' })], AT, TOL)).toEqual([expect.objectContaining({ kind: 'conflict', side: 'short' })]);
    expect(compareHoldings([led({})], [ex({ entryPrice: 50_100 })], AT, TOL)).toEqual([]); // 0.2 %: within
    expect(compareHoldings([led({})], [ex({ entryPrice: 51_000 })], AT, TOL)).toEqual([expect.objectContaining({ kind: 'conflict' })]);
  });

  it('compares per leg in hedge mode', () => {
    const ledger = [led({ leg: 'long', side: 'long', qty: 1 }), led({ leg: 'short', side: 'short', qty: 1 })];
    const found = compareHoldings(ledger, [ex({ leg: 'long', side: 'long', qty: 1 })], AT, TOL);
    expect(found).toEqual([expect.objectContaining({ kind: 'ghost', side: 'short', hedge: true })]);
    // In one-way mode the same two positions net to flat: nothing is missing.
    expect(compareHoldings([led({ qty: 1 }), led({ side: 'short', qty: 1 })], [], AT, TOL)).toEqual([]);
  });

  it('gives a young ledger position the grace window before it can be a ghost or a conflict', () => {
    const young = led({ openedAt: AT - 10_000 });
    expect(compareHoldings([young], [], AT, TOL)).toEqual([]);
    expect(compareHoldings([led({}), led({ openedAt: AT - 10_000 })], [ex({ qty: 1 })], AT, TOL)).toEqual([]);
    expect(compareHoldings([led({ openedAt: AT - 61_000 })], [], AT, TOL)).toEqual([expect.objectContaining({ kind: 'ghost' })]);
  });

  it('leaves symbols the answer did not cover alone', () => {
    expect(compareHoldings([led({})], [], AT, TOL, (s) => s !== BTC)).toEqual([]);
  });
});

describe('planIssues', () => {
  const ghost = (positionIds: string[], closableIds: string[]) => compareHoldings([], [], AT, TOL).concat([{ symbol: BTC, side: 'long', kind: 'ghost', hedge: false, ledger: { side: 'long', qty: 1, price: 1 }, exchange: null, positionIds, closableIds }]);

  it('counts consecutive flat reports and closes engine positions at the threshold', () => {
    const first = planIssues([], ghost(['e1'], ['e1']), 2);
    expect(first.steps).toEqual([expect.objectContaining({ issueId: null, flatChecks: 1, closeIds: [], status: 'open' })]);
    const second = planIssues([{ id: 7, symbol: BTC, side: 'long', kind: 'ghost', flatChecks: 1 }], ghost(['e1'], ['e1']), 2);
    expect(second.steps).toEqual([expect.objectContaining({ issueId: 7, flatChecks: 2, closeIds: ['e1'], status: 'closed_externally' })]);
  });

  it('never closes signal positions: their ghost stays open', () => {
    const plan = planIssues([{ id: 3, symbol: BTC, side: 'long', kind: 'ghost', flatChecks: 5 }], ghost(['s1', 'e1'], ['e1']), 2);
    expect(plan.steps).toEqual([expect.objectContaining({ flatChecks: 6, closeIds: ['e1'], status: 'open' })]);
  });

  it('resolves open issues whose difference is gone, but not those of uncovered symbols', () => {
    const open = [
      { id: 1, symbol: BTC, side: 'long', kind: 'ghost', flatChecks: 1 },
      { id: 2, symbol: ETH, side: 'short', kind: 'orphan', flatChecks: 0 },
    ];
    expect(planIssues(open, [], 2).resolve).toEqual([1, 2]);
    expect(planIssues(open, [], 2, (s) => s === ETH).resolve).toEqual([2]);
  });
});
