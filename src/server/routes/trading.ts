import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HalyardError } from '../../core/errors.ts';
import { tickerOf } from '../../core/instrument.ts';
import type { Clock } from '../../core/ports.ts';
import { envsOf, parseTargetKey, resolveTarget, type TradingMode } from '../../exchange/targets.ts';
import { listPositionViews, type PositionView } from '../../store/position-views.ts';
import type { Database } from '../../store/schema.ts';
import { setTargetSettings, targetSettings, type TargetSettings } from '../../store/target-settings.ts';
import { setTradingMode, tradingModeOf } from '../../store/users.ts';
import { marked, type MarkBook } from '../../tracker/marks.ts';
import { requireUser, userOf } from '../auth.ts';
import { ErrorSchema } from '../schemas.ts';
import {
  SwitchAccountTypeSchema,
  TargetKeyParams,
  TargetSettingsBodySchema,
  TargetSettingsSchema,
  TradingModeSchema,
  TradingPositionSchema,
  TradingPositionsQuerySchema,
} from '../schemas-trading.ts';

/** What the seed-003 trading routes need. */
export interface TradingRouteOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** The server's latest prices: positions are marked at them. */
  readonly marks: MarkBook;
}

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema };
const auth = [{ bearerAuth: [] }];

/** A position view in seed 003's response shape, and nothing more. */
export function seedPosition(v: PositionView): z.infer<typeof TradingPositionSchema> {
  return {
    symbol: tickerOf(v.symbol),
    side: v.side,
    size: v.size,
    entry_price: v.entry_price,
    mark_price: v.mark_price,
    pnl: v.pnl,
    exchange: v.exchange,
    account_type: v.account_type,
    env: v.env === 'live' ? 'live' : 'paper',
    strategy: v.strategy,
    tp_price: v.tp_price,
    sl_price: v.sl_price,
  };
}

const settingsView = (s: TargetSettings): z.infer<typeof TargetSettingsSchema> => {
  const t = parseTargetKey(s.targetKey);
  return { target: t.key, exchange: t.exchange, env: t.env, account_type: t.accountType, reconcile_policy: s.reconcilePolicy, is_default: s.isDefault, updated_at: s.updatedAt };
};

/**
 * Seed 003's WebApp routes: the positions of one exchange account in the seed's shape, switching the
 * user's account type (their trading mode), and the per-target settings (the reconciliation policy).
 */
export async function tradingRoutes(root: FastifyInstance, opts: TradingRouteOptions): Promise<void> {
  const { db, clock, marks } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/trading/positions',
    {
      schema: {
        tags: ['trading'],
        security: auth,
        summary: "Open positions of one exchange account in seed 003's shape (?exchange=bybit&account_type=demo, or &env=paper)",
        querystring: TradingPositionsQuerySchema,
        response: { 200: z.array(TradingPositionSchema), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      const user = userOf(req);
      if (!q.exchange) throw new HalyardError('invalid_input', 'say which exchange: ?exchange=bybit&account_type=demo (or &env=paper)');
      const one = resolveTarget(q.exchange, q.env, q.account_type);
      // Neither env nor account_type: the accounts of the user's trading mode on that exchange.
      const keys = one ? [one.key] : envsOf(user.trading_mode as TradingMode).map((env) => `${q.exchange}:${env}`);
      const out: z.infer<typeof TradingPositionSchema>[] = [];
      for (const targetKey of keys) {
        for (const v of await listPositionViews(db, { userId: user.id, targetKey, status: 'open' })) out.push(seedPosition(marked(v, marks, user.id)));
      }
      return out;
    },
  );

  app.post(
    '/api/users/switch-account-type',
    {
      schema: {
        tags: ['users'],
        security: auth,
        summary: 'Switch the account type you trade: demo / testnet → paper, real / mainnet → live, or both (what the monitor snapshots and reconciles)',
        body: SwitchAccountTypeSchema,
        response: { 200: TradingModeSchema, ...errors },
      },
    },
    async (req) => {
      const b = req.body;
      const asked = b.account_type ?? b.trading_mode;
      if (asked === undefined || asked.trim() === '') throw new HalyardError('invalid_input', 'say which account type: {"account_type": "demo"} (demo, real, testnet, mainnet or both)');
      const mode = tradingModeOf(asked, b.exchange);
      if (b.account_type !== undefined && b.trading_mode !== undefined && tradingModeOf(b.trading_mode) !== mode) {
        throw new HalyardError('invalid_input', `account_type '${b.account_type}' and trading_mode '${b.trading_mode}' disagree: send one of them`);
      }
      const user = await setTradingMode(db, userOf(req).id, mode);
      return { user: user.name, trading_mode: mode, envs: [...envsOf(mode)] };
    },
  );

  app.get(
    '/api/targets/:key/settings',
    {
      schema: {
        tags: ['targets'],
        security: auth,
        summary: 'Your settings of one target: the reconciliation policy (set, or the exchange\'s default)',
        params: TargetKeyParams,
        response: { 200: TargetSettingsSchema, ...errors },
      },
    },
    async (req) => settingsView(await targetSettings(db, userOf(req).id, req.params.key)),
  );

  app.put(
    '/api/targets/:key/settings',
    {
      schema: {
        tags: ['targets'],
        security: auth,
        summary: "Set the reconciliation policy of one of your targets: exchange (conflicts take the exchange's values) or record",
        params: TargetKeyParams,
        body: TargetSettingsBodySchema,
        response: { 200: TargetSettingsSchema, ...errors },
      },
    },
    async (req) => settingsView(await setTargetSettings(db, userOf(req).id, req.params.key, { reconcilePolicy: req.body.reconcile_policy }, clock.now())),
  );
}
