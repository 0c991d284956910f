import type { Kysely } from 'kysely';
import type { Side } from '../core/types.ts';
import type { VenuePosition } from '../core/venue.ts';
import { DEFAULT_SIM_INSTRUMENTS, instrumentOf } from '../exchange/sim/instruments.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { adjustPosition, audit, closeExternally, insertIssue, ledgerRows, openIssues, resolveIssues, updateIssue, type IssueRow } from '../store/reconciliation.ts';
import type { Database } from '../store/schema.ts';
import { targetSettings, type ConflictPolicy } from '../store/target-settings.ts';
import { compareHoldings, planAdjustment, planIssues, type ExchangeHolding, type Finding, type Holding, type LedgerHolding, type MatchTolerance, type SizeAndEntry } from './reconcile-rules.ts';

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

/** Where the reconciler says what it found (pino-style: an object, then the message). */
export interface ReconcileLog {
  warn(obj: object, msg: string): void;
}

/** How one reconciliation runs beside its tolerances. */
export interface ReconcileOptions {
  /** Gets a warning with both values for every new or changed conflict. */
  readonly log?: ReconcileLog | undefined;
  /** What a conflict does; by default the target's setting (`target_settings`, else the exchange's default). */
  readonly conflictPolicy?: ConflictPolicy | undefined;
}

/** A position that took the exchange's values on a conflict. */
export interface AdjustedPosition {
  readonly positionId: string;
  /** The conflict issue (resolved as `adjusted`). */
  readonly issueId: number;
  /** The ledger's values before (base units, quote). */
  readonly from: SizeAndEntry;
  /** The values it took. */
  readonly to: SizeAndEntry;
}

/** What one reconciliation found and did. */
export interface ReconcileResult {
  readonly findings: readonly Finding[];
  /** Positions closed as `closed_externally`. */
  readonly closed: readonly string[];
  /** Issues resolved (their difference is gone). */
  readonly resolved: readonly number[];
  /** The conflict policy applied. */
  readonly conflictPolicy: ConflictPolicy;
  /** Positions that took the exchange's size and entry (`exchange` policy). */
  readonly adjusted: readonly AdjustedPosition[];
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
    out.push({ positionId: r.id, source: r.source, symbol, side: r.side as Side, leg: (r.position_side as Side | null) ?? null, qty: r.qty, entryPrice: r.entry_price, openedAt: r.opened_at, updatedAt: r.updated_at });
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

const showHolding = (h: Holding | null): string => (h === null ? 'flat' : `${h.side} ${h.qty} @ ${h.price ?? '?'}`);

/** True when a stored conflict already says these values (so the warning was given). */
function sameConflict(i: IssueRow | undefined, f: Finding): boolean {
  return i !== undefined && i.ledger_qty === finiteOrNull(f.ledger?.qty) && i.ledger_price === finiteOrNull(f.ledger?.price) && i.exchange_qty === finiteOrNull(f.exchange?.qty) && i.exchange_price === finiteOrNull(f.exchange?.price);
}

/**
 * A value as an issue row keeps it: a sum or an average over sizes stored before the input limits can be
 * infinite (1e308 × 2) or NaN, and a stored Infinity would make every later read of the issues fail.
 */
function finiteOrNull(n: number | null | undefined): number | null {
  return n !== null && n !== undefined && Number.isFinite(n) ? n : null;
}

/**
 * Compares one user's target with what its exchange reported at `at` (epoch ms; a successful snapshot:
 * the positions it lists are all there is) and records the differences: orphans, ghosts (closing engine
 * and adopted positions after enough consecutive flat reports) and conflicts, each with both values.
 * Under the `exchange` conflict policy a conflicting position the reconciler may adjust takes the venue's
 * size and entry (`planAdjustment`), its previous values kept in the audit log. Open issues whose
 * difference is gone are resolved. One transaction; the warnings are logged once it has committed.
 */
export async function reconcileTarget(
  db: Kysely<Database>,
  userId: number,
  targetKey: string,
  positions: readonly VenuePosition[],
  at: number,
  policy: ReconcilePolicy = DEFAULT_RECONCILE_POLICY,
  opts: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const tol = toleranceOf(policy);
  const warnings: { obj: object; msg: string }[] = [];
  const result = await db.transaction().execute(async (trx) => {
    const conflictPolicy = opts.conflictPolicy ?? (await targetSettings(trx, userId, targetKey)).reconcilePolicy;
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
    const adjusted: AdjustedPosition[] = [];
    for (const s of plan.steps) {
      const f = s.finding;
      const prior = open.find((i) => i.id === s.issueId);
      const values = {
        ledger_qty: finiteOrNull(f.ledger?.qty),
        ledger_price: finiteOrNull(f.ledger?.price),
        exchange_qty: finiteOrNull(f.exchange?.qty),
        exchange_price: finiteOrNull(f.exchange?.price),
        position_ids: JSON.stringify(f.positionIds),
        flat_checks: s.flatChecks,
        detail: JSON.stringify({ ledger_side: f.ledger?.side ?? null, exchange_side: f.exchange?.side ?? null, hedge: f.hedge }),
        last_seen: at,
        // A difference the user dismissed stays dismissed while it lasts.
        status: s.status === 'open' && dismissed.has(s.issueId ?? -1) ? 'dismissed' : s.status,
        ...(s.status === 'closed_externally' ? { resolved_at: at, resolution: 'closed_externally' } : {}),
      };
      let issueId = s.issueId;
      if (issueId === null) {
        const row = await insertIssue(trx, { user_id: userId, target_key: targetKey, symbol: f.symbol, side: f.side, kind: f.kind, first_seen: at, resolved_at: null, resolution: null, ...values });
        issueId = row.id;
        if (f.kind === 'conflict') {
          await audit(trx, userId, f.positionIds, 'reconciler', 'conflict', { issue_id: row.id, target: targetKey, symbol: f.symbol, ledger: f.ledger, exchange: f.exchange }, at);
        }
      } else {
        await updateIssue(trx, issueId, values);
      }
      if (f.kind === 'conflict') {
        const adj = conflictPolicy === 'exchange' ? planAdjustment(f, ledger, at, tol) : null;
        let what = 'recorded (policy record)';
        let done = false;
        if (adj?.kind === 'adjust') {
          done = await adjustPosition(trx, userId, adj.positionId, adj.from, adj.to, at);
          if (done) {
            await audit(trx, userId, [adj.positionId], 'reconciler', 'adjusted', { issue_id: issueId, target: targetKey, symbol: f.symbol, policy: conflictPolicy, before: { qty: adj.from.qty, entry_price: adj.from.entryPrice }, after: { qty: adj.to.qty, entry_price: adj.to.entryPrice }, ledger: f.ledger, exchange: f.exchange }, at);
            await updateIssue(trx, issueId, { status: 'resolved', resolved_at: at, resolution: 'adjusted' });
            adjusted.push({ positionId: adj.positionId, issueId, from: adj.from, to: adj.to });
          }
          what = done ? `${adj.positionId} takes the exchange's values (was ${adj.from.qty} @ ${adj.from.entryPrice})` : `kept: ${adj.positionId} changed meanwhile`;
        } else if (adj?.kind === 'keep') {
          what = `kept: ${adj.reason}`;
        }
        if (done || !sameConflict(prior, f)) {
          warnings.push({
            obj: { user: userId, target: targetKey, symbol: f.symbol, side: f.side, issue: issueId, policy: conflictPolicy, ledger: f.ledger, exchange: f.exchange, positions: f.positionIds, adjusted: done },
            msg: `reconciliation conflict on ${targetKey} ${f.symbol}: ledger ${showHolding(f.ledger)}, exchange ${showHolding(f.exchange)}; ${what}`,
          });
        }
      }
      if (s.closeIds.length > 0) {
        const done = await closeExternally(trx, userId, s.closeIds, at);
        await audit(trx, userId, done, 'reconciler', 'closed_externally', { target: targetKey, symbol: f.symbol, flat_checks: s.flatChecks }, at);
        closed.push(...done);
      }
    }
    await resolveIssues(trx, plan.resolve, at);
    return { findings, closed, resolved: plan.resolve, conflictPolicy, adjusted };
  });
  for (const w of warnings) opts.log?.warn(w.obj, w.msg);
  return result;
}
