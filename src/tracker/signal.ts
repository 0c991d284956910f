import type { Side } from '../core/types.ts';

/** What an external signal asks for, after normalisation. */
export const SIGNAL_ACTIONS = ['BUY', 'SELL', 'CLOSE', 'ADD', 'CANCEL'] as const;

/** A normalised action. */
export type SignalAction = (typeof SIGNAL_ACTIONS)[number];

/** The body formats the webhook understands (detected from the body, whatever the content-type says). */
export const SIGNAL_FORMATS = ['native', 'tradingview', 'traderspost', '3commas', 'okx', 'pineconnector', 'form'] as const;

/** A detected body format. */
export type SignalFormat = (typeof SIGNAL_FORMATS)[number];

/**
 * Where a stored signal came from: a webhook body's format, `dashboard` for a close clicked on a signal
 * position, or `venue` for the close a signal's own stop-loss / take-profit made when it filled at a venue.
 */
export type SignalOrigin = SignalFormat | 'dashboard' | 'venue';

/**
 * One webhook delivery normalised. Numbers are plain floats; times epoch ms (UTC).
 * Frozen value object: the tracker stores it beside the raw body.
 */
export interface NormalizedSignal {
  readonly format: SignalOrigin;
  readonly action: SignalAction;
  /** Instrument, upper-cased, with an exchange prefix and TradingView's perpetual `.P` suffix removed (`BINANCE:BTCUSDT.P` → `BTCUSDT`). */
  readonly ticker: string;
  /** Order quantity (base units or contracts, > 0), null when the body carries none, 0, or an amount in another unit (percent, quote, margin). */
  readonly qty: number | null;
  /** Signal price (quote), null when the body carries none. */
  readonly price: number | null;
  /** Time the signal was generated (epoch ms) when the body says, else null. */
  readonly time: number | null;
  /** Order or alert id from the body (TradingView `{{strategy.order.id}}`, ...), null when absent. */
  readonly orderId: string | null;
  /**
   * Signed target position size after this signal (long > 0, short < 0, flat 0) when the body carries
   * `position_size` / `market_position_size` (+ `market_position`), else null. The tracker then moves the
   * position to this size, which heals a missed alert.
   */
  readonly targetSize: number | null;
  /** Hedge mode: which leg the signal acts on (`long`/`short`), null when the body does not say. */
  readonly positionSide: Side | null;
  /** Absolute stop-loss price, null when absent. */
  readonly stopLoss: number | null;
  /** Absolute take-profit price, null when absent. */
  readonly takeProfit: number | null;
  /** Maximum lag the sender allows (ms), when the body carries one (`max_lag` / `maxLag`, sent in seconds; 0 counts as none). */
  readonly maxLagMs: number | null;
  /** Free-text comment or strategy name from the body, null when absent. */
  readonly comment: string | null;
}

/** The outcome of parsing a body: a signal, or a reason it cannot be one (answered 400, nothing stored). */
export type ParseOutcome =
  | { readonly kind: 'signal'; readonly signal: NormalizedSignal }
  | { readonly kind: 'invalid'; readonly reason: string };
