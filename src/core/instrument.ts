/** Trading rules of a perpetual contract. Prices in quote, sizes in base units. */
export interface Instrument {
  /** ccxt unified symbol, e.g. BTC/USDT:USDT. */
  readonly symbol: string;
  /** Price tick (quote). */
  readonly tick: number;
  /** Quantity step (base units). */
  readonly lot: number;
  /** Base units per contract (1 for USDT-margined linear perpetuals on Binance and Bybit). */
  readonly contractSize: number;
}

const KNOWN: Readonly<Record<string, Omit<Instrument, 'symbol'>>> = Object.freeze({
  'BTC/USDT:USDT': { tick: 0.1, lot: 0.001, contractSize: 1 },
  'ETH/USDT:USDT': { tick: 0.01, lot: 0.001, contractSize: 1 },
  'SOL/USDT:USDT': { tick: 0.01, lot: 0.01, contractSize: 1 },
});

/**
 * The instrument's rules: Binance USDⓈ-M values for the symbols we know, else no rounding (tick and lot
 * 0) until the exchange's market data says otherwise.
 */
export function instrumentFor(symbol: string, override: Partial<Omit<Instrument, 'symbol'>> = {}): Instrument {
  const known = KNOWN[symbol] ?? { tick: 0, lot: 0, contractSize: 1 };
  return { symbol, ...known, ...override };
}

/** The ticker of a symbol in any form: `BTC/USDT:USDT`, `BTCUSDT`, `BTC-USDT` → `BTCUSDT` (how signals name it). */
export function tickerOf(symbol: string): string {
  const base = symbol.split(':')[0] ?? symbol;
  return base.replace(/[/\-_]/g, '').toUpperCase();
}
