import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** Topics of the live push: which API reads a change may have made stale. */
export const TOPICS = ['positions', 'orders', 'signals', 'trades', 'strategies', 'snapshots', 'reconciliation'] as const;
/** One topic of the live push. */
export type Topic = (typeof TOPICS)[number];

type Fingerprint = Record<Topic, string>;

/**
 * What one user's data looks like now, one cheap aggregate per table. Comparing two of them tells which
 * topics changed, whoever changed them: this server's intake, jobs and dispatcher, a CLI rebuild or a
 * second process on the same database.
 */
export async function fingerprint(db: Kysely<Database>, userId: number): Promise<Fingerprint> {
  const agg = async (table: keyof Database & string, col: string): Promise<string> => {
    const { rows } = await sql<{ n: number | string; m: number | string | null }>`select count(*) as n, max(${sql.ref(col)}) as m from ${sql.table(table)} where user_id = ${userId}`.execute(db);
    return `${String(rows[0]?.n)}:${String(rows[0]?.m)}`;
  };
  const [positions, orders, signals, trades, snapshots, reconciliation] = await Promise.all([
    agg('positions', 'updated_at'),
    agg('order_intents', 'updated_at'),
    agg('signals', 'id'),
    agg('trades', 'id'),
    agg('snapshots', 'id'),
    agg('reconciliation_issues', 'last_seen'),
  ]);
  const resolved = await db
    .selectFrom('reconciliation_issues')
    .select(sql<string>`count(*)`.as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return { positions, orders, signals, trades, strategies: `${positions}|${trades}`, snapshots, reconciliation: `${reconciliation}|${String(resolved.n)}` };
}

/** Topics whose aggregate differs between two fingerprints. */
export function changedTopics(a: Fingerprint, b: Fingerprint): Topic[] {
  return TOPICS.filter((t) => a[t] !== b[t]);
}
