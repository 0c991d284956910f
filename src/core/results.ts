import type { Side } from './types.ts';

/** Why a position (trade) ended. */
export type ExitReason = 'signal' | 'stop_loss' | 'trailing_stop' | 'take_profit' | 'liquidation' | 'flip' | 'end_of_data';

/** One exit of a trade that left in parts: time (epoch ms), price (quote), quantity (base units), reason. */
export interface TradeExit {
  readonly ts: number;
  readonly price: number;
  readonly qty: number;
  readonly reason: ExitReason;
}

/** One closed round trip, from open to flat. Prices and money in quote currency, times epoch ms. */
export interface TradeRecord {
  readonly id: string;
  readonly symbol: string;
  readonly side: Side;
  /** Hedge-mode leg, or null in one-way mode. */
  readonly positionSide: Side | null;
  /** Largest quantity held (base units). */
  readonly qty: number;
  /** Volume-weighted average entry price. */
  readonly entryPrice: number;
  /** Quantity-weighted average exit price. */
  readonly exitPrice: number;
  readonly entryTime: number;
  readonly exitTime: number;
  /** Realized PnL before fees and funding. */
  readonly grossPnl: number;
  readonly fees: number;
  /** Funding received (negative = paid). */
  readonly funding: number;
  /** Net PnL: gross - fees + funding. */
  readonly pnl: number;
  /** Net PnL as a percentage of the entry notional (maxQty × entryPrice). */
  readonly pnlPercent: number;
  /** Worst unrealized loss while open (>= 0). */
  readonly maxAdverse: number;
  readonly exitReason: ExitReason;
  readonly entries: number;
  /** Every exit in order, when the trade was reduced before it closed (partial take-profits, reduce signals). */
  readonly exits?: readonly TradeExit[];
}

/** A refused order, recorded as a value (not thrown). */
export interface RejectionRecord {
  readonly ts: number;
  readonly symbol: string;
  /** Side of the refused open, or the leg of a refused close (null: a close of every position). */
  readonly side: Side | null;
  readonly reason: 'insufficient_margin' | 'zero_quantity' | 'hedge_mode_required' | 'no_position' | 'no_order' | 'invalid_levels' | 'venue_rejected';
  readonly detail: string;
}

/** Summary metrics of a run. Ratios are plain fractions (0.1 = 10 %); durations in ms. */
export interface Summary {
  readonly initialBalance: number;
  readonly finalEquity: number;
  readonly totalReturn: number;
  readonly cagr: number;
  readonly maxDrawdown: number;
  readonly maxDrawdownDuration: number;
  readonly sharpe: number;
  readonly sortino: number;
  readonly calmar: number;
  readonly trades: number;
  readonly winRate: number;
  readonly profitFactor: number;
  readonly expectancy: number;
  readonly avgWin: number;
  readonly avgLoss: number;
  readonly exposure: number;
  readonly fees: number;
  readonly funding: number;
  readonly liquidations: number;
  readonly rejectedOrders: number;
  readonly ambiguousCandles: number;
  readonly drilledDownCandles: number;
}

/** A time series point for charts: time (epoch ms) and value. */
export interface SeriesPoint {
  readonly t: number;
  readonly v: number;
}
