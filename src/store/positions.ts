import type { Insertable, Kysely, Selectable } from 'kysely';
import { averageEntry, type Position, type PositionChange } from '../core/ledger.ts';
import type { PositionSource, Side } from '../core/types.ts';
import { insertRows, updateStatement } from './compiled.ts';
import type { GroupContext } from './group-commit.ts';
import type { Database, PositionsTable, TradesTable } from './schema.ts';

/** A stored position row. */
export type PositionRow = Selectable<PositionsTable>;
/** A stored trade row. */
export type TradeRow = Selectable<TradesTable>;

/** Who a set of position changes belongs to. */
export interface PositionOwner {
  readonly userId: number;
  readonly recorderId: number | null;
  readonly targetKey: string | null;
  readonly openedBy: string;
  readonly strategy: string | null;
}

const ENTRY_KIND = { opened: 'open', increased: 'add', reduced: 'reduce', closed: 'close' } as const;

/** Columns a later change of a position writes (the rest are fixed when it opens). */
const CHANGED_COLUMNS = [
  'status',
  'qty',
  'max_qty',
  'entry_price',
  'realized_pnl',
  'fees',
  'funding',
  'max_adverse',
  'stop_loss',
  'take_profit',
  'last_price',
  'closed_at',
  'exit_price',
  'avg_exit_price',
  'exited_qty',
  'updated_at',
] as const;

/** A stored position takes a changed row's `CHANGED_COLUMNS` (an upsert of rows that exist). */
const POSITION_CHANGE = { key: 'id', update: CHANGED_COLUMNS } as const;

/**
 * Writes what a fill did: position rows (inserted when opened, updated otherwise), one entry per change,
 * a trade per closed position, and the latest price of every touched position. Run inside the caller's
 * transaction; with `group`, the rows are written at the end of the group's transaction with the other
 * jobs' (one statement per table), the changed positions as an upsert on their id.
 */
export async function savePositionChanges(
  db: Kysely<Database>,
  owner: PositionOwner,
  changes: readonly PositionChange[],
  touched: readonly Position[],
  lastPrice: (symbol: string) => number | undefined,
  ts: number,
  signalId: number | null,
  group?: GroupContext,
): Promise<void> {
  const opened = new Set<Position>();
  for (const c of changes) if (c.kind === 'opened') opened.add(c.position);
  const inserted: PositionsTable[] = [];
  for (const p of opened) inserted.push(positionRow(p, owner, lastPrice(p.symbol) ?? null, ts));
  const updated: PositionsTable[] = [];
  for (const p of touched) if (!opened.has(p)) updated.push(positionRow(p, owner, lastPrice(p.symbol) ?? null, ts));
  const entries = changes.map((c) => ({
    position_id: c.position.id,
    kind: ENTRY_KIND[c.kind],
    qty: c.qty,
    price: c.price,
    realized_pnl: c.kind === 'reduced' || c.kind === 'closed' ? c.realizedPnl : 0,
    ts,
    signal_id: signalId,
  }));
  const trades: Insertable<TradesTable>[] = [];
  for (const c of changes) if (c.kind === 'closed') trades.push(tradeRow(c.position, c.price, owner, ts));
  if (group) {
    group.insertLater('positions', inserted);
    group.upsertLater('positions', updated, POSITION_CHANGE);
    group.insertLater('position_entries', entries);
    group.insertLater('trades', trades);
    return;
  }
  await insertRows(db, 'positions', inserted);
  for (const row of updated) await UPDATE_POSITION(db, row);
  await insertRows(db, 'position_entries', entries);
  await insertRows(db, 'trades', trades);
}

const UPDATE_POSITION = updateStatement('positions', CHANGED_COLUMNS, 'id');

function tradeRow(p: Position, price: number, owner: PositionOwner, ts: number): Insertable<TradesTable> {
  return {
    position_id: p.id,
    user_id: owner.userId,
    recorder_id: owner.recorderId,
    target_key: owner.targetKey,
    source: p.source,
    strategy: owner.strategy,
    symbol: p.symbol,
    side: p.side,
    qty: p.maxQty,
    entry_price: averageEntry(p),
    exit_price: p.avgExitPrice ?? price,
    realized_pnl: p.realizedPnl,
    fees: p.fees,
    max_adverse: p.maxAdverse,
    opened_at: p.openedAt,
    closed_at: p.closedAt ?? ts,
  };
}

function positionRow(p: Position, o: PositionOwner, lastPrice: number | null, ts: number): PositionsTable {
  return {
    id: p.id,
    user_id: o.userId,
    recorder_id: o.recorderId,
    target_key: o.targetKey,
    source: p.source,
    opened_by: o.openedBy,
    strategy: o.strategy,
    symbol: p.symbol,
    side: p.side,
    position_side: p.positionSide,
    status: p.closedAt === null ? 'open' : 'closed',
    qty: p.qty,
    max_qty: p.maxQty,
    entry_price: p.entryPrice,
    realized_pnl: p.realizedPnl,
    fees: p.fees,
    funding: p.funding,
    max_adverse: p.maxAdverse,
    stop_loss: p.stopLoss,
    take_profit: p.takeProfit,
    last_price: lastPrice,
    opened_at: p.openedAt,
    closed_at: p.closedAt,
    exit_price: p.exitPrice,
    avg_exit_price: p.avgExitPrice,
    exited_qty: p.exitedQty,
    updated_at: ts,
    external_id: null,
    engine_source_id: null,
    close_reason: null,
    strategy_id: null,
  };
}

/** What a recorder's book needs after a restart: its open positions (with entries) and counters. */
export interface RecorderSnapshot {
  readonly open: Position[];
  /** How many positions the recorder ever had (the id sequence continues after it). */
  readonly issued: number;
  readonly realized: number;
  /** Latest price per ticker among its positions. */
  readonly lastPrice: ReadonlyMap<string, number>;
}

/** Loads a recorder's positions back into ledger form. */
export async function loadRecorderSnapshot(db: Kysely<Database>, recorderId: number): Promise<RecorderSnapshot> {
  const rows = await db.selectFrom('positions').selectAll().where('recorder_id', '=', recorderId).orderBy('opened_at').orderBy('id').execute();
  const open = rows.filter((r) => r.status === 'open');
  const positions = await inLedgerForm(db, open);
  const lastPrice = new Map<string, number>();
  const byUpdate = [...rows].sort((a, b) => a.updated_at - b.updated_at);
  for (const r of byUpdate) if (r.last_price !== null) lastPrice.set(r.symbol, r.last_price);
  return {
    open: positions,
    issued: rows.length,
    realized: rows.reduce((a, r) => a + r.realized_pnl, 0),
    lastPrice,
  };
}

/** Open position rows in ledger form, with their open / add entries (the average entry's history). */
export async function inLedgerForm(db: Kysely<Database>, open: readonly PositionRow[]): Promise<Position[]> {
  if (open.length === 0) return [];
  const entries = await db
    .selectFrom('position_entries')
    .select(['position_id', 'price', 'qty', 'ts'])
    .where(
      'position_id',
      'in',
      open.map((r) => r.id),
    )
    .where('kind', 'in', ['open', 'add'])
    .orderBy('id')
    .execute();
  return open.map((r) => toPosition(r, entries.filter((e) => e.position_id === r.id)));
}

/** A stored position (and its open / add entries) in ledger form. */
function toPosition(r: PositionRow, entries: readonly { price: number; qty: number; ts: number }[]): Position {
  return {
    id: r.id,
    symbol: r.symbol,
    side: r.side as Side,
    positionSide: (r.position_side as Side | null) ?? null,
    qty: r.qty,
    maxQty: r.max_qty,
    entryPrice: r.entry_price,
    entries: entries.map((e) => ({ price: e.price, qty: e.qty, ts: e.ts })),
    realizedPnl: r.realized_pnl,
    fees: r.fees,
    funding: r.funding,
    maxAdverse: r.max_adverse,
    stopLoss: r.stop_loss,
    takeProfit: r.take_profit,
    openedAt: r.opened_at,
    closedAt: r.closed_at,
    exitPrice: r.exit_price,
    avgExitPrice: r.avg_exit_price,
    exitedQty: r.exited_qty,
    source: r.source as PositionSource,
    strategy: r.strategy,
  };
}

/** Filters of a trades query (all optional but the user). */
export interface TradeFilter {
  readonly userId: number;
  readonly recorderId?: number;
  readonly symbol?: string;
  /** Strategy name as shown on the trade. */
  readonly strategy?: string;
  /** Target key; signal trades count on their recorder's targets. */
  readonly targetKey?: string;
  readonly source?: string;
  readonly side?: string;
  /** Closed at or after (epoch ms). */
  readonly from?: number;
  /** Closed at or before (epoch ms). */
  readonly to?: number;
  readonly limit: number;
}

/** A user's closed trades, newest first, filtered. */
export async function listTrades(db: Kysely<Database>, q: TradeFilter): Promise<TradeRow[]> {
  let query = db.selectFrom('trades as t').selectAll('t').where('t.user_id', '=', q.userId);
  if (q.recorderId !== undefined) query = query.where('t.recorder_id', '=', q.recorderId);
  if (q.symbol !== undefined) query = query.where('t.symbol', '=', q.symbol);
  if (q.strategy !== undefined) query = query.where('t.strategy', '=', q.strategy);
  if (q.source !== undefined) query = query.where('t.source', '=', q.source);
  if (q.side !== undefined) query = query.where('t.side', '=', q.side);
  if (q.from !== undefined) query = query.where('t.closed_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('t.closed_at', '<=', q.to);
  if (q.targetKey !== undefined) {
    const key = q.targetKey;
    query = query.where((eb) =>
      eb.or([
        eb('t.target_key', '=', key),
        eb.and([eb('t.target_key', 'is', null), eb('t.recorder_id', 'in', eb.selectFrom('recorder_targets').select('recorder_id').where('target_key', '=', key))]),
      ]),
    );
  }
  return query.orderBy('t.closed_at', 'desc').orderBy('t.id', 'desc').limit(q.limit).execute();
}

/** The fields every API view of a stored position shares (sizes in base units, prices in quote). */
export function positionCore(r: Selectable<PositionsTable>) {
  return {
    id: r.id,
    symbol: r.symbol,
    side: r.side,
    position_side: r.position_side,
    status: r.status,
    size: r.qty,
    max_size: r.max_qty,
    entry_price: r.entry_price,
    realized_pnl: r.realized_pnl,
    tp_price: r.take_profit,
    sl_price: r.stop_loss,
    opened_at: r.opened_at,
    closed_at: r.closed_at,
  };
}
