import type { Insertable } from 'kysely';
import { enginePositionData, type EngineEventPayload, type EngineEventType } from '../../core/engine-event.ts';
import type { Position, PositionChange } from '../../core/ledger.ts';
import type { TradeRecord } from '../../core/results.ts';
import type { OutboxTable } from '../../store/schema.ts';

/** What a position looked like before a candle, to tell an update from nothing. */
export interface PositionMark {
  readonly qty: number;
  readonly entryPrice: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
  readonly entries: number;
}

/** Who sends: the run's id, strategy, symbol and target. */
export interface EventSource {
  readonly runId: string;
  readonly strategyName: string;
  readonly symbol: string;
  readonly target: string;
}

/**
 * The engine events of one candle, as outbox rows: `position_opened` for a position that did not exist
 * before (followed by `position_closed` when it also closed), `position_updated` when its size, entry or
 * levels changed, `position_closed` when it closed. Ids are `msg_<run>_<sequence>`, so a candle written
 * twice could never send an event twice.
 */
export function engineEvents(
  src: EventSource,
  changed: ReadonlyMap<string, Position>,
  before: ReadonlyMap<string, PositionMark>,
  exitReasons: ReadonlyMap<string, string>,
  seq: number,
  now: number,
): Insertable<OutboxTable>[] {
  const out: Insertable<OutboxTable>[] = [];
  const emit = (type: EngineEventType, p: Position): void => {
    const sequence = seq + out.length + 1;
    const payload: EngineEventPayload = {
      event_type: type,
      position_id: p.id,
      target: src.target,
      symbol: p.symbol,
      timestamp: new Date(now).toISOString(),
      strategy: src.strategyName,
      run_id: src.runId,
      sequence,
      data: enginePositionData(p, exitReasons.get(p.id) ?? null),
    };
    out.push({
      run_id: src.runId,
      webhook_id: `msg_${src.runId}_${sequence}`,
      event_type: type,
      payload: JSON.stringify(payload),
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      last_error: null,
      created_at: now,
      delivered_at: null,
    });
  };
  for (const [id, p] of changed) {
    const was = before.get(id);
    if (!was) emit('position_opened', p);
    if (p.closedAt !== null) emit('position_closed', p);
    else if (was && (was.qty !== p.qty || was.entryPrice !== p.entryPrice || was.stopLoss !== p.stopLoss || was.takeProfit !== p.takeProfit || was.entries !== p.entries.length)) {
      emit('position_updated', p);
    }
  }
  return out;
}

/** Something a run alerts on: a position as it was right after its opening fill, or a closed trade. */
export type TradeAlert = { readonly kind: 'trade_opened'; readonly position: Position } | { readonly kind: 'trade_closed'; readonly trade: TradeRecord };

/**
 * The alerts of one fill's changes, in the order the ledger made them (on a flip: the close, then the open).
 * `trades` are the trades that fill recorded, one per `closed` change. An opened position is copied, so a
 * later fill of the same candle does not change what its alert says.
 */
export function tradeAlerts(changes: readonly PositionChange[], trades: readonly TradeRecord[]): TradeAlert[] {
  const out: TradeAlert[] = [];
  const byId = new Map(trades.map((t) => [t.id, t]));
  for (const ch of changes) {
    if (ch.kind === 'opened') out.push({ kind: 'trade_opened', position: { ...ch.position, entries: [...ch.position.entries] } });
    else if (ch.kind === 'closed') {
      const trade = byId.get(ch.position.id);
      if (trade) out.push({ kind: 'trade_closed', trade });
    }
  }
  return out;
}
