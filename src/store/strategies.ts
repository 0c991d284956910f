import type { Kysely, Selectable } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import { positionCore } from './positions.ts';
import type { Database, StrategiesTable } from './schema.ts';

/** A stored strategy. */
export type StrategyRow = Selectable<StrategiesTable>;

/** The id of the user's strategy `name`, created when new (safe against a concurrent create). */
export async function ensureStrategy(db: Kysely<Database>, userId: number, name: string, now: number): Promise<number> {
  await db
    .insertInto('strategies')
    .values({ user_id: userId, name, created_at: now })
    .onConflict((oc) => oc.columns(['user_id', 'name']).doNothing())
    .execute();
  const row = await db.selectFrom('strategies').select('id').where('user_id', '=', userId).where('name', '=', name).executeTakeFirstOrThrow();
  return row.id;
}

/** One of the user's strategies; another user's id is not_found. */
export async function getStrategy(db: Kysely<Database>, userId: number, id: number): Promise<StrategyRow> {
  const row = await db.selectFrom('strategies').selectAll().where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
  if (!row) throw new HalyardError('not_found', `no strategy ${id}`);
  return row;
}

/** A strategy with the figures of its closed trades and its open positions. */
export interface StrategyStats {
  readonly id: number;
  readonly name: string;
  readonly created_at: number;
  /** Closed trades. */
  readonly trades: number;
  /** Trades with a positive net PnL. */
  readonly wins: number;
  /** wins / trades, null without trades. */
  readonly win_rate: number | null;
  /** Net realized PnL of its trades: realized − fees + funding (quote). */
  readonly pnl: number;
  /** Largest fall of the cumulative net PnL from its running peak (starting at 0), trades in closing order (quote, ≥ 0). */
  readonly max_drawdown: number;
  readonly open_positions: number;
}

/** Every strategy of the user with its analytics. Trades belong to a strategy through their position. */
export async function strategyStats(db: Kysely<Database>, userId: number): Promise<StrategyStats[]> {
  const strategies = await db.selectFrom('strategies').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  if (strategies.length === 0) return [];
  const trades = await db
    .selectFrom('trades as t')
    .innerJoin('positions as p', 'p.id', 't.position_id')
    .select(['p.strategy_id as strategy_id', 't.realized_pnl as realized_pnl', 't.fees as fees', 'p.funding as funding'])
    .where('t.user_id', '=', userId)
    .where('p.strategy_id', 'is not', null)
    .orderBy('t.closed_at')
    .orderBy('t.id')
    .execute();
  const open = await db
    .selectFrom('positions')
    .select((eb) => ['strategy_id', eb.fn.countAll().as('n')])
    .where('user_id', '=', userId)
    .where('status', '=', 'open')
    .where('strategy_id', 'is not', null)
    .groupBy('strategy_id')
    .execute();
  return strategies.map((s) => {
    let n = 0;
    let wins = 0;
    let pnl = 0;
    let peak = 0;
    let maxDd = 0;
    for (const t of trades) {
      if (t.strategy_id !== s.id) continue;
      const net = t.realized_pnl - t.fees + t.funding;
      n += 1;
      if (net > 0) wins += 1;
      pnl += net;
      peak = Math.max(peak, pnl);
      maxDd = Math.max(maxDd, peak - pnl);
    }
    const openCount = Number(open.find((o) => o.strategy_id === s.id)?.n ?? 0);
    return { id: s.id, name: s.name, created_at: s.created_at, trades: n, wins, win_rate: n === 0 ? null : wins / n, pnl, max_drawdown: maxDd, open_positions: openCount };
  });
}

/** The positions assigned to one strategy, newest first. */
export async function strategyPositions(db: Kysely<Database>, userId: number, strategyId: number, status: 'open' | 'closed' | 'all') {
  let q = db.selectFrom('positions').selectAll().where('user_id', '=', userId).where('strategy_id', '=', strategyId);
  if (status !== 'all') q = q.where('status', '=', status);
  const rows = await q.orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(500).execute();
  return rows.map((r) => ({
    ...positionCore(r),
    external_id: r.external_id,
    engine_source_id: r.engine_source_id,
    target: r.target_key,
    source: r.source,
    strategy: r.strategy,
    fees: r.fees,
    funding: r.funding,
    exit_price: r.avg_exit_price ?? r.exit_price,
    close_reason: r.close_reason,
  }));
}
