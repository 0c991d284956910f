import { z } from 'zod';

const side = z.enum(['long', 'short']);

/** Query of GET /api/trading/positions (seed 003): an exchange, and env (wins) or the legacy account_type. */
export const TradingPositionsQuerySchema = z.object({
  exchange: z.string().optional().describe('bybit, hyperliquid, binance or sim (required)'),
  account_type: z.string().optional().describe('legacy: demo/real (bybit), testnet/mainnet (hyperliquid), demo/live (binance), paper/live (sim)'),
  env: z.string().optional().describe('paper or live; wins over account_type; with neither, the envs of your trading mode'),
});

/** One open position as seed 003's positions response has it: exactly these fields. */
export const TradingPositionSchema = z.object({
  symbol: z.string().describe('the trading pair as signals name it, e.g. BTCUSDT'),
  side,
  size: z.number().describe('base units on this target'),
  entry_price: z.number(),
  mark_price: z.number().describe('the latest price the server has seen (the entry before any)'),
  pnl: z.number().describe('unrealized PnL at mark_price (quote)'),
  exchange: z.string(),
  account_type: z.string().describe("the env's legacy name on this exchange (demo/real, testnet/mainnet)"),
  env: z.enum(['paper', 'live']),
  strategy: z.string().nullable(),
  tp_price: z.number().nullable(),
  sl_price: z.number().nullable(),
});

/** Body of POST /api/users/switch-account-type. */
export const SwitchAccountTypeSchema = z.object({
  account_type: z.string().optional().describe('demo, real, testnet, mainnet or both (also paper / live)'),
  trading_mode: z.string().optional().describe('the same as account_type, under the target model\'s name'),
  exchange: z.string().optional().describe('when given, account_type must exist on that exchange (bybit: demo/real, hyperliquid: testnet/mainnet)'),
});

/** Answer of POST /api/users/switch-account-type: the user's trading mode and the envs it covers. */
export const TradingModeSchema = z.object({
  user: z.string(),
  trading_mode: z.enum(['paper', 'live', 'both']),
  envs: z.array(z.enum(['paper', 'live'])).describe('the envs the monitor snapshots and reconciles for you'),
});

/** Path of the target settings routes: `exchange:env` (also `exchange:account_type`, e.g. bybit:demo). */
export const TargetKeyParams = z.object({ key: z.string().describe('exchange:env, e.g. bybit:paper') });

/** Body of PUT /api/targets/:key/settings. */
export const TargetSettingsBodySchema = z.object({
  reconcile_policy: z.string().describe('exchange: a conflicting position takes the exchange\'s size and entry after the grace period; record: the conflict is only recorded'),
});

/** A user's settings of one target. */
export const TargetSettingsSchema = z.object({
  target: z.string(),
  exchange: z.string(),
  env: z.enum(['paper', 'live']),
  account_type: z.string(),
  reconcile_policy: z.enum(['exchange', 'record']),
  is_default: z.boolean().describe("true when never set: the exchange's default (exchange on ccxt venues, record on sim)"),
  updated_at: z.number().nullable().describe('epoch ms of the last change; null for a default'),
});
