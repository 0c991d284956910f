import { averageEntry, type Position } from './ledger.ts';

/** The three engine events (ARCHITECTURE.md: Engine event). */
export const ENGINE_EVENT_TYPES = ['position_opened', 'position_updated', 'position_closed'] as const;
/** One of the engine event types. */
export type EngineEventType = (typeof ENGINE_EVENT_TYPES)[number];

/** The full position carried in an engine event's `data` (snake_case, as on the wire). */
export interface EnginePositionData {
  readonly id: string;
  readonly symbol: string;
  /** `long` or `short`. */
  readonly side: string;
  /** Hedge leg (`long` / `short`), or null in one-way mode. */
  readonly position_side: string | null;
  /** `open` or `closed`. */
  readonly status: string;
  /** Open quantity (base units; 0 once closed). */
  readonly qty: number;
  /** Largest quantity held (base units). */
  readonly max_qty: number;
  /** Volume-weighted average entry of the open quantity (quote; the whole position's once closed). */
  readonly entry_price: number;
  readonly entries: readonly { readonly price: number; readonly qty: number; readonly ts: number }[];
  /** Realized PnL before fees and funding (quote). */
  readonly realized_pnl: number;
  /** Fees paid (quote). */
  readonly fees: number;
  /** Funding received (quote, negative = paid). */
  readonly funding: number;
  readonly stop_loss: number | null;
  readonly take_profit: number | null;
  /** Epoch ms. */
  readonly opened_at: number;
  readonly closed_at: number | null;
  /** Average exit price of the reductions so far (quote). */
  readonly exit_price: number | null;
  /** Why it closed (`signal`, `stop_loss`, `take_profit`, ...), when closed. */
  readonly exit_reason: string | null;
}

/**
 * An engine event as posted to `/hooks/engine` (the seed's payload: event_type, position_id, wallet /
 * target, symbol, timestamp, data with the full position, strategy). `sequence` orders one run's events.
 */
export interface EngineEventPayload {
  readonly event_type: EngineEventType;
  readonly position_id: string;
  /** Target key `exchange:env` (e.g. `bybit:paper`). */
  readonly target: string;
  readonly symbol: string;
  /** ISO-8601 UTC. */
  readonly timestamp: string;
  readonly strategy: string | null;
  /** The run that produced it (our engine); other engines may omit it. */
  readonly run_id?: string;
  /** Monotonic per run. */
  readonly sequence?: number;
  readonly data: EnginePositionData;
}

/** The wire form of a core position. */
export function enginePositionData(p: Position, exitReason: string | null = null): EnginePositionData {
  const closed = p.closedAt !== null;
  return {
    id: p.id,
    symbol: p.symbol,
    side: p.side,
    position_side: p.positionSide,
    status: closed ? 'closed' : 'open',
    qty: closed ? 0 : p.qty,
    max_qty: p.maxQty,
    entry_price: closed ? averageEntry(p) : p.entryPrice,
    entries: p.entries.map((e) => ({ price: e.price, qty: e.qty, ts: e.ts })),
    realized_pnl: p.realizedPnl,
    fees: p.fees,
    funding: p.funding,
    stop_loss: p.stopLoss,
    take_profit: p.takeProfit,
    opened_at: p.openedAt,
    closed_at: p.closedAt,
    exit_price: p.avgExitPrice ?? p.exitPrice,
    exit_reason: closed ? exitReason : null,
  };
}
