import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, OutboxTable, PaperRunsTable, PortfolioTable, RunOrdersTable, RunPositionsTable, RunTradesTable } from './schema.ts';

/** A paper run row. */
export type PaperRunRow = Selectable<PaperRunsTable>;
/** A run order row. */
export type RunOrderRow = Selectable<RunOrdersTable>;

/** Everything one processed candle changed, written in one transaction. */
export interface RunEvent {
  readonly run: Pick<PaperRunsTable, 'id' | 'cursor_ts' | 'candles' | 'seq' | 'status' | 'updated_at'>;
  readonly portfolio: PortfolioTable;
  /** The strategy's `saveState()` as JSON, when it has one. */
  readonly strategyState: string | null;
  readonly positions: readonly RunPositionsTable[];
  readonly trades: readonly RunTradesTable[];
  readonly orders: readonly RunOrdersTable[];
  readonly outbox: readonly Insertable<OutboxTable>[];
}

/** The run named `id`, if any. */
export async function paperRun(db: Kysely<Database>, id: string): Promise<PaperRunRow | undefined> {
  return db.selectFrom('paper_runs').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Creates a run with its starting portfolio. */
export async function createPaperRun(db: Kysely<Database>, run: PaperRunsTable, portfolio: PortfolioTable): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('paper_runs').values(run).execute();
    await trx.insertInto('portfolio').values(portfolio).execute();
  });
}

/** Marks a run's status (running, stopped, finished, failed) with a reason. */
export async function setRunStatus(db: Kysely<Database>, id: string, status: string, now: number, reason: string | null): Promise<void> {
  await db
    .updateTable('paper_runs')
    .set({ status, updated_at: now, stopped_at: status === 'running' ? null : now, stop_reason: reason })
    .where('id', '=', id)
    .execute();
}

/** Writes one candle's changes in one transaction: cursor, portfolio, strategy state, positions, trades, orders, events. */
export async function saveRunEvent(db: Kysely<Database>, e: RunEvent): Promise<void> {
  await db.transaction().execute((trx) => saveRunEventIn(trx, e));
}

/** `saveRunEvent` inside the caller's transaction (so what the caller writes beside it, a candle's alerts, commits with it). */
export async function saveRunEventIn(trx: Kysely<Database>, e: RunEvent): Promise<void> {
  {
    const { id, ...run } = e.run;
    await trx.updateTable('paper_runs').set(run).where('id', '=', id).execute();
    const { run_id: _r, ...pf } = e.portfolio;
    await trx.updateTable('portfolio').set(pf).where('run_id', '=', e.portfolio.run_id).execute();
    if (e.strategyState !== null) {
      await trx
        .insertInto('strategy_state')
        .values({ run_id: id, state_json: e.strategyState, updated_at: e.run.updated_at })
        .onConflict((oc) => oc.column('run_id').doUpdateSet({ state_json: e.strategyState as string, updated_at: e.run.updated_at }))
        .execute();
    }
    for (const p of e.positions) {
      const { run_id: _a, position_id: _b, ...rest } = p;
      await trx.insertInto('run_positions').values(p).onConflict((oc) => oc.columns(['run_id', 'position_id']).doUpdateSet(rest)).execute();
    }
    // A trade is written once: the primary key refuses a second copy.
    if (e.trades.length > 0) await trx.insertInto('run_trades').values([...e.trades]).execute();
    for (const o of e.orders) {
      const { run_id: _a, client_id: _b, ...rest } = o;
      await trx.insertInto('run_orders').values(o).onConflict((oc) => oc.columns(['run_id', 'client_id']).doUpdateSet(rest)).execute();
    }
    if (e.outbox.length > 0) await trx.insertInto('outbox').values([...e.outbox]).execute();
  }
}

/** Records an order as `sending` before it leaves for a real venue (so a crash mid-send is found again). */
export async function recordSending(db: Kysely<Database>, o: RunOrdersTable): Promise<void> {
  await db.insertInto('run_orders').values(o).onConflict((oc) => oc.columns(['run_id', 'client_id']).doNothing()).execute();
}

/** What a restart needs: portfolio, strategy state, open positions, positions issued, trades, filled orders. */
export async function loadRunState(db: Kysely<Database>, id: string) {
  const portfolio = await db.selectFrom('portfolio').selectAll().where('run_id', '=', id).executeTakeFirstOrThrow();
  const state = await db.selectFrom('strategy_state').select('state_json').where('run_id', '=', id).executeTakeFirst();
  const positions = await db.selectFrom('run_positions').selectAll().where('run_id', '=', id).orderBy('opened_at').orderBy('position_id').execute();
  const trades = await db.selectFrom('run_trades').selectAll().where('run_id', '=', id).orderBy('closed_at').orderBy('position_id').execute();
  const orders = await db.selectFrom('run_orders').selectAll().where('run_id', '=', id).orderBy('candle_ts').orderBy('seq').execute();
  return { portfolio, stateJson: state?.state_json ?? null, positions, trades, orders };
}

/** A run's positions by status, newest first (the runtime's positions API). */
export async function listRunPositions(db: Kysely<Database>, id: string, status: 'open' | 'closed', limit: number) {
  return db.selectFrom('run_positions').selectAll().where('run_id', '=', id).where('status', '=', status).orderBy('opened_at', 'desc').limit(limit).execute();
}

/** One position of a run. */
export async function runPosition(db: Kysely<Database>, id: string, positionId: string) {
  return db.selectFrom('run_positions').selectAll().where('run_id', '=', id).where('position_id', '=', positionId).executeTakeFirst();
}

/** Every paper run with its wallet (initial balance, equity) and how many trades it closed, latest started first. */
export async function listPaperRuns(db: Kysely<Database>) {
  return db
    .selectFrom('paper_runs as r')
    .leftJoin('portfolio as p', 'p.run_id', 'r.id')
    .selectAll('r')
    .select(['p.initial_balance', 'p.equity'])
    .select((eb) => eb.selectFrom('run_trades as t').select(eb.fn.countAll<number>().as('n')).whereRef('t.run_id', '=', 'r.id').as('trades'))
    .orderBy('r.started_at', 'desc')
    .orderBy('r.id')
    .execute();
}
