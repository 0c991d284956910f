import type { Kysely } from 'kysely';
import type { Side } from '../core/types.ts';
import type { VenuePosition } from '../core/venue.ts';
import { DEFAULT_SIM_INSTRUMENTS, instrumentOf } from '../exchange/sim/instruments.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { audit, closeExternally, insertIssue, ledgerRows, openIssues, resolveIssues, updateIssue } from '../store/reconciliation.ts';
import type { Database } from '../store/schema.ts';
import { compareHoldings, planIssues, type ExchangeHolding, type Finding, type LedgerHolding, type MatchTolerance } from './reconcile-rules.ts';

/** How the reconciler matches and when it closes a ghost. */
export interface ReconcilePolicy {
  /** Consecutive explicit flat reports before a ghost's engine / adopted positions close (GHOST_FLAT_CHECKS). */
  readonly ghostFlatChecks: number;
  /** A ledger position younger than this (ms) may not be on the exchange yet (RECONCILE_GRACE_S). */
  readonly graceMs: number;
  /** Relative quantity tolerance, on top of one lot. */
  readonly qtyRel: number;
  /** Relative entry price tolerance. */
  readonly priceRel: number;
}

/** Defaults: 2 flat checks, 60 s grace, 1e-6 of the size (plus a lot), 0.5 % of the entry price. */
export const DEFAULT_RECONCILE_POLICY: ReconcilePolicy = Object.freeze({ ghostFlatChecks: 2, graceMs: 60_000, qtyRel: 1e-6, priceRel: 0.005 });

/** What one reconciliation found and did. */
export interface ReconcileResult {
  readonly findings: readonly Finding[];
  /** Positions closed as `closed_externally`. */
  readonly closed: readonly string[];
  /** Issues resolved (their difference is gone). */
  readonly resolved: readonly number[];
}

/** The quantity step of a symbol: the simulated exchange's table (exchanges list the same majors' steps). */
function lotOf(symbol: string): number {
  try {
    return instrumentOf(DEFAULT_SIM_INSTRUMENTS, symbol).lot;
  } catch {
    return 0;
  }
}

/** The ledger's holdings on a target with venue symbols; positions whose symbol means nothing there are left out. */
async function ledgerHoldings(db: Kysely<Database>, userId: number, targetKey: string): Promise<LedgerHolding[]> {
  const exchange = parseTargetKey(targetKey).exchange;
  const out: LedgerHolding[] = [];
  for (const r of await ledgerRows(db, userId, targetKey)) {
    let symbol: string;
    try {
      symbol = venueSymbol(r.symbol, exchange);
    } catch {
      continue;
    }
    out.push({ positionId: r.id, source: r.source, symbol, side: r.side as Side, leg: (r.position_side as Side | null) ?? null, qty: r.qty, entryPrice: r.entry_price, openedAt: r.opened_at });
  }
  return out;
}

const exchangeHolding = (p: VenuePosition): ExchangeHolding => ({ symbol: p.symbol, side: p.side, leg: p.positionSide, qty: p.qty, entryPrice: p.entryPrice });

const toleranceOf = (policy: ReconcilePolicy): MatchTolerance => ({ qtyRel: policy.qtyRel, priceRel: policy.priceRel, graceMs: policy.graceMs, lotOf });

/**
 * What the exchange holds on a target that no ledger position explains, by the reconciler's own rule (the
 * orphans it would find): the dashboard's untracked rows. Reads only.
 */
export async function untrackedHoldings(db: Kysely<Database>, userId: number, targetKey: string, held: readonly ExchangeHolding[], at: number, policy: ReconcilePolicy = DEFAULT_RECONCILE_POLICY): Promise<Finding[]> {
  return compareHoldings(await ledgerHoldings(db, userId, targetKey), held, at, toleranceOf(policy)).filter((f) => f.kind === 'orphan');
}

/**
 * Compares one user's target with what its exchange reported at `at` (epoch ms; a successful snapshot:
 * the positions it lists are all there is) and records the differences: orphans, ghosts (closing engine
 * and adopted positions after enough consecutive flat reports) and conflicts, each with both values.
 * Open issues whose difference is gone are resolved. One transaction.
 */
export async function reconcileTarget(
  db: Kysely<Database>,
  userId: number,
  targetKey: string,
  positions: readonly VenuePosition[],
  at: number,
  policy: ReconcilePolicy = DEFAULT_RECONCILE_POLICY,
): Promise<ReconcileResult> {
  const tol = toleranceOf(policy);
  return db.transaction().execute(async (trx) => {
    const ledger = await ledgerHoldings(trx, userId, targetKey);
    const findings = compareHoldings(ledger, positions.map(exchangeHolding), at, tol);
    const open = await openIssues(trx, userId, targetKey);
    const plan = planIssues(
      open.map((i) => ({ id: i.id, symbol: i.symbol, side: i.side, kind: i.kind, flatChecks: i.flat_checks })),
      findings,
      policy.ghostFlatChecks,
    );
    const dismissed = new Set(open.filter((i) => i.status === 'dismissed').map((i) => i.id));
    const closed: string[] = [];
    for (const s of plan.steps) {
      const f = s.finding;
      const values = {
        ledger_qty: f.ledger?.qty ?? null,
        ledger_price: f.ledger?.price ?? null,
        exchange_qty: f.exchange?.qty ?? null,
        exchange_price: f.exchange?.price ?? null,
        position_ids: JSON.stringify(f.positionIds),
        flat_checks: s.flatChecks,
        detail: JSON.stringify({ ledger_side: f.ledger?.side ?? null, exchange_side: f.exchange?.side ?? null, hedge: f.hedge }),
        last_seen: at,
        // A difference the user dismissed stays dismissed while it lasts.
        status: s.status === 'open' && dismissed.has(s.issueId ?? -1) ? 'dismissed' : s.status,
        ...(s.status === 'closed_externally' ? { resolved_at: at, resolution: 'closed_externally' } : {}),
      };
      if (s.issueId === null) {
        const row = await insertIssue(trx, { user_id: userId, target_key: targetKey, symbol: f.symbol, side: f.side, kind: f.kind, first_seen: at, resolved_at: null, resolution: null, ...values });
        if (f.kind === 'conflict') {
          await audit(trx, userId, f.positionIds, 'reconciler', 'conflict', { issue_id: row.id, target: targetKey, symbol: f.symbol, ledger: f.ledger, exchange: f.exchange }, at);
        }
      } else {
        await updateIssue(trx, s.issueId, values);
      }
      if (s.closeIds.length > 0) {
        const done = await closeExternally(trx, userId, s.closeIds, at);
        await audit(trx, userId, done, 'reconciler', 'closed_externally', { target: targetKey, symbol: f.symbol, flat_checks: s.flatChecks }, at);
        closed.push(...done);
      }
    }
    await resolveIssues(trx, plan.resolve, at);
    return { findings, closed, resolved: plan.resolve };
  });
}
