import type { Insertable, Kysely, Selectable } from 'kysely';
import { envsOf, parseTargetKey, type TradingMode } from '../exchange/targets.ts';
import type { Database, SnapshotsTable } from './schema.ts';

/** A stored exchange snapshot (one point of a target's equity history, or a failed fetch). */
export type SnapshotRow = Selectable<SnapshotsTable>;

/** Stores one snapshot row and returns it. */
export async function insertSnapshot(db: Kysely<Database>, row: Insertable<SnapshotsTable>): Promise<SnapshotRow> {
  return db.insertInto('snapshots').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Filters of an equity history query. */
export interface SnapshotFilter {
  readonly userId: number;
  /** Only this target (`exchange:env`). */
  readonly targetKey?: string;
  /** Only targets on this exchange (any env). */
  readonly exchange?: string;
  /** Epoch ms, inclusive. */
  readonly from?: number;
  /** Epoch ms, inclusive. */
  readonly to?: number;
  /** `ok` (default: the equity history) or `all` (failed fetches too). */
  readonly status?: 'ok' | 'all';
  /** Most rows returned (newest kept). */
  readonly limit?: number;
}

/** The user's snapshots, oldest first per target. */
export async function listSnapshots(db: Kysely<Database>, f: SnapshotFilter): Promise<SnapshotRow[]> {
  let q = db.selectFrom('snapshots').selectAll().where('user_id', '=', f.userId);
  if ((f.status ?? 'ok') === 'ok') q = q.where('status', '=', 'ok');
  if (f.targetKey !== undefined) q = q.where('target_key', '=', f.targetKey);
  if (f.exchange !== undefined) q = q.where('target_key', 'like', `${f.exchange}:%`);
  if (f.from !== undefined) q = q.where('ts', '>=', f.from);
  if (f.to !== undefined) q = q.where('ts', '<=', f.to);
  const rows = await q
    .orderBy('ts', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit ?? 10_000)
    .execute();
  return rows.reverse().sort((a, b) => (a.target_key < b.target_key ? -1 : a.target_key > b.target_key ? 1 : 0));
}

/** Time (epoch ms) of the latest successful snapshot of a target with `trigger`, or null. */
export async function lastSnapshotAt(db: Kysely<Database>, userId: number, targetKey: string, trigger: string): Promise<number | null> {
  const r = await db
    .selectFrom('snapshots')
    .select((eb) => eb.fn.max('ts').as('ts'))
    .where('user_id', '=', userId)
    .where('target_key', '=', targetKey)
    .where('trigger', '=', trigger)
    .where('status', '=', 'ok')
    .executeTakeFirst();
  return r?.ts === null || r?.ts === undefined ? null : Number(r.ts);
}

/** A user × target the monitor looks at. */
export interface TrackedTarget {
  readonly userId: number;
  readonly targetKey: string;
}

/**
 * Every user × target the monitor visits: targets where the user has an account, a linked (live)
 * recorder, or open positions; only in the envs of the user's trading_mode; an exchange target only with
 * an account (there is nothing to read it with otherwise), a `sim` target always.
 */
export async function trackedTargets(db: Kysely<Database>): Promise<TrackedTarget[]> {
  const users = await db.selectFrom('users').select(['id', 'trading_mode']).execute();
  const accounts = await db.selectFrom('accounts').select(['user_id', 'target_key']).distinct().execute();
  const links = await db
    .selectFrom('recorder_targets as rt')
    .innerJoin('recorders as r', 'r.id', 'rt.recorder_id')
    .select(['r.user_id as user_id', 'rt.target_key as target_key'])
    .where('r.deleted_at', 'is', null)
    .distinct()
    .execute();
  const held = await db.selectFrom('positions').select(['user_id', 'target_key']).where('status', '=', 'open').where('target_key', 'is not', null).distinct().execute();
  const withAccount = new Set(accounts.map((a) => `${a.user_id}|${a.target_key}`));
  const modes = new Map(users.map((u) => [u.id, u.trading_mode as TradingMode]));
  const seen = new Set<string>();
  const out: TrackedTarget[] = [];
  for (const r of [...accounts, ...links, ...held]) {
    if (r.target_key === null) continue;
    const key = `${r.user_id}|${r.target_key}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const mode = modes.get(r.user_id);
    if (!mode) continue;
    const t = parseTargetKey(r.target_key);
    if (!envsOf(mode).includes(t.env)) continue;
    if (t.exchange !== 'sim' && !withAccount.has(key)) continue;
    out.push({ userId: r.user_id, targetKey: t.key });
  }
  return out.sort((a, b) => a.userId - b.userId || (a.targetKey < b.targetKey ? -1 : a.targetKey > b.targetKey ? 1 : 0));
}
