import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Database, ReconciliationIssuesTable } from './schema.ts';

/** A stored reconciliation issue. */
export type IssueRow = Selectable<ReconciliationIssuesTable>;

/** An open ledger position as it counts on one target (quantity already × the recorder link's multiplier). */
export interface LedgerRow {
  readonly id: string;
  readonly source: string;
  /** As stored: a signal's ticker, an engine's symbol, or a ccxt symbol for adopted positions. */
  readonly symbol: string;
  readonly side: string;
  readonly position_side: string | null;
  /** Base units on this target. */
  readonly qty: number;
  readonly entry_price: number;
  readonly opened_at: number;
  /** Epoch ms of the row's last change. */
  readonly updated_at: number;
}

/**
 * What the ledger holds on a target: open signal positions of recorders linked to it (× the link's
 * multiplier) and open positions carrying the target themselves (engine, adopted); on `sim` targets not
 * the engine positions, which live in the engine's own simulated exchange.
 */
export async function ledgerRows(db: Kysely<Database>, userId: number, targetKey: string): Promise<LedgerRow[]> {
  const cols = ['p.id', 'p.source', 'p.symbol', 'p.side', 'p.position_side', 'p.entry_price', 'p.opened_at', 'p.updated_at'] as const;
  const signal = await db
    .selectFrom('positions as p')
    .innerJoin('recorder_targets as rt', 'rt.recorder_id', 'p.recorder_id')
    .select([...cols, 'p.qty', 'rt.multiplier'])
    .where('p.user_id', '=', userId)
    .where('p.status', '=', 'open')
    .where('p.target_key', 'is', null)
    .where('rt.target_key', '=', targetKey)
    .execute();
  let ownQuery = db.selectFrom('positions as p').select([...cols, 'p.qty']).where('p.user_id', '=', userId).where('p.status', '=', 'open').where('p.target_key', '=', targetKey);
  // The server's simulated account holds what the server executed. An engine reporting a `sim` target
  // trades its own simulated exchange (the paper runtime's, in its process): its events and positions
  // API keep those positions in step, the server's sim account cannot.
  if (targetKey.startsWith('sim:')) ownQuery = ownQuery.where('p.source', '!=', 'engine');
  const own = await ownQuery.execute();
  return [...signal.map(({ multiplier, ...r }) => ({ ...r, qty: r.qty * multiplier })), ...own].sort((a, b) => a.opened_at - b.opened_at || (a.id < b.id ? -1 : 1));
}

/** Unresolved issues of one user's target: open ones and those the user dismissed (kept, so a dismissed difference stays dismissed). */
export async function openIssues(db: Kysely<Database>, userId: number, targetKey: string): Promise<IssueRow[]> {
  return db.selectFrom('reconciliation_issues').selectAll().where('user_id', '=', userId).where('target_key', '=', targetKey).where('status', 'in', ['open', 'dismissed']).orderBy('id').execute();
}

/** Stores a new issue. */
export async function insertIssue(db: Kysely<Database>, row: Insertable<ReconciliationIssuesTable>): Promise<IssueRow> {
  return db.insertInto('reconciliation_issues').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Changes an issue. */
export async function updateIssue(db: Kysely<Database>, id: number, patch: Updateable<ReconciliationIssuesTable>): Promise<void> {
  await db.updateTable('reconciliation_issues').set(patch).where('id', '=', id).execute();
}

/** Marks open issues `resolved` (their difference is gone). */
export async function resolveIssues(db: Kysely<Database>, ids: readonly number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('reconciliation_issues').set({ status: 'resolved', resolved_at: now, resolution: 'matched', last_seen: now }).where('id', 'in', [...ids]).where('status', 'in', ['open', 'dismissed']).execute();
}

/** Writes one audit log row per position. */
export async function audit(db: Kysely<Database>, userId: number, positionIds: readonly string[], source: string, action: string, detail: unknown, ts: number): Promise<void> {
  if (positionIds.length === 0) return;
  const text = JSON.stringify(detail);
  await db
    .insertInto('audit_log')
    .values(positionIds.map((position_id) => ({ user_id: userId, position_id, source, action, detail: text, ts })))
    .execute();
}

/**
 * Gives an open engine, adopted or webapp position (never a signal position) the exchange's size (base
 * units) and entry (quote), only if it still has the values the reconciler read (`from`): a fill or an
 * engine event that moved it meanwhile wins, and the next check decides again. True when it changed.
 */
export async function adjustPosition(
  db: Kysely<Database>,
  userId: number,
  id: string,
  from: { readonly qty: number; readonly entryPrice: number },
  to: { readonly qty: number; readonly entryPrice: number },
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('positions')
    .set((eb) => ({
      qty: to.qty,
      entry_price: to.entryPrice,
      max_qty: eb.case().when('max_qty', '<', to.qty).then(to.qty).else(eb.ref('max_qty')).end(),
      updated_at: now,
    }))
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .where('status', '=', 'open')
    .where('source', 'in', ['engine', 'exchange', 'webapp'])
    .where('qty', '=', from.qty)
    .where('entry_price', '=', from.entryPrice)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/**
 * Closes open engine and adopted positions as `closed_externally` (never signal positions); returns the
 * ids actually closed.
 */
export async function closeExternally(db: Kysely<Database>, userId: number, ids: readonly string[], now: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('positions')
    .set({ status: 'closed', close_reason: 'closed_externally', closed_at: now, updated_at: now })
    .where('user_id', '=', userId)
    .where('id', 'in', [...ids])
    .where('status', '=', 'open')
    .where('source', 'in', ['engine', 'exchange', 'webapp'])
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** Filters of an issue listing. */
export interface IssueFilter {
  readonly userId: number;
  /** `open` (default) or `all`. */
  readonly status?: 'open' | 'all';
  readonly targetKey?: string;
  /** Only targets on this exchange (any env). */
  readonly exchange?: string;
  /** Most rows (newest first). */
  readonly limit?: number;
}

/** The user's issues, newest first. */
export async function listIssues(db: Kysely<Database>, f: IssueFilter): Promise<IssueRow[]> {
  let q = db.selectFrom('reconciliation_issues').selectAll().where('user_id', '=', f.userId);
  if ((f.status ?? 'open') === 'open') q = q.where('status', '=', 'open');
  if (f.targetKey !== undefined) q = q.where('target_key', '=', f.targetKey);
  if (f.exchange !== undefined) q = q.where('target_key', 'like', `${f.exchange}:%`);
  return q
    .orderBy('id', 'desc')
    .limit(f.limit ?? 500)
    .execute();
}

/** What an issue's `detail` column carries. */
export interface IssueDetail {
  readonly ledger_side: string | null;
  readonly exchange_side: string | null;
  /** True when the symbol is compared per leg (hedge mode). */
  readonly hedge: boolean;
}

/** Parses an issue's detail JSON (tolerating rows written without it). */
export function issueDetail(r: Pick<IssueRow, 'detail'>): IssueDetail {
  try {
    const d = JSON.parse(r.detail ?? '{}') as Partial<IssueDetail>;
    return { ledger_side: d.ledger_side ?? null, exchange_side: d.exchange_side ?? null, hedge: d.hedge === true };
  } catch {
    return { ledger_side: null, exchange_side: null, hedge: false };
  }
}

/**
 * Adopts an untracked exchange position (an open orphan issue): a position with source and opened_by
 * `exchange`, the exchange's side, size and entry, the target, and `<target>:<symbol>:<side>` as external
 * id; the issue becomes `adopted` and the audit log says who did it. A second adoption is a conflict.
 */
export async function adoptOrphan(db: Kysely<Database>, userId: number, issueId: number, source: string, now: number): Promise<{ issue: IssueRow; positionId: string }> {
  return db.transaction().execute(async (trx) => {
    const issue = await trx.selectFrom('reconciliation_issues').selectAll().where('id', '=', issueId).where('user_id', '=', userId).executeTakeFirst();
    if (!issue) throw new HalyardError('not_found', `no reconciliation issue ${issueId}`);
    if (issue.kind !== 'orphan') throw new HalyardError('conflict', `issue ${issueId} is a ${issue.kind}: only untracked exchange positions (orphans) can be adopted`);
    if (issue.status !== 'open') throw new HalyardError('conflict', `issue ${issueId} is ${issue.status}, not open`);
    const d = issueDetail(issue);
    const side = d.exchange_side ?? issue.side;
    const qty = issue.exchange_qty ?? 0;
    const price = issue.exchange_price ?? 0;
    const positionId = `x${issueId}`;
    const taken = await trx
      .updateTable('reconciliation_issues')
      .set({ status: 'adopted', resolved_at: now, resolution: 'adopted', position_ids: JSON.stringify([positionId]) })
      .where('id', '=', issueId)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) throw new HalyardError('conflict', `issue ${issueId} was just adopted or resolved`);
    await trx
      .insertInto('positions')
      .values({
        id: positionId,
        user_id: userId,
        recorder_id: null,
        target_key: issue.target_key,
        source: 'exchange',
        opened_by: 'exchange',
        strategy: null,
        symbol: issue.symbol,
        side,
        position_side: d.hedge ? issue.side : null,
        status: 'open',
        qty,
        max_qty: qty,
        entry_price: price,
        realized_pnl: 0,
        fees: 0,
        funding: 0,
        max_adverse: 0,
        stop_loss: null,
        take_profit: null,
        last_price: null,
        // First seen, not the adoption time: the exchange held it since at least then.
        opened_at: issue.first_seen,
        closed_at: null,
        exit_price: null,
        avg_exit_price: null,
        exited_qty: 0,
        updated_at: now,
        external_id: `${issue.target_key}:${issue.symbol}:${issue.side}`,
        engine_source_id: null,
        close_reason: null,
        strategy_id: null,
      })
      .execute();
    await trx.insertInto('position_entries').values({ position_id: positionId, kind: 'open', qty, price, realized_pnl: 0, ts: now, signal_id: null }).execute();
    await audit(trx, userId, [positionId], source, 'adopted', { issue_id: issueId, target: issue.target_key, symbol: issue.symbol, side, qty, entry_price: price }, now);
    const after = await trx.selectFrom('reconciliation_issues').selectAll().where('id', '=', issueId).executeTakeFirstOrThrow();
    return { issue: after, positionId };
  });
}

/** Dismisses an open issue: off the open list while the difference lasts (the reconciler keeps it dismissed); resolved when it goes away. */
export async function dismissIssue(db: Kysely<Database>, userId: number, issueId: number, now: number): Promise<IssueRow> {
  const issue = await db.selectFrom('reconciliation_issues').selectAll().where('id', '=', issueId).where('user_id', '=', userId).executeTakeFirst();
  if (!issue) throw new HalyardError('not_found', `no reconciliation issue ${issueId}`);
  if (issue.status !== 'open') throw new HalyardError('conflict', `issue ${issueId} is ${issue.status}, not open`);
  await db.updateTable('reconciliation_issues').set({ status: 'dismissed', resolved_at: now, resolution: 'dismissed' }).where('id', '=', issueId).where('status', '=', 'open').execute();
  await audit(db, userId, issue.position_ids ? (JSON.parse(issue.position_ids) as string[]) : [], 'webapp', 'issue_dismissed', { issue_id: issueId, kind: issue.kind, target: issue.target_key, symbol: issue.symbol }, now);
  return db.selectFrom('reconciliation_issues').selectAll().where('id', '=', issueId).executeTakeFirstOrThrow();
}
