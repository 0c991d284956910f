import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';
import { HalyardError } from './core/errors.ts';

const num = (def: number) => z.coerce.number().finite().default(def);
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional());

/** The settings schema: every variable Halyard reads from the environment or `.env`, with its default. */
export const SettingsSchema = z.object({
  EXCHANGE: z.enum(['binance', 'bybit', 'hyperliquid', 'sim']).default('binance'),
  SYMBOL: z.string().min(1).default('BTC/USDT:USDT'),
  API_KEY: z.string().default(''),
  API_SECRET: z.string().default(''),
  INITIAL_BALANCE: num(10_000).refine((v) => v > 0, 'must be > 0'),
  LEVERAGE: num(1).refine((v) => v >= 1, 'must be >= 1'),
  MAKER_FEE_BPS: num(2),
  TAKER_FEE_BPS: num(5),
  SLIPPAGE_BPS: num(0),
  SIM_BALANCE: num(100_000).refine((v) => v > 0, 'must be > 0'),
  SIM_LEVERAGE: num(10).refine((v) => v >= 1, 'must be >= 1'),
  DISCORD_WEBHOOK_URL: optionalUrl,
  TELEGRAM_BOT_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  TELEGRAM_CHAT_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  TELEGRAM_API_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api.telegram.org')),
  ENGINE_EVENTS_URL: optionalUrl,
  ENGINE_EVENTS_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  SNAPSHOT_INTERVAL_MIN: num(30).refine((v) => v > 0, 'must be > 0'),
  MONITOR_INTERVAL_S: num(60).refine((v) => v >= 1, 'must be >= 1'),
  GHOST_FLAT_CHECKS: num(2).refine((v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  ENGINE_POLL_INTERVAL_S: num(60).refine((v) => v >= 1, 'must be >= 1'),
  RECONCILE_GRACE_S: num(60).refine((v) => v >= 0, 'must be >= 0'),
  DATABASE_PATH: z.string().default('data/halyard.db'),
  DATABASE_URL: z.string().optional(),
  CACHE_PATH: z.string().default('data/candles'),
  OUTPUT_PATH: z.string().default('output'),
  PUBLIC_URL: optionalUrl,
  ENCRYPTION_KEY: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional()),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** `pretty` (human lines), `json` (one JSON object a line), or `auto`: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.preprocess((v) => (v === '' || v === undefined ? undefined : String(v).toLowerCase()), z.enum(['auto', 'pretty', 'json']).default('auto')),
  /** Requests per minute and client IP on every route of `serve` before 429. */
  RATE_LIMIT_PER_IP_PER_MIN: num(6_000).refine((v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  /** Signal deliveries per minute and recorder before 429. */
  RATE_LIMIT_PER_RECORDER_PER_MIN: num(600).refine((v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  /** Largest request body `serve` takes (bytes), API and webhooks. */
  BODY_LIMIT_BYTES: num(64 * 1024).refine((v) => Number.isInteger(v) && v >= 1024, 'must be an integer >= 1024'),
});

/** Validated settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/**
 * Reads settings from `env` (after loading `.env` from the working directory into `process.env` when
 * `env` is process.env, without overriding what is set). Names are case-sensitive; LOG_LEVEL also
 * accepts upper case (INFO).
 */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  if (env === process.env) loadDotenv({ quiet: true });
  const raw = { ...env, LOG_LEVEL: env.LOG_LEVEL?.toLowerCase() };
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new HalyardError('invalid_config', `invalid settings:\n  ${lines.join('\n  ')}`, { issues: lines });
  }
  return parsed.data;
}

/** Name of the variable that overrides an exchange's REST base URL: `HALYARD_EXCHANGE_URL_<EXCHANGE>`. */
export const exchangeUrlVariable = (exchange: string): string => `HALYARD_EXCHANGE_URL_${exchange.toUpperCase()}`;

/**
 * Base URL (`http[s]://host[:port]`) that replaces the REST origins of `exchange` for market data, from
 * `HALYARD_EXCHANGE_URL_<EXCHANGE>` (a local stub in tests, a self-hosted proxy otherwise); undefined when
 * unset.
 */
export function exchangeUrlOverride(exchange: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const name = exchangeUrlVariable(exchange);
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^https?:\/\/[^/\s]+\/?$/.test(v)) throw new HalyardError('invalid_config', `${name}: must be a base URL like http://127.0.0.1:8080, got "${v}"`, { variable: name });
  return v.replace(/\/$/, '');
}
