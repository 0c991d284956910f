import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { USER_NAME } from '../core/user-name.ts';
import { envOfAccountType, isExchange, TRADING_MODES, type TradingMode } from '../exchange/targets.ts';
import type { Database, UsersTable } from './schema.ts';
import { hashToken } from './secrets.ts';
import { issueToken } from './tokens.ts';

/** A user row. */
export type User = Selectable<UsersTable>;

/** A created user with its first API token (the only time the token is visible). */
export interface CreatedUser {
  readonly user: User;
  readonly token: string;
}

/** Creates a user and a first API token. Names are unique: a second `alice` is a conflict. */
export async function createUser(db: Kysely<Database>, name: string, mode: TradingMode, now: number): Promise<CreatedUser> {
  if (!USER_NAME.test(name)) throw new HalyardError('invalid_input', `user name '${name}' must be 1-64 letters, digits or _.@- (starting with a letter or digit)`);
  if (!(TRADING_MODES as readonly string[]).includes(mode)) throw new HalyardError('invalid_input', `trading mode must be one of ${TRADING_MODES.join(', ')}`);
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('users').select('id').where('name', '=', name).executeTakeFirst();
    if (existing) throw new HalyardError('conflict', `user '${name}' already exists (create another token with: halyard users token ${name})`);
    const user = await trx.insertInto('users').values({ name, trading_mode: mode, created_at: now }).returningAll().executeTakeFirstOrThrow();
    const token = await addToken(trx, user.id, now);
    return { user, token };
  });
}

/** Issues another API token for a user (named `default`, no expiry; see tokens.ts for named ones). */
export async function addToken(db: Kysely<Database>, userId: number, now: number): Promise<string> {
  return (await issueToken(db, userId, {}, now)).token;
}

/**
 * The user a token belongs to while it works: undefined for an unknown or revoked token, and for one
 * expired at `now` (epoch ms; without it expiry is not checked). The auth hook uses authenticateToken,
 * which also says why a token is refused and records its last use.
 */
export async function userByToken(db: Kysely<Database>, token: string, now?: number): Promise<User | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('users')
    .select(['api_tokens.expires_at', 'api_tokens.revoked_at'])
    .where('api_tokens.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return undefined;
  const { expires_at: expiresAt, revoked_at: revokedAt, ...user } = row;
  if (revokedAt !== null || (now !== undefined && expiresAt !== null && expiresAt <= now)) return undefined;
  return user;
}

/** A user by name; a missing one is a clear not_found. */
export async function userByName(db: Kysely<Database>, name: string): Promise<User> {
  const u = await db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
  if (!u) throw new HalyardError('not_found', `no user named '${name}' (create it with: halyard users add ${name})`);
  return u;
}

/** Every user, by id. */
export async function listUsers(db: Kysely<Database>): Promise<User[]> {
  return db.selectFrom('users').selectAll().orderBy('id').execute();
}

/** Legacy account types (seed 003's table) and the target model's own names, as trading modes. */
const MODE_OF: Readonly<Record<string, TradingMode>> = { demo: 'paper', testnet: 'paper', paper: 'paper', real: 'live', mainnet: 'live', live: 'live', both: 'both' };

/**
 * The trading mode an account type means (seed 003: demo / testnet → paper, real / mainnet → live, both):
 * with `exchange`, the account type must exist there (bybit demo / real, hyperliquid testnet / mainnet).
 */
export function tradingModeOf(accountType: string, exchange?: string): TradingMode {
  const a = accountType.trim().toLowerCase();
  if (a === 'both') return 'both';
  if (exchange !== undefined && exchange !== '') {
    if (!isExchange(exchange)) throw new HalyardError('invalid_input', `unknown exchange '${exchange}' (use sim, binance, bybit or hyperliquid)`, { exchange });
    return envOfAccountType(exchange, a);
  }
  const mode = MODE_OF[a];
  if (!mode) throw new HalyardError('invalid_input', `account type '${accountType}' is not one of demo, real, testnet, mainnet, both (or paper, live)`, { accountType });
  return mode;
}

/** Sets which envs a user trades (what the monitor snapshots and reconciles); returns the updated user. */
export async function setTradingMode(db: Kysely<Database>, userId: number, mode: TradingMode): Promise<User> {
  if (!(TRADING_MODES as readonly string[]).includes(mode)) throw new HalyardError('invalid_input', `trading mode must be one of ${TRADING_MODES.join(', ')}`);
  const u = await db.updateTable('users').set({ trading_mode: mode }).where('id', '=', userId).returningAll().executeTakeFirst();
  if (!u) throw new HalyardError('not_found', `no user ${userId}`);
  return u;
}
