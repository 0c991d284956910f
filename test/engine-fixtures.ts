import type { EnginePositionData } from '../src/core/engine-event.ts';

/** An engine's open long of 1 BTCUSDT at 100, opened at `opened_at`, with `o` on top (the wire form). */
export function enginePosition(opened_at: number, o: Partial<EnginePositionData> = {}): EnginePositionData {
  return {
    id: 'p1',
    symbol: 'BTCUSDT',
    side: 'long',
    position_side: null,
    status: 'open',
    qty: 1,
    max_qty: 1,
    entry_price: 100,
    entries: [],
    realized_pnl: 0,
    fees: 0,
    funding: 0,
    stop_loss: null,
    take_profit: null,
    opened_at,
    closed_at: null,
    exit_price: null,
    exit_reason: null,
    ...o,
  };
}
