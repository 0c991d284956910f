import type { Kysely, Selectable } from 'kysely';
import type { AuditLogTable, Database } from './schema.ts';

/** A stored audit row. */
export type AuditRow = Selectable<AuditLogTable>;

/** One change of a position: who (`source`), what (`action`), the detail (stored as JSON). */
export interface AuditEntry {
  readonly userId: number;
  readonly positionId: string;
  /** `engine`, `signal`, `webapp`, `exchange`, `reconciler`, ... */
  readonly source: string;
  /** `opened`, `updated`, `closed`, ... */
  readonly action: string;
  readonly detail: Readonly<Record<string, unknown>> | null;
  /** Epoch ms. */
  readonly ts: number;
}

/** Appends one audit row (inside the caller's transaction, beside the change it describes). */
export async function insertAudit(db: Kysely<Database>, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ user_id: e.userId, position_id: e.positionId, source: e.source, action: e.action, detail: e.detail === null ? null : JSON.stringify(e.detail), ts: e.ts })
    .execute();
}

/** The audit log of one of the user's positions, oldest first. */
export async function auditOfPosition(db: Kysely<Database>, userId: number, positionId: string): Promise<AuditRow[]> {
  return db.selectFrom('audit_log').selectAll().where('user_id', '=', userId).where('position_id', '=', positionId).orderBy('id').execute();
}
