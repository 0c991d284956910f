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
 * The latest prices per user and ticker (from that user's signal prices, the demo feed): what live
 * unrealized PnL is marked at. Keyed by user so one user's prices never mark another user's positions
 * (a signal at price 1 to B's recorder must not move A's PnL). Kept in memory only; a restart starts from
 * the stored last prices again.
 */
export class MarkBook {
  private readonly byUser = new Map<number, Map<string, Mark>>();
  private readonly versions = new Map<number, number>();

  /**
   * Records a price of `userId` (ignored unless a positive, finite number). The latest call wins: sources
   * keep different clocks (a signal's arrival, a replayed candle's close), so their times are shown, not compared.
   */
  set(userId: number, symbol: string, price: number, ts: number): void {
    if (!(price > 0) || !Number.isFinite(price)) return;
    let book = this.byUser.get(userId);
    if (!book) this.byUser.set(userId, (book = new Map()));
    book.set(tickerOf(symbol), { price, ts });
    this.versions.set(userId, (this.versions.get(userId) ?? 0) + 1);
  }

  /** The mark of `userId` for a symbol (any form), if one was seen. */
  get(userId: number, symbol: string): Mark | undefined {
    return this.byUser.get(userId)?.get(tickerOf(symbol));
  }

  /** Every mark of `userId`, by ticker. */
  all(userId: number): Record<string, Mark> {
    return Object.fromEntries(this.byUser.get(userId) ?? []);
  }

  /** Bumped on every change of `userId`'s marks (0 before the first), so the push loop knows whom to send to. */
  version(userId: number): number {
    return this.versions.get(userId) ?? 0;
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

/** An open position re-marked at `userId`'s price for its ticker (mark and unrealized PnL), when there is one. */
export function marked<T extends Markable>(p: T, marks: MarkBook, userId: number): T {
  const m = p.status === 'open' ? marks.get(userId, p.symbol) : undefined;
  if (!m) return p;
  return { ...p, mark_price: m.price, pnl: (m.price - p.entry_price) * p.size * sideSign(p.side as Side) };
}
