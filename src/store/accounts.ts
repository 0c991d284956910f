import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import type { Database } from './schema.ts';
import type { SecretBox } from './secrets.ts';

/** Exchange credentials of an account (plaintext only in memory, never logged, never returned by the API). */
export interface Credentials {
  readonly apiKey: string;
  readonly secret: string;
  /** Passphrase or wallet address where the exchange needs one. */
  readonly password?: string;
}

/** What the API shows of an account: never the credentials. */
export interface AccountView {
  readonly id: number;
  readonly target: string;
  readonly label: string;
  readonly created_at: number;
}

/** Stores a user's credentials for a target, encrypted. One account per user and target. */
export async function createAccount(db: Kysely<Database>, box: SecretBox, userId: number, targetKey: string, label: string, creds: Credentials, now: number): Promise<AccountView> {
  const target = parseTargetKey(targetKey).key;
  if (!creds.apiKey || !creds.secret) throw new HalyardError('invalid_input', 'an account needs api_key and api_secret');
  const exists = await db.selectFrom('accounts').select('id').where('user_id', '=', userId).where('target_key', '=', target).executeTakeFirst();
  if (exists) throw new HalyardError('conflict', `an account for ${target} exists already (delete it first)`);
  const sealed = box.encrypt(JSON.stringify(creds));
  const row = await db
    .insertInto('accounts')
    .values({ user_id: userId, target_key: target, label: label || target, credentials_enc: sealed, created_at: now })
    .returning(['id', 'target_key', 'label', 'created_at'])
    .executeTakeFirstOrThrow();
  return { id: row.id, target: row.target_key, label: row.label, created_at: row.created_at };
}

/** The user's accounts, without credentials. */
export async function listAccounts(db: Kysely<Database>, userId: number): Promise<AccountView[]> {
  const rows = await db.selectFrom('accounts').select(['id', 'target_key', 'label', 'created_at']).where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => ({ id: r.id, target: r.target_key, label: r.label, created_at: r.created_at }));
}

/** Deletes one of the user's accounts; another user's id is not_found. */
export async function deleteAccount(db: Kysely<Database>, userId: number, id: number): Promise<void> {
  const r = await db.deleteFrom('accounts').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  if (Number(r.numDeletedRows) === 0) throw new HalyardError('not_found', `no account ${id}`);
}

/** Decrypted credentials of the user's account on a target (for the venue adapters), or undefined. */
export async function credentialsFor(db: Kysely<Database>, box: SecretBox, userId: number, targetKey: string): Promise<Credentials | undefined> {
  const key = parseTargetKey(targetKey).key;
  const row = await db.selectFrom('accounts').select('credentials_enc').where('user_id', '=', userId).where('target_key', '=', key).executeTakeFirst();
  return row ? (JSON.parse(box.decrypt(row.credentials_enc)) as Credentials) : undefined;
}
