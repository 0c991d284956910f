import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { parseTargetKey, type ExchangeId } from '../exchange/targets.ts';
import type { Database } from './schema.ts';

/**
 * What a reconciliation conflict does on a target: `exchange` (the exchange is the source of truth: after
 * the grace period the position the reconciler may adjust takes the venue's size and entry) or `record`
 * (the conflict is only recorded, the ledger keeps its values).
 */
export const CONFLICT_POLICIES = ['exchange', 'record'] as const;
/** One of `CONFLICT_POLICIES`. */
export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];

/** True when `s` names a conflict policy. */
export function isConflictPolicy(s: string): s is ConflictPolicy {
  return (CONFLICT_POLICIES as readonly string[]).includes(s);
}

/**
 * The policy of a target nobody set: `exchange` on the ccxt venues (binance, bybit, hyperliquid), whose
 * accounts are the truth; `record` on `sim`, the server's own simulated account.
 */
export function defaultConflictPolicy(exchange: ExchangeId): ConflictPolicy {
  return exchange === 'sim' ? 'record' : 'exchange';
}

/** A user's settings of one target, as they apply (set or default). */
export interface TargetSettings {
  /** `exchange:env`. */
  readonly targetKey: string;
  readonly reconcilePolicy: ConflictPolicy;
  /** True when the user never set it: the exchange's default applies. */
  readonly isDefault: boolean;
  /** When the user last changed it (epoch ms), null for a default. */
  readonly updatedAt: number | null;
}

/** The settings of one of the user's targets (`targetKey` in any form `parseTargetKey` reads). */
export async function targetSettings(db: Kysely<Database>, userId: number, targetKey: string): Promise<TargetSettings> {
  const t = parseTargetKey(targetKey);
  const row = await db.selectFrom('target_settings').selectAll().where('user_id', '=', userId).where('target_key', '=', t.key).executeTakeFirst();
  if (!row || !isConflictPolicy(row.reconcile_policy)) return { targetKey: t.key, reconcilePolicy: defaultConflictPolicy(t.exchange), isDefault: true, updatedAt: null };
  return { targetKey: t.key, reconcilePolicy: row.reconcile_policy, isDefault: false, updatedAt: Number(row.updated_at) };
}

/** Sets the reconciliation policy of one of the user's targets; refuses an unknown policy with one sentence. */
export async function setTargetSettings(db: Kysely<Database>, userId: number, targetKey: string, patch: { readonly reconcilePolicy: string }, now: number): Promise<TargetSettings> {
  const t = parseTargetKey(targetKey);
  const policy = patch.reconcilePolicy;
  if (!isConflictPolicy(policy)) throw new HalyardError('invalid_input', `reconcile_policy must be ${CONFLICT_POLICIES.join(' or ')}, got '${policy}'`);
  await db
    .insertInto('target_settings')
    .values({ user_id: userId, target_key: t.key, reconcile_policy: policy, updated_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'target_key']).doUpdateSet({ reconcile_policy: policy, updated_at: now }))
    .execute();
  return { targetKey: t.key, reconcilePolicy: policy, isDefault: false, updatedAt: now };
}
