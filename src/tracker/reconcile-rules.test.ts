import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareHoldings, netHolding, planAdjustment, planIssues, qtyMatches, type ExchangeHolding, type LedgerHolding, type MatchTolerance } from './reconcile-rules.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
const AT = 1_000_000_000;
const TOL: MatchTolerance = { qtyRel: 1e-6, priceRel: 0.005, graceMs: 60_000, lotOf: () => 0.001 };

let n = 0;
const led = (o: Partial<LedgerHolding>): LedgerHolding => ({ positionId: `p${++n}`, source: 'engine', symbol: BTC, side: 'long', leg: null, qty: 1, entryPrice: 50_000, openedAt: AT - 3_600_000, updatedAt: AT - 3_600_000, ...o });
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

describe('planAdjustment (the exchange as source of truth)', () => {
  const conflictOf = (ledger: LedgerHolding[], exchange: ExchangeHolding[]) => {
    const found = compareHoldings(ledger, exchange, AT, TOL);
    expect(found.map((f) => f.kind)).toEqual(['conflict']);
    return planAdjustment(found[0]!, ledger, AT, TOL);
  };

  it('gives the one engine position the venue size and entry (seed 000: 0.5 @ 25600 against 0.4 @ 25620)', () => {
    const eng = led({ qty: 0.5, entryPrice: 25_600 });
    expect(conflictOf([eng], [ex({ qty: 0.4, entryPrice: 25_620 })])).toEqual({ kind: 'adjust', positionId: eng.positionId, from: { qty: 0.5, entryPrice: 25_600 }, to: { qty: 0.4, entryPrice: 25_620 } });
  });

  it('fixes an entry-only conflict, and adjusts adopted and webapp positions like engine ones', () => {
    const adopted = led({ source: 'exchange', entryPrice: 50_000 });
    expect(conflictOf([adopted], [ex({ entryPrice: 51_000 })])).toMatchObject({ kind: 'adjust', to: { qty: 1, entryPrice: 51_000 } });
    const web = led({ source: 'webapp', qty: 2 });
    expect(conflictOf([web], [ex({ qty: 1.5 })])).toMatchObject({ kind: 'adjust', positionId: web.positionId, to: { qty: 1.5 } });
  });

  it('leaves signal positions as recorded: the adjustable one takes the venue size minus theirs', () => {
    const sig = led({ source: 'signal', qty: 0.3, entryPrice: 25_500 });
    const eng = led({ qty: 0.5, entryPrice: 25_600 });
    expect(conflictOf([sig, eng], [ex({ qty: 0.6, entryPrice: 25_620 })])).toEqual({ kind: 'adjust', positionId: eng.positionId, from: { qty: 0.5, entryPrice: 25_600 }, to: { qty: 0.3, entryPrice: 25_620 } });
    expect(conflictOf([sig], [ex({ qty: 0.6 })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/only signal positions/) });
  });

  it('adjusts none when two adjustable positions share the symbol, or the remainder would flatten or flip', () => {
    expect(conflictOf([led({}), led({ source: 'webapp' })], [ex({ qty: 3 })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/^2 positions the reconciler may adjust share it/) });
    expect(conflictOf([led({ source: 'signal', qty: 1 }), led({ qty: 0.5 })], [ex({ qty: 1 })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/leave nothing/) });
    expect(conflictOf([led({})], [ex({ side: 'short' })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/flip .* from long to short/) });
  });

  it('waits out the grace period of every position involved, counted from its last change', () => {
    const sig = led({ source: 'signal', qty: 0.3, updatedAt: AT - 30_000 });
    expect(conflictOf([sig, led({ qty: 0.5 })], [ex({ qty: 1 })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/grace/) });
    expect(conflictOf([led({ qty: 0.5, updatedAt: AT - 1_000 })], [ex({ qty: 1 })])).toEqual({ kind: 'keep', reason: expect.stringMatching(/grace/) });
    expect(conflictOf([led({ qty: 0.5, updatedAt: AT - 60_000 })], [ex({ qty: 1 })])).toMatchObject({ kind: 'adjust' });
  });

  it('adjusts per leg in hedge mode', () => {
    const long = led({ leg: 'long', qty: 1 });
    const short = led({ leg: 'short', side: 'short', qty: 2 });
    const found = compareHoldings([long, short], [ex({ leg: 'long', qty: 1 }), ex({ leg: 'short', side: 'short', qty: 1.5, entryPrice: 50_100 })], AT, TOL);
    expect(found.map((f) => [f.kind, f.side])).toEqual([['conflict', 'short']]);
    expect(planAdjustment(found[0]!, [long, short], AT, TOL)).toEqual({ kind: 'adjust', positionId: short.positionId, from: { qty: 2, entryPrice: 50_000 }, to: { qty: 1.5, entryPrice: 50_100 } });
  });
});

describe('planAdjustment, as a property', () => {
  const lots = (max: number) => fc.integer({ min: 1, max }).map((n) => n / 1000);
  const sideArb = fc.constantFrom('long' as const, 'short' as const);

  it('after an adjustment the ledger holds what the venue holds; signal positions and sides never change', () => {
    let adjusted = 0;
    fc.assert(
      fc.property(
        fc.array(fc.record({ side: sideArb, qty: lots(900), entryPrice: fc.integer({ min: 20_000, max: 30_000 }) }), { maxLength: 3 }),
        fc.record({ side: sideArb, qty: lots(900), entryPrice: fc.integer({ min: 20_000, max: 30_000 }) }),
        fc.record({ side: sideArb, qty: lots(2_000), entryPrice: fc.integer({ min: 20_000, max: 30_000 }) }),
        fc.constantFrom('engine', 'exchange', 'webapp'),
        (signals, engine, venue, source) => {
          const ledger = [...signals.map((x) => led({ ...x, source: 'signal' })), led({ ...engine, source })];
          const found = compareHoldings(ledger, [ex(venue)], AT, TOL);
          for (const f of found) {
            const adj = planAdjustment(f, ledger, AT, TOL);
            if (adj.kind === 'keep') {
              expect(adj.reason.length).toBeGreaterThan(0);
              continue;
            }
            adjusted += 1;
            const mine = ledger.find((l) => l.positionId === adj.positionId)!;
            expect(mine.source).not.toBe('signal');
            expect(adj.from).toEqual({ qty: mine.qty, entryPrice: mine.entryPrice });
            expect(adj.to.qty).toBeGreaterThan(0);
            const after = ledger.map((l) => (l === mine ? { ...l, qty: adj.to.qty, entryPrice: adj.to.entryPrice } : l));
            const net = netHolding(after);
            expect(net?.side).toBe(venue.side);
            expect(qtyMatches(net?.qty ?? 0, venue.qty, 0.001, 1e-6)).toBe(true);
            // Alone on the symbol it matches the venue outright, entry included.
            if (signals.length === 0) expect(compareHoldings(after, [ex(venue)], AT, TOL)).toEqual([]);
          }
        },
      ),
      { seed: 13, numRuns: 500 },
    );
    expect(adjusted).toBeGreaterThan(100); // the property saw plenty of adjustments, not only refusals
  });
});
