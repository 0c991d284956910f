import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { ApiTokensTable, Database, UsersTable } from './schema.ts';
import { hashToken, newApiToken } from './secrets.ts';

/** A stored API token row (its hash included: never send it as is). */
export type ApiTokenRow = Selectable<ApiTokensTable>;

/** Where a token is in its life. */
export type TokenStatus = 'active' | 'expired' | 'revoked';

/** An API token as lists show it: never the token nor its hash. Times are epoch ms. */
export interface TokenInfo {
  readonly id: number;
  readonly name: string;
  /** First characters of the token (`hly_…`), to tell tokens apart. */
  readonly prefix: string;
  readonly created_at: number;
  readonly last_used_at: number | null;
  readonly expires_at: number | null;
  readonly revoked_at: number | null;
  readonly status: TokenStatus;
}

/** A new token: the secret (shown once) and what lists will show of it. */
export interface IssuedToken {
  readonly token: string;
  readonly info: TokenInfo;
}

/** What a new token gets: a label and an optional expiry (epoch ms, in the future). */
export interface NewToken {
  readonly name?: string;
  readonly expiresAt?: number | null;
}

/** The user and the token of an authenticated request. */
export interface TokenSession {
  readonly user: Selectable<UsersTable>;
  readonly tokenId: number;
}

/** Last use is written only when the stored one is older than this (ms), so requests do not each write. */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** Characters of a token kept as its prefix (`hly_` and 4 of the random part: enough to tell a user's tokens apart). */
const PREFIX_LENGTH = 8;

/** The label of a token made without one (the first token of a user, `users token`). */
export const DEFAULT_TOKEN_NAME = 'default';

const LABEL = /^[\p{L}\p{N} _.:@/-]{1,64}$/u;

/**
 * Epoch ms of an expiry given as an ISO-8601 date or date-time (`2027-01-31`, `2027-01-31T12:00:00Z`; UTC
 * when no zone is given) or as epoch ms; invalid_input naming `what` otherwise.
 */
export function parseExpiry(value: string | number, what = 'expires_at'): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new HalyardError('invalid_input', `${what} must be epoch milliseconds or an ISO date such as 2027-01-31, got ${value}`);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value.trim());
  const ms = m ? Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${m[7] ?? 'Z'}`) : Number.NaN;
  // Date.parse rolls impossible days over (2027-02-30 → March 2): refuse them instead.
  const day = m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
  if (!m || !day || Number.isNaN(ms) || day.getUTCMonth() !== Number(m[2]) - 1 || day.getUTCDate() !== Number(m[3])) {
    throw new HalyardError('invalid_input', `${what} '${value.slice(0, 40)}' is not an ISO date (use 2027-01-31 or 2027-01-31T12:00:00Z)`);
  }
  return ms;
}

/** Epoch ms `days` days after `now` (fractions allowed, up to ten years). */
export function expiryInDays(days: number, now: number, what = 'expires in'): number {
  if (!Number.isFinite(days) || days <= 0 || days > 3650) throw new HalyardError('invalid_input', `${what} must be a number of days above 0 and at most 3650, got ${days}`);
  return now + Math.round(days * 86_400_000);
}

/** The status of a token at `now` (epoch ms): revoked wins over expired. */
export function tokenStatus(t: Pick<ApiTokenRow, 'expires_at' | 'revoked_at'>, now: number): TokenStatus {
  if (t.revoked_at !== null) return 'revoked';
  if (t.expires_at !== null && t.expires_at <= now) return 'expired';
  return 'active';
}

/** What lists show of a token at `now`. */
export function tokenInfo(t: ApiTokenRow, now: number): TokenInfo {
  return { id: t.id, name: t.name, prefix: t.prefix, created_at: t.created_at, last_used_at: t.last_used_at, expires_at: t.expires_at, revoked_at: t.revoked_at, status: tokenStatus(t, now) };
}

/** Issues a named API token for a user; `expiresAt` must lie after `now`. Only its hash is stored. */
export async function issueToken(db: Kysely<Database>, userId: number, t: NewToken, now: number): Promise<IssuedToken> {
  const name = (t.name ?? DEFAULT_TOKEN_NAME).trim();
  if (!LABEL.test(name)) throw new HalyardError('invalid_input', `token name '${name}' must be 1-64 letters, digits, spaces or _.:@/-`);
  const expiresAt = t.expiresAt ?? null;
  if (expiresAt !== null && (!Number.isSafeInteger(expiresAt) || expiresAt <= now)) {
    throw new HalyardError('invalid_input', `the expiry must be a time in the future, got ${Number.isFinite(expiresAt) ? new Date(expiresAt).toISOString() : String(expiresAt)}`);
  }
  const token = newApiToken();
  const row = await db
    .insertInto('api_tokens')
    .values({ user_id: userId, token_hash: hashToken(token), prefix: token.slice(0, PREFIX_LENGTH), created_at: now, name, expires_at: expiresAt, last_used_at: null, revoked_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, info: tokenInfo(row, now) };
}

/** A user's tokens, oldest first, revoked and expired ones included (with their status). */
export async function listTokens(db: Kysely<Database>, userId: number, now: number): Promise<TokenInfo[]> {
  const rows = await db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => tokenInfo(r, now));
}

/**
 * Revokes one of a user's tokens, named by its id, its prefix or the whole token; it answers 401 from
 * the next request on. Another user's token is not_found; revoking twice keeps the first time.
 */
export async function revokeToken(db: Kysely<Database>, userId: number, ref: number | string, now: number): Promise<TokenInfo> {
  const row = await findToken(db, userId, ref);
  if (row.revoked_at !== null) return tokenInfo(row, now);
  const updated = await db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', row.id).where('revoked_at', 'is', null).returningAll().executeTakeFirst();
  return tokenInfo(updated ?? { ...row, revoked_at: now }, now);
}

async function findToken(db: Kysely<Database>, userId: number, ref: number | string): Promise<ApiTokenRow> {
  const text = String(ref).trim();
  const mine = db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId);
  if (/^\d{1,15}$/.test(text)) {
    const row = await mine.where('id', '=', Number(text)).executeTakeFirst();
    if (!row) throw new HalyardError('not_found', `no API token ${text} (list yours with: halyard tokens list --user <name>)`);
    return row;
  }
  const rows = await mine.where((eb) => eb.or([eb('prefix', '=', text), eb('token_hash', '=', hashToken(text))])).execute();
  const [row] = rows;
  if (!row) throw new HalyardError('not_found', `no API token with prefix or value '${text.slice(0, PREFIX_LENGTH)}' (list yours with: halyard tokens list --user <name>)`);
  if (rows.length > 1) throw new HalyardError('conflict', `${rows.length} tokens have the prefix '${text}': revoke by id (see halyard tokens list --user <name>)`);
  return row;
}

/**
 * The user a bearer token signs in, at `now`: unknown, revoked and expired tokens are `unauthorized`
 * with a sentence naming the fix. Records the last use when the stored one is a minute old or more.
 */
export async function authenticateToken(db: Kysely<Database>, token: string, now: number): Promise<TokenSession> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('users')
    .select(['api_tokens.id as token_id', 'api_tokens.prefix', 'api_tokens.expires_at', 'api_tokens.revoked_at', 'api_tokens.last_used_at'])
    .where('api_tokens.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) throw new HalyardError('unauthorized', 'unknown API token: sign in with a token this server issued (create one with: halyard tokens add --user <name>)');
  const { token_id: tokenId, prefix, expires_at: expiresAt, revoked_at: revokedAt, last_used_at: lastUsed, ...user } = row;
  const fix = `create a new one with: halyard tokens add --user ${user.name}`;
  if (revokedAt !== null) throw new HalyardError('unauthorized', `API token ${prefix}… was revoked at ${new Date(revokedAt).toISOString()}: ${fix}`);
  if (expiresAt !== null && expiresAt <= now) throw new HalyardError('unauthorized', `API token ${prefix}… expired at ${new Date(expiresAt).toISOString()}: ${fix}`);
  const stale = now - LAST_USED_GRANULARITY_MS;
  if (lastUsed === null || lastUsed <= stale) {
    // The same test in SQL: of concurrent requests that all read the old value, one writes, never backwards.
    // Last use is a courtesy: a write the database refuses now (busy, read-only) must not fail the request.
    await db
      .updateTable('api_tokens')
      .set({ last_used_at: now })
      .where('id', '=', tokenId)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', stale)]))
      .execute()
      .catch(() => undefined);
  }
  return { user, tokenId };
}

/** Which of `ids` are tokens that still sign in at `now` (not revoked, not expired): open streams end for the rest. */
export async function activeTokenIds(db: Kysely<Database>, ids: readonly number[], now: number): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('api_tokens')
    .select('id')
    .where('id', 'in', [...ids])
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .execute();
  return new Set(rows.map((r) => r.id));
}
