import { tickerOf } from '../core/instrument.ts';
import { sideSign, type Side } from '../core/types.ts';

/** The latest price of a ticker and when it was seen. */
export interface Mark {
  /** Quote per base unit. */
  readonly price: number;
  /** Epoch ms. */
  readonly ts: number;
}

/**
 * The server's latest prices per ticker (from signal prices, venue snapshots, the demo feed): what live
 * unrealized PnL is marked at. Kept in memory only; a restart starts from the stored last prices again.
 */
export class MarkBook {
  private readonly marks = new Map<string, Mark>();
  /** Bumped on every change, so the push loop knows whether there is anything to send. */
  version = 0;

  /**
   * Records a price (ignored unless a positive number). The latest call wins: sources keep different
   * clocks (a signal's arrival, a replayed candle's close), so their times are shown, not compared.
   */
  set(symbol: string, price: number, ts: number): void {
    if (!(price > 0) || !Number.isFinite(price)) return;
    this.marks.set(tickerOf(symbol), { price, ts });
    this.version++;
  }

  /** The mark of a symbol (any form), if one was seen. */
  get(symbol: string): Mark | undefined {
    return this.marks.get(tickerOf(symbol));
  }

  /** Every mark, by ticker. */
  all(): Record<string, Mark> {
    return Object.fromEntries(this.marks);
  }
}

/** What marking needs of a position view (terminal rows, recorder positions, positions). */
interface Markable {
  readonly status: string;
  readonly symbol: string;
  readonly side: string;
  /** Base units. */
  readonly size: number;
  readonly entry_price: number;
  readonly mark_price: number;
  readonly pnl: number;
}

/** An open position re-marked at the book's price for its ticker (mark and unrealized PnL), when it has one. */
export function marked<T extends Markable>(p: T, marks: MarkBook): T {
  const m = p.status === 'open' ? marks.get(p.symbol) : undefined;
  if (!m) return p;
  return { ...p, mark_price: m.price, pnl: (m.price - p.entry_price) * p.size * sideSign(p.side as Side) };
}
