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
  return asciiUpper(base.replace(/[/\-_]/g, ''));
}

/** Largest quantity any input may carry (base units or contracts): beyond it a number is a typo or an attack. */
export const MAX_QTY = 1e9;
/** Largest price any input may carry (quote per base unit). */
export const MAX_PRICE = 1e9;
/** Largest money amount an engine may report (quote: PnL, fees, funding): `MAX_QTY × MAX_PRICE`. */
export const MAX_MONEY = MAX_QTY * MAX_PRICE;

/** Largest size multiplier of a recorder's target (its signals' quantities times this). */
export const MAX_MULTIPLIER = 1_000;

/** The characters a symbol may have once NFKC-normalised. */
export const SYMBOL_CHARS = /^[A-Za-z0-9._:/-]+$/;

/**
 * A symbol as typed (trimmed), or null unless it is already in NFKC normal form and has only
 * `A-Z a-z 0-9 . _ : / -`. Checked before any case folding, so nothing becomes a market nobody named:
 * `ıNJUSDT` is refused rather than upper-cased into `INJUSDT`, `ßUSDT` rather than into `SSUSDT`, and the
 * characters NFKC would turn into ASCII (`ſ` → `s`, `ﬀ` → `ff`, full-width letters) are refused too, with the
 * ASCII form named in the message (`symbolRefusal`).
 */
export function asciiSymbol(raw: string): string | null {
  const text = raw.trim();
  // SYMBOL_CHARS is ASCII only, which NFKC leaves as it is: the characters NFKC turns into ASCII fail it already.
  return SYMBOL_CHARS.test(text) ? text : null;
}

/** Upper-cases ASCII letters only: no other character can fold into one (`'ı'.toUpperCase()` is `I`). */
export function asciiUpper(text: string): string {
  return text.replace(/[a-z]+/g, (s) => s.toUpperCase());
}

/** The sentence a symbol outside the rule is refused with, naming it. */
export function symbolRefusal(what: string, raw: string): string {
  const nfkc = raw.normalize('NFKC').trim();
  const hint = nfkc !== raw.trim() && SYMBOL_CHARS.test(nfkc) ? `; if you mean ${nfkc}, type it in ASCII` : '';
  return `${what} ${JSON.stringify(raw)} is not an ASCII symbol: use only A-Z 0-9 . _ : / - (e.g. BTCUSDT or BTC/USDT:USDT)${hint}`;
}
