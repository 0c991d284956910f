import type { Exchange } from 'ccxt';
import { HalyardError, errorMessage } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import type { PositionMode } from '../../core/types.ts';
import { SystemClock } from '../../clock.ts';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../retry.ts';
import { target, type Env } from '../targets.ts';
import { binanceProfile } from './binance.ts';
import { bybitProfile } from './bybit.ts';
import { hyperliquidProfile } from './hyperliquid.ts';
import type { CcxtCredentials, CcxtProfile } from './profile.ts';
import { CcxtVenue } from './venue.ts';

export { CcxtVenue } from './venue.ts';
export { hyperliquidCloid } from './hyperliquid.ts';
export type { CcxtCredentials } from './profile.ts';

/** Exchanges reached through ccxt. */
export const CCXT_EXCHANGES = ['binance', 'bybit', 'hyperliquid'] as const;
/** An exchange reached through ccxt. */
export type CcxtExchangeId = (typeof CCXT_EXCHANGES)[number];

/** Settings of `createCcxtVenue`. */
export interface CcxtVenueOptions {
  /** Exchange id (`binance`, `bybit`, `hyperliquid`; anything else is `invalid_config`). */
  readonly exchange: string;
  /** paper = Binance demo trading, Bybit demo trading, Hyperliquid testnet; live = mainnet. */
  readonly env: Env;
  readonly credentials: CcxtCredentials;
  /** Replaces the scheme and host of every active endpoint (tests: a local stub, e.g. `http://127.0.0.1:4100`). */
  readonly urlOverride?: string;
  /** Retry policy of every call (default DEFAULT_RETRY_POLICY; `sleep`/`rng` may be injected). */
  readonly retry?: Partial<RetryPolicy>;
  /** Clock for timestamps the exchange leaves out and for Retry-After dates (default the system clock). */
  readonly clock?: Clock;
  /** Waits `ms` milliseconds between retries (overrides `retry.sleep`). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** ccxt request timeout (ms, default 10,000). */
  readonly timeoutMs?: number;
  /** ccxt's client-side rate limiter (default on; tests against a stub may turn it off). */
  readonly enableRateLimit?: boolean;
  /** The account's position mode as last set (default one-way). */
  readonly mode?: PositionMode;
}

function profileOf(exchange: string): CcxtProfile {
  switch (exchange) {
    case 'binance':
      return binanceProfile();
    case 'bybit':
      return bybitProfile();
    case 'hyperliquid':
      return hyperliquidProfile();
    case 'sim':
      throw new HalyardError('invalid_config', 'sim is the simulated exchange, not a ccxt exchange: use SimVenue for sim targets', { exchange });
    default:
      throw new HalyardError('invalid_config', `no ccxt adapter for exchange '${exchange}' (use ${CCXT_EXCHANGES.join(', ')})`, { exchange });
  }
}

/** Replaces scheme and host of every URL in ccxt's active `urls.api` with `base`, keeping paths. */
function overrideUrls(ex: Exchange, base: string): void {
  const root = base.replace(/\/+$/, '');
  const urls = ex.urls as Record<string, unknown>;
  const api = urls['api'];
  const swap = (u: string): string => u.replace(/^https?:\/\/[^/]+/, root);
  if (typeof api === 'string') {
    urls['api'] = swap(api);
    return;
  }
  if (typeof api === 'object' && api !== null) {
    const next: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(api as Record<string, unknown>)) next[k] = typeof v === 'string' ? swap(v) : v;
    urls['api'] = next;
  }
}

/**
 * The configured ccxt instance for `exchange` in `env`, endpoints selected (demo trading / testnet for
 * paper, mainnet for live) and optionally redirected to `urlOverride`. Makes no request.
 */
export function createCcxtExchange(options: CcxtVenueOptions): { readonly exchange: Exchange; readonly profile: CcxtProfile } {
  if (options.env !== 'paper' && options.env !== 'live') throw new HalyardError('invalid_config', `unknown env '${String(options.env)}' (use paper or live)`);
  const profile = profileOf(options.exchange);
  const { apiKey, secret, password } = options.credentials;
  if (!secret || (!apiKey && !password)) {
    throw new HalyardError('invalid_config', `${options.exchange}:${options.env} needs credentials: an API key (or wallet address) and its secret`, { exchange: options.exchange, env: options.env });
  }
  const exchange = profile.create(options.credentials, { timeout: options.timeoutMs ?? 10_000, enableRateLimit: options.enableRateLimit ?? true });
  try {
    profile.selectEnv(exchange, options.env);
  } catch (e) {
    const why = errorMessage(e);
    throw new HalyardError('invalid_config', `${options.exchange} has no ${options.env} environment in ccxt: ${why}`, { exchange: options.exchange, env: options.env }, e);
  }
  if (options.urlOverride !== undefined) {
    overrideUrls(exchange, options.urlOverride);
    profile.onUrlOverride?.(exchange, options.urlOverride.replace(/\/+$/, ''));
  }
  return { exchange, profile };
}

/**
 * A Venue for a real exchange through ccxt: Binance USDⓈ-M, Bybit v5 linear or Hyperliquid perpetuals,
 * paper (demo / testnet) or live (mainnet). Throws `invalid_config` for an exchange or env that does
 * not exist. No request is made until the first call (markets load then).
 */
export function createCcxtVenue(options: CcxtVenueOptions): CcxtVenue {
  const { exchange, profile } = createCcxtExchange(options);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry, ...(options.sleep ? { sleep: options.sleep } : {}) };
  return new CcxtVenue({
    target: target(profile.exchange, options.env).key,
    profile,
    exchange,
    retry,
    clock: options.clock ?? new SystemClock(),
    ...(options.mode ? { mode: options.mode } : {}),
  });
}
