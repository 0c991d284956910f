import { HalyardError } from '../core/errors.ts';

/** Exchanges a target can name. */
export const EXCHANGES = ['sim', 'binance', 'bybit', 'hyperliquid'] as const;
/** An exchange id. */
export type ExchangeId = (typeof EXCHANGES)[number];

/** Environments: paper (demo / testnet / simulated) or live (real money). */
export const ENVS = ['paper', 'live'] as const;
/** An environment. */
export type Env = (typeof ENVS)[number];

/** Where positions live: an exchange in an environment, keyed `exchange:env`. */
export interface Target {
  readonly exchange: ExchangeId;
  readonly env: Env;
  /** `exchange:env`, e.g. `bybit:paper`. */
  readonly key: string;
  /** Legacy name of the env on this exchange (bybit demo/real, hyperliquid testnet/mainnet, ...). */
  readonly accountType: string;
}

/** Legacy `account_type` names per exchange, [paper, live]. */
const ACCOUNT_TYPES: Readonly<Record<ExchangeId, readonly [string, string]>> = {
  sim: ['paper', 'live'],
  binance: ['demo', 'live'],
  bybit: ['demo', 'real'],
  hyperliquid: ['testnet', 'mainnet'],
};

/** The target of `exchange` in `env`. */
export function target(exchange: ExchangeId, env: Env): Target {
  const [paper, live] = ACCOUNT_TYPES[exchange];
  return Object.freeze({ exchange, env, key: `${exchange}:${env}`, accountType: env === 'paper' ? paper : live });
}

/** Every target, in a stable order (for seeding the targets table and for selectors). */
export const ALL_TARGETS: readonly Target[] = Object.freeze(EXCHANGES.flatMap((x) => ENVS.map((e) => target(x, e))));

/** True when `s` is an exchange id. */
export function isExchange(s: string): s is ExchangeId {
  return (EXCHANGES as readonly string[]).includes(s);
}

/** The env a legacy `account_type` means on `exchange` (bybit demo → paper, hyperliquid mainnet → live, ...). */
export function envOfAccountType(exchange: ExchangeId, accountType: string): Env {
  const [paper, live] = ACCOUNT_TYPES[exchange];
  const a = accountType.toLowerCase();
  if (a === paper || a === 'paper') return 'paper';
  if (a === live || a === 'live') return 'live';
  throw new HalyardError('invalid_input', `account_type '${accountType}' does not exist on ${exchange} (use ${paper} or ${live})`, { exchange, accountType });
}

/**
 * Resolves a target from query-style parts. `env` wins over the legacy `account_type` when both are given.
 * Returns undefined when neither env nor account_type is given (the caller then means every env).
 */
export function resolveTarget(exchange: string, env?: string, accountType?: string): Target | undefined {
  if (!isExchange(exchange)) throw new HalyardError('invalid_input', `unknown exchange '${exchange}' (use ${EXCHANGES.join(', ')})`, { exchange });
  if (env !== undefined && env !== '') {
    if (env !== 'paper' && env !== 'live') throw new HalyardError('invalid_input', `unknown env '${env}' (use paper or live)`, { env });
    return target(exchange, env);
  }
  if (accountType !== undefined && accountType !== '') return target(exchange, envOfAccountType(exchange, accountType));
  return undefined;
}

/** Parses `exchange:env` (also `exchange:account_type`, e.g. `bybit:demo`). */
export function parseTargetKey(key: string): Target {
  const [exchange = '', env = '', ...rest] = key.split(':');
  if (rest.length > 0 || env === '') throw new HalyardError('invalid_input', `a target is exchange:env, e.g. bybit:paper (got '${key}')`, { key });
  const t = env === 'paper' || env === 'live' ? resolveTarget(exchange, env) : resolveTarget(exchange, undefined, env);
  if (!t) throw new HalyardError('invalid_input', `a target is exchange:env, e.g. bybit:paper (got '${key}')`, { key });
  return t;
}

/** Trading modes of a user: which envs they trade. */
export const TRADING_MODES = ['paper', 'live', 'both'] as const;
/** A user's trading mode. */
export type TradingMode = (typeof TRADING_MODES)[number];

/** The envs a trading mode covers. */
export function envsOf(mode: TradingMode): readonly Env[] {
  return mode === 'both' ? ENVS : [mode];
}
