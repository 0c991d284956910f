import { tickerOf } from '../core/instrument.ts';

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
