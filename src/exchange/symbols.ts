import { HalyardError } from '../core/errors.ts';
import { asciiSymbol, asciiUpper, symbolRefusal } from '../core/instrument.ts';
import type { ExchangeId } from './targets.ts';

const QUOTES = ['USDT', 'USDC', 'USD'] as const;

/**
 * The ccxt unified perpetual symbol a signal's ticker means on an exchange: `BTCUSDT`, `BTCUSDT.P`,
 * `BINANCE:BTCUSDT.P`, `BTC-USDT-SWAP`, `BTC/USDT` → `BTC/USDT:USDT`. Hyperliquid settles in USDC, so its
 * symbols are `BTC/USDC:USDC` whatever quote the ticker names. A unified symbol passes through.
 */
export function venueSymbol(ticker: string, exchange: ExchangeId): string {
  // NFKC first, then ASCII only: `ıNJUSDT` must be refused, not upper-cased into INJUSDT.
  const ascii = asciiSymbol(ticker);
  if (ascii === null) throw new HalyardError('invalid_input', symbolRefusal('symbol', ticker), { ticker });
  let t = asciiUpper(ascii);
  if (t.includes(':') && !t.includes('/')) t = t.slice(t.indexOf(':') + 1); // TradingView's EXCHANGE:SYMBOL
  let base: string | undefined;
  let quote: string | undefined;
  const unified = /^([A-Z0-9]+)\/([A-Z]+)(?::([A-Z]+))?$/.exec(t);
  if (unified) {
    base = unified[1];
    quote = unified[3] ?? unified[2];
  } else {
    const bare = t.replace(/\.P$|PERP$|-SWAP$/, '').replace(/[-_]/g, '');
    const q = QUOTES.find((x) => bare.endsWith(x) && bare.length > x.length);
    if (q) {
      base = bare.slice(0, -q.length);
      quote = q === 'USD' ? 'USDT' : q;
    }
  }
  if (!base || !quote || !/^[A-Z0-9]+$/.test(base)) {
    throw new HalyardError('invalid_input', `cannot tell which perpetual "${ticker}" means: use BTCUSDT, BTCUSDT.P or BTC/USDT:USDT`, { ticker });
  }
  const settle = exchange === 'hyperliquid' ? 'USDC' : quote;
  return `${base}/${settle}:${settle}`;
}
