import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';
import { HalyardError } from './core/errors.ts';

/**
 * A number setting with its default and, optionally, the rule it must follow (`rule` says it in words:
 * both a value that is not a number and one that breaks the rule are refused naming it).
 */
function num(def: number, ok?: (v: number) => boolean, rule?: string) {
  const hint = rule ? ` (${rule})` : '';
  const n = z.coerce.number({ error: `is not a number${hint}` }).finite({ error: `is not a finite number${hint}` });
  return (ok ? n.refine(ok, `is out of range${hint}`) : n).default(def);
}
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.string().url().optional());

/** The settings schema: every variable Halyard reads from the environment or `.env`, with its default. */
export const SettingsSchema = z.object({
  EXCHANGE: z.enum(['binance', 'bybit', 'hyperliquid', 'sim']).default('binance'),
  SYMBOL: z.string().min(1).default('BTC/USDT:USDT'),
  API_KEY: z.string().default(''),
  API_SECRET: z.string().default(''),
  INITIAL_BALANCE: num(10_000, (v) => v > 0, 'must be > 0'),
  LEVERAGE: num(1, (v) => v >= 1, 'must be >= 1'),
  MAKER_FEE_BPS: num(2),
  TAKER_FEE_BPS: num(5),
  SLIPPAGE_BPS: num(0),
  SIM_BALANCE: num(100_000, (v) => v > 0, 'must be > 0'),
  SIM_LEVERAGE: num(10, (v) => v >= 1, 'must be >= 1'),
  DISCORD_WEBHOOK_URL: optionalUrl,
  TELEGRAM_BOT_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  TELEGRAM_CHAT_ID: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  TELEGRAM_API_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().url().default('https://api.telegram.org')),
  ENGINE_EVENTS_URL: optionalUrl,
  ENGINE_EVENTS_SECRET: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  SNAPSHOT_INTERVAL_MIN: num(30, (v) => v > 0, 'must be > 0'),
  MONITOR_INTERVAL_S: num(60, (v) => v >= 1, 'must be >= 1'),
  GHOST_FLAT_CHECKS: num(2, (v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  ENGINE_POLL_INTERVAL_S: num(60, (v) => v >= 1, 'must be >= 1'),
  RECONCILE_GRACE_S: num(60, (v) => v >= 0, 'must be >= 0'),
  /** Servers on one PostgreSQL: seconds a scheduled loop's lease and a claimed job last unrenewed (a dead server's are taken over after it). */
  LEASE_TTL_S: num(10, (v) => v >= 1, 'must be >= 1'),
  DATABASE_PATH: z.string().default('data/halyard.db'),
  /** A PostgreSQL URL (`postgres://` or `postgresql://`); unset for the SQLite file at DATABASE_PATH. */
  DATABASE_URL: z.preprocess((v) => (v === '' ? undefined : v), z.string().regex(/^postgres(ql)?:\/\//i, 'is not a postgres:// (or postgresql://) URL (for SQLite unset DATABASE_URL and set DATABASE_PATH)').optional()),
  CACHE_PATH: z.string().default('data/candles'),
  OUTPUT_PATH: z.string().default('output'),
  PUBLIC_URL: optionalUrl,
  ENCRYPTION_KEY: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(32, 'must be at least 32 characters (openssl rand -hex 32)').optional()),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** `pretty` (human lines), `json` (one JSON object a line), or `auto`: pretty on a terminal, JSON otherwise. */
  LOG_FORMAT: z.preprocess((v) => (v === '' || v === undefined ? undefined : String(v).toLowerCase()), z.enum(['auto', 'pretty', 'json']).default('auto')),
  /** Requests per minute and client IP on every route of `serve` before 429. */
  RATE_LIMIT_PER_IP_PER_MIN: num(6_000, (v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  /** Signal deliveries per minute and recorder before 429. */
  RATE_LIMIT_PER_RECORDER_PER_MIN: num(600, (v) => Number.isInteger(v) && v >= 1, 'must be an integer >= 1'),
  /** Bearer token a Prometheus scraper sends to read `serve`'s `/metrics` from another host (unset: loopback only). */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters (openssl rand -hex 16)').optional()),
  /** Largest request body `serve` takes (bytes), API and webhooks. */
  BODY_LIMIT_BYTES: num(64 * 1024, (v) => Number.isInteger(v) && v >= 1024, 'must be an integer >= 1024'),
});

/** Validated settings. */
export type Settings = z.infer<typeof SettingsSchema>;

/** Where a setting's value came from: the `.env` file or the process environment. */
type Source = { readonly file: string; readonly keys: ReadonlySet<string> } | undefined;

/** Variables whose values are secret: an error names them and their length, never their value. */
const SECRET = /SECRET|KEY|TOKEN|PASSWORD/;

/** `NAME=value` for a message, quoted when the value has spaces or is empty, hidden when secret. */
function shown(name: string, value: unknown): string {
  if (value === undefined) return name;
  const v = String(value);
  if (SECRET.test(name)) return `${name}=(hidden, ${v.length} characters)`;
  const url = name === 'DATABASE_URL' ? v.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@') : v;
  return `${name}=${/^[^\s"']+$/.test(url) ? url : JSON.stringify(url)}`;
}

/** One refused setting as a sentence: where it came from, the variable, the value, what is wrong. */
function describeIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>, source: Source): string {
  const name = String(issue.path[0] ?? '');
  const value = env[name];
  const where = source && source.keys.has(name) ? `${source.file}: ` : value === undefined ? '' : 'environment variable ';
  let what = issue.message;
  if (issue.code === 'invalid_value') what = `is not one of ${issue.values.map(String).join(', ')}`;
  else if (issue.code === 'invalid_format' && issue.format === 'url') what = 'is not a URL (e.g. https://example.com/path)';
  else if (issue.code === 'too_small' || issue.code === 'too_big') what = `is not valid: ${issue.message}`;
  else if (issue.code === 'invalid_type' && !/^is /.test(what)) what = `is not a ${issue.expected}`;
  return `${where}${shown(name, value)} ${what}`;
}

/** Loads `.env` of the working directory into `env` without overriding what is set; the names it set. */
function loadDotenvInto(env: Record<string, string | undefined>, file = '.env'): Source {
  if (!existsSync(file)) return undefined;
  let parsed: Record<string, string>;
  try {
    parsed = parseDotenv(readFileSync(file));
  } catch (e) {
    throw new HalyardError('invalid_config', `cannot read ${file}: ${(e as Error).message}`, { file }, e);
  }
  const keys = new Set<string>();
  for (const [k, v] of Object.entries(parsed)) {
    if (env[k] !== undefined) continue;
    env[k] = v;
    keys.add(k);
  }
  return { file, keys };
}

/**
 * Reads settings from `env` (after loading `.env` from the working directory into `process.env` when
 * `env` is process.env, without overriding what is set). Names are case-sensitive; LOG_LEVEL also
 * accepts upper case (INFO). A refused value is named with its source, e.g.
 * `.env: LEVERAGE=ten is not a number (must be >= 1)` or `environment variable LEVERAGE=ten …`.
 */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  const source = env === process.env ? loadDotenvInto(env) : undefined;
  const raw = { ...env, LOG_LEVEL: env.LOG_LEVEL?.toLowerCase() };
  const parsed = SettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => describeIssue(i, env, source));
    throw new HalyardError('invalid_config', lines.join('; '), { issues: lines });
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
