import { floorQty } from '../core/round.ts';
import { sideSign, type Side } from '../core/types.ts';

/** One open ledger position as it counts on a target (signal positions already × the link's multiplier). */
export interface LedgerHolding {
  readonly positionId: string;
  /** `signal`, `engine` or `exchange` (adopted). */
  readonly source: string;
  /** ccxt unified symbol on the target's exchange. */
  readonly symbol: string;
  readonly side: Side;
  /** Hedge leg, null in one-way mode. */
  readonly leg: Side | null;
  /** Quantity on this target (base units, > 0). */
  readonly qty: number;
  /** Average entry (quote). */
  readonly entryPrice: number;
  /** Epoch ms. */
  readonly openedAt: number;
  /** Epoch ms of the row's last change (an engine event, a fill, a signal). */
  readonly updatedAt: number;
}

/** One position (or hedge leg) the exchange reported. */
export interface ExchangeHolding {
  readonly symbol: string;
  readonly side: Side;
  readonly leg: Side | null;
  /** Base units, > 0. */
  readonly qty: number;
  /** Average entry (quote). */
  readonly entryPrice: number;
}

/** How close the ledger and the exchange must be to match. */
export interface MatchTolerance {
  /** Relative quantity tolerance (e.g. 1e-6), on top of the lot. */
  readonly qtyRel: number;
  /** Relative entry price tolerance (e.g. 0.005 = 0.5 %). */
  readonly priceRel: number;
  /** Ledger positions opened less than this before the snapshot (ms) may not be on the exchange yet. */
  readonly graceMs: number;
  /** Quantity step of a symbol (base units): a difference below one lot is rounding, not a conflict. */
  lotOf(symbol: string): number;
}

/** The three differences between ledger and exchange. */
export type IssueKind = 'orphan' | 'ghost' | 'conflict';

/** One side's holding of a symbol (or leg): side, quantity (base units), average entry (quote, null when unknown). */
export interface Holding {
  readonly side: Side;
  readonly qty: number;
  readonly price: number | null;
}

/** A difference found by one comparison. */
export interface Finding {
  readonly symbol: string;
  /** The leg in hedge mode; in one-way mode the side held (the exchange's, or the ledger's for a ghost). */
  readonly side: Side;
  readonly kind: IssueKind;
  /** True when the symbol was compared per leg. */
  readonly hedge: boolean;
  readonly ledger: Holding | null;
  readonly exchange: Holding | null;
  /** Ledger positions involved. */
  readonly positionIds: readonly string[];
  /** Those the reconciler may close or adjust (engine, adopted, webapp); signal positions are the recorder's record. */
  readonly closableIds: readonly string[];
}

/**
 * True when two quantities (base units) are the same: within the relative tolerance, or less than one lot
 * apart (what rounding an order to the lot can cause; a whole lot is a real difference).
 */
export function qtyMatches(a: number, b: number, lot: number, rel: number): boolean {
  const d = Math.abs(a - b);
  return d <= rel * Math.max(Math.abs(a), Math.abs(b)) || d < lot * (1 - 1e-9);
}

/** True when two entry prices (quote) are the same within the relative tolerance. */
export function priceMatches(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/** Net holding of some positions: signed quantity summed, entry averaged over those on the net side. */
export function netHolding(items: readonly { side: Side; qty: number; entryPrice: number }[]): Holding | null {
  let signed = 0;
  for (const i of items) signed += sideSign(i.side) * i.qty;
  if (signed === 0) return null;
  const side: Side = signed > 0 ? 'long' : 'short';
  let q = 0;
  let v = 0;
  for (const i of items) {
    if (i.side !== side) continue;
    q += i.qty;
    v += i.qty * i.entryPrice;
  }
  return { side, qty: Math.abs(signed), price: q > 0 ? v / q : null };
}

/** The kind of difference between a ledger holding and an exchange holding, or null when they match. */
export function differenceOf(ledger: Holding | null, exchange: Holding | null, lot: number, tol: MatchTolerance): IssueKind | null {
  const lHeld = ledger !== null && !qtyMatches(ledger.qty, 0, lot, tol.qtyRel);
  const eHeld = exchange !== null && !qtyMatches(exchange.qty, 0, lot, tol.qtyRel);
  if (!lHeld && !eHeld) return null;
  if (lHeld && !eHeld) return 'ghost';
  if (!lHeld && eHeld) return 'orphan';
  const l = ledger as Holding;
  const e = exchange as Holding;
  if (l.side !== e.side || !qtyMatches(l.qty, e.qty, lot, tol.qtyRel)) return 'conflict';
  if (l.price !== null && e.price !== null && !priceMatches(l.price, e.price, tol.priceRel)) return 'conflict';
  return null;
}

const CLOSABLE = new Set(['engine', 'exchange', 'webapp']);

/**
 * Compares the ledger with the exchange on one target at `at` (epoch ms of the snapshot). Matching is by
 * symbol, and per leg when either side holds that symbol in hedge mode; in one-way mode quantities are
 * netted (long +, short −). A difference that disappears when ledger positions younger than the grace
 * window are left out is not a difference yet. Symbols `covers` says the answer did not include are not
 * compared at all.
 */
export function compareHoldings(
  ledger: readonly LedgerHolding[],
  exchange: readonly ExchangeHolding[],
  at: number,
  tol: MatchTolerance,
  covers: (symbol: string) => boolean = () => true,
): Finding[] {
  const symbols = [...new Set([...ledger.map((l) => l.symbol), ...exchange.map((e) => e.symbol)])].filter(covers).sort();
  const out: Finding[] = [];
  for (const symbol of symbols) {
    const mine = ledger.filter((l) => l.symbol === symbol);
    const theirs = exchange.filter((e) => e.symbol === symbol);
    const hedge = mine.some((l) => l.leg !== null) || theirs.some((e) => e.leg !== null);
    const buckets: (Side | null)[] = hedge ? ['long', 'short'] : [null];
    for (const leg of buckets) {
      const inLeg = <T extends { leg: Side | null; side: Side }>(x: T): boolean => leg === null || (x.leg ?? x.side) === leg;
      const l = mine.filter(inLeg);
      const e = netHolding(theirs.filter(inLeg));
      const full = netHolding(l);
      const lot = tol.lotOf(symbol);
      const kind = differenceOf(full, e, lot, tol);
      if (kind === null) continue;
      const settled = l.filter((x) => x.openedAt <= at - tol.graceMs);
      if (settled.length < l.length && differenceOf(netHolding(settled), e, lot, tol) === null) continue;
      const side = leg ?? (kind === 'ghost' ? (full as Holding).side : (e as Holding).side);
      out.push({
        symbol,
        side,
        kind,
        hedge,
        ledger: full,
        exchange: e,
        positionIds: l.map((x) => x.positionId),
        closableIds: l.filter((x) => CLOSABLE.has(x.source)).map((x) => x.positionId),
      });
    }
  }
  return out;
}

/** An issue still open in the store. */
export interface OpenIssue {
  readonly id: number;
  readonly symbol: string;
  readonly side: string;
  readonly kind: string;
  readonly flatChecks: number;
}

/** What to do with one finding: open a new issue or update the open one, and which positions to close. */
export interface IssueStep {
  /** The open issue it continues, or null for a new one. */
  readonly issueId: number | null;
  readonly finding: Finding;
  /** Consecutive explicit flat reports (ghosts), this one included; 0 otherwise. */
  readonly flatChecks: number;
  /** Ledger positions to close as `closed_externally` now. */
  readonly closeIds: readonly string[];
  /** `closed_externally` when every position of a ghost is closed now, else `open`. */
  readonly status: 'open' | 'closed_externally';
}

/** The steps of one reconciliation: findings to record, open issues whose difference is gone. */
export interface IssuePlan {
  readonly steps: readonly IssueStep[];
  /** Open issues to mark `resolved`. */
  readonly resolve: readonly number[];
}

const keyOf = (x: { symbol: string; side: string; kind: string }): string => `${x.symbol}|${x.side}|${x.kind}`;

/**
 * Turns findings into issue changes. A ghost counts one more explicit flat report; once it has
 * `ghostFlatChecks` of them its engine and adopted positions are closed (signal positions never are: such
 * a ghost stays open). An open issue of a covered symbol without a finding is resolved; issues of symbols
 * the answer did not cover are left as they are.
 */
export function planIssues(open: readonly OpenIssue[], findings: readonly Finding[], ghostFlatChecks: number, covers: (symbol: string) => boolean = () => true): IssuePlan {
  const byKey = new Map(open.map((i) => [keyOf(i), i]));
  const seen = new Set<string>();
  const steps: IssueStep[] = findings.map((f) => {
    const key = keyOf(f);
    seen.add(key);
    const prior = byKey.get(key);
    const flatChecks = f.kind === 'ghost' ? (prior?.flatChecks ?? 0) + 1 : 0;
    const due = f.kind === 'ghost' && flatChecks >= ghostFlatChecks;
    const closeIds = due ? f.closableIds : [];
    const all = due && f.closableIds.length === f.positionIds.length;
    return { issueId: prior?.id ?? null, finding: f, flatChecks, closeIds, status: all ? 'closed_externally' : 'open' };
  });
  const resolve = open.filter((i) => covers(i.symbol) && !seen.has(keyOf(i))).map((i) => i.id);
  return { steps, resolve };
}

/** A position's size (base units) and average entry (quote). */
export interface SizeAndEntry {
  readonly qty: number;
  readonly entryPrice: number;
}

/** What a conflict does to the ledger under the `exchange` policy: one position takes the venue's values, or nothing changes (and why). */
export type Adjustment =
  | { readonly kind: 'adjust'; readonly positionId: string; readonly from: SizeAndEntry; readonly to: SizeAndEntry }
  | { readonly kind: 'keep'; readonly reason: string };

/**
 * How the ledger follows the exchange on a conflict (`exchange` policy). Only a position the reconciler may
 * adjust (engine, adopted, webapp) changes, and only when it is the only one of the symbol (or leg): it
 * takes the venue's size minus what the signal positions there account for (to the nearest lot), and the
 * venue's entry. Nothing changes while any position involved was opened or changed within the grace window
 * (its orders may still be on their way), when two adjustable positions share the symbol (which one is off
 * is not known), or when the remainder would flatten or flip the position (a flat venue is a ghost's
 * business, checked twice).
 */
export function planAdjustment(f: Finding, ledger: readonly LedgerHolding[], at: number, tol: MatchTolerance): Adjustment {
  const keep = (reason: string): Adjustment => ({ kind: 'keep', reason });
  if (f.kind !== 'conflict' || f.exchange === null) return keep('not a conflict');
  const ids = new Set(f.positionIds);
  const involved = ledger.filter((l) => ids.has(l.positionId));
  const adjustable = involved.filter((l) => CLOSABLE.has(l.source));
  if (adjustable.length === 0) return keep('only signal positions hold it, and they are the recorder\'s record');
  if (adjustable.length > 1) return keep(`${adjustable.length} positions the reconciler may adjust share it (${adjustable.map((a) => a.positionId).join(', ')}), so which one is off is not known`);
  const a = adjustable[0] as LedgerHolding;
  const since = at - tol.graceMs;
  if (involved.some((l) => l.openedAt > since || l.updatedAt > since)) return keep('a position involved changed within the grace period');
  let others = 0;
  for (const l of involved) if (l !== a) others += sideSign(l.side) * l.qty;
  const remainder = sideSign(f.exchange.side) * f.exchange.qty - others;
  const lot = tol.lotOf(f.symbol);
  if (qtyMatches(remainder, 0, lot, tol.qtyRel)) return keep('the signal positions already account for the venue\'s size: it would leave nothing');
  if (Math.sign(remainder) !== sideSign(a.side)) return keep(`it would flip ${a.positionId} from ${a.side} to ${a.side === 'long' ? 'short' : 'long'}`);
  // The nearest whole lot: signal sizes × a link's multiplier need not be whole lots, the venue's are.
  const to = { qty: lot > 0 ? floorQty(Math.abs(remainder) + lot / 2, lot) : Math.abs(remainder), entryPrice: f.exchange.price ?? a.entryPrice };
  if (qtyMatches(a.qty, to.qty, lot, tol.qtyRel) && priceMatches(a.entryPrice, to.entryPrice, tol.priceRel)) return keep(`${a.positionId} already has the venue's values`);
  return { kind: 'adjust', positionId: a.positionId, from: { qty: a.qty, entryPrice: a.entryPrice }, to };
}
