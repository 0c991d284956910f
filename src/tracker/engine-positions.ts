import type { Kysely } from 'kysely';
import type { EngineEventType, EnginePositionData } from '../core/engine-event.ts';
import { insertAudit } from '../store/audit.ts';
import { appliedEventsOf, markEngineEvent } from '../store/engine-events.ts';
import { touchLastEvent } from '../store/engine-sources.ts';
import type { PositionRow } from '../store/positions.ts';
import type { Database, PositionsTable } from '../store/schema.ts';
import { ensureStrategy } from '../store/strategies.ts';

/** An engine event after validation: times in epoch ms, the target resolved, `data` complete. */
export interface EngineEvent {
  readonly type: EngineEventType;
  /** The engine's own position id. */
  readonly positionId: string;
  /** Target key `exchange:env`. */
  readonly targetKey: string;
  readonly symbol: string;
  /** When the engine says it happened (epoch ms). */
  readonly ts: number;
  readonly strategy: string | null;
  readonly runId: string | null;
  /** Monotonic per run; null when the engine sends none. */
  readonly sequence: number | null;
  readonly data: EnginePositionData;
}

/** Who sent an event and how it arrived. */
export interface EventOrigin {
  readonly userId: number;
  readonly sourceId: string;
  /** The stored engine_events row. */
  readonly eventId: number;
  /** `webhook` or `poll`. */
  readonly via: 'webhook' | 'poll';
  /** When it was received (epoch ms): moves the source's `last_event_at` for webhooks. */
  readonly receivedAt: number;
}

/** What applying an event did. */
export type ApplyOutcome =
  | { readonly status: 'processed'; readonly positionId: string; readonly action: 'opened' | 'updated' | 'closed' | 'unchanged'; readonly targetKey: string }
  | { readonly status: 'ignored'; readonly positionId: string; readonly reason: string };

/** The ledger id of an engine position: stable per user, source and the engine's own id. */
export function enginePositionId(userId: number, sourceId: string, externalId: string): string {
  return `e${userId}-${sourceId}-${externalId}`;
}

/** Ordering facts of an applied event, read back from its raw body. */
function orderOf(raw: string, ts: number): { ts: number; sequence: number | null; runId: string | null } {
  try {
    const j = JSON.parse(raw) as { sequence?: unknown; run_id?: unknown };
    return { ts, sequence: typeof j.sequence === 'number' ? j.sequence : null, runId: typeof j.run_id === 'string' ? j.run_id : null };
  } catch {
    return { ts, sequence: null, runId: null };
  }
}

/** True when `e` describes an older state than `prior`: by sequence within one run when both have one, else by time. */
function isOlder(e: EngineEvent, prior: { ts: number; sequence: number | null; runId: string | null }): boolean {
  if (e.sequence !== null && prior.sequence !== null && e.runId === prior.runId) return e.sequence < prior.sequence;
  return e.ts < prior.ts;
}

const TRACKED = ['status', 'qty', 'max_qty', 'entry_price', 'realized_pnl', 'fees', 'funding', 'stop_loss', 'take_profit', 'closed_at', 'avg_exit_price'] as const;

/** True when the row `next` differs from `prev` in anything the engine reports. */
export function positionChanged(prev: Pick<PositionsTable, (typeof TRACKED)[number]>, next: Pick<PositionsTable, (typeof TRACKED)[number]>): boolean {
  return TRACKED.some((k) => prev[k] !== next[k]);
}

/** The positions row an event means (before strategy and bookkeeping columns are known). */
export function rowOfEvent(e: EngineEvent, prev: PositionRow | undefined): Omit<PositionsTable, 'id' | 'user_id' | 'engine_source_id' | 'strategy_id' | 'updated_at'> {
  const d = e.data;
  const closed = e.type === 'position_closed' || d.status === 'closed';
  const qty = closed ? 0 : d.qty;
  const maxQty = Math.max(d.max_qty, d.qty, prev?.max_qty ?? 0);
  const exit = d.exit_price ?? null;
  return {
    recorder_id: null,
    target_key: e.targetKey,
    source: 'engine',
    opened_by: 'engine',
    strategy: e.strategy,
    symbol: e.symbol,
    side: d.side,
    position_side: d.position_side,
    status: closed ? 'closed' : 'open',
    qty,
    max_qty: maxQty,
    entry_price: d.entry_price,
    realized_pnl: d.realized_pnl,
    fees: d.fees,
    funding: d.funding,
    max_adverse: prev?.max_adverse ?? 0,
    stop_loss: d.stop_loss,
    take_profit: d.take_profit,
    last_price: closed ? (exit ?? prev?.last_price ?? null) : (prev?.last_price ?? null),
    opened_at: prev ? Math.min(prev.opened_at, d.opened_at) : d.opened_at,
    closed_at: closed ? (d.closed_at ?? e.ts) : null,
    exit_price: exit,
    avg_exit_price: exit,
    exited_qty: Math.max(0, maxQty - qty),
    external_id: e.positionId,
    close_reason: closed ? d.exit_reason : null,
  };
}

/**
 * Applies one stored engine event to the ledger inside `trx`: upserts the position (strategy found or
 * created), writes the audit row, inserts the trade once on close, marks the event. An event older than
 * the state already applied is marked `ignored`; a closed position is final.
 */
export async function applyEngineEvent(trx: Kysely<Database>, o: EventOrigin, e: EngineEvent, now: number): Promise<ApplyOutcome> {
  const id = enginePositionId(o.userId, o.sourceId, e.positionId);
  const prev = await trx.selectFrom('positions').selectAll().where('id', '=', id).executeTakeFirst();
  if (o.via === 'webhook') await touchLastEvent(trx, o.sourceId, o.receivedAt);
  const ignore = async (reason: string): Promise<ApplyOutcome> => {
    await markEngineEvent(trx, o.eventId, 'ignored', reason, now);
    return { status: 'ignored', positionId: id, reason };
  };
  if (prev?.status === 'closed') return ignore('the position is closed already (a close is final)');
  const prior = (await appliedEventsOf(trx, o.sourceId, e.positionId)).filter((p) => p.id !== o.eventId);
  const newer = prior.map((p) => orderOf(p.raw_body, p.event_ts)).find((p) => isOlder(e, p));
  if (newer) return ignore(`older than the state applied already (${newer.sequence !== null && e.sequence !== null ? `sequence ${e.sequence} < ${newer.sequence}` : `time ${e.ts} < ${newer.ts}`})`);

  const strategyId = e.strategy ? await ensureStrategy(trx, o.userId, e.strategy, now) : null;
  const row: PositionsTable = { ...rowOfEvent(e, prev), id, user_id: o.userId, engine_source_id: o.sourceId, strategy_id: strategyId, updated_at: now };
  const changed = !prev || positionChanged(prev, row) || prev.strategy_id !== row.strategy_id;
  if (!prev) await trx.insertInto('positions').values(row).execute();
  else if (changed) {
    const { id: _id, user_id: _u, ...set } = row;
    await trx.updateTable('positions').set(set).where('id', '=', id).execute();
  }
  const action = !changed ? 'unchanged' : row.status === 'closed' ? 'closed' : prev ? 'updated' : 'opened';
  if (action !== 'unchanged') {
    const brief = (r: { status: string; qty: number; entry_price: number }) => ({ status: r.status, qty: r.qty, entry_price: r.entry_price });
    await insertAudit(trx, {
      userId: o.userId,
      positionId: id,
      source: 'engine',
      action,
      detail: { event: e.type, event_id: o.eventId, via: o.via, sequence: e.sequence, before: prev ? brief(prev) : null, after: brief(row), ...(row.close_reason ? { reason: row.close_reason } : {}) },
      ts: now,
    });
  }
  if (row.status === 'closed') await insertTradeOnce(trx, row);
  await markEngineEvent(trx, o.eventId, 'processed', null, now);
  return { status: 'processed', positionId: id, action, targetKey: e.targetKey };
}

/** The round trip of a closed engine position, inserted once whatever replays. */
async function insertTradeOnce(trx: Kysely<Database>, p: PositionsTable): Promise<void> {
  const had = await trx.selectFrom('trades').select('id').where('position_id', '=', p.id).executeTakeFirst();
  if (had) return;
  await trx
    .insertInto('trades')
    .values({
      position_id: p.id,
      user_id: p.user_id,
      recorder_id: null,
      target_key: p.target_key,
      source: 'engine',
      strategy: p.strategy,
      symbol: p.symbol,
      side: p.side,
      qty: p.max_qty,
      entry_price: p.entry_price,
      exit_price: p.avg_exit_price ?? p.last_price ?? p.entry_price,
      realized_pnl: p.realized_pnl,
      fees: p.fees,
      max_adverse: p.max_adverse,
      opened_at: p.opened_at,
      closed_at: p.closed_at ?? p.updated_at,
    })
    .execute();
}
