import { instrumentFor, MAX_PRICE, MAX_QTY } from '../core/instrument.ts';
import type { Side } from '../core/types.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { decodeBody } from './body.ts';
import {
  ACTION_WORDS,
  detectFormat,
  isObject,
  MARKET_POSITION_WORDS,
  QUANTITY_UNITS,
  readCommaText,
  readFields,
  rejectPlaceholders,
  SENTIMENT_WORDS,
  type ActionMeaning,
  type Fields,
  type MarketPosition,
} from './formats.ts';
import { quote, readNumber, readText, readTicker, readTime, readWord, reject, Rejection, SIDE_WORDS, type Found } from './parse-values.ts';
import type { NormalizedSignal, ParseOutcome, SignalFormat } from './signal.ts';

/**
 * Turns one webhook body into a normalised, frozen signal, or the reason it cannot be one. The format is
 * detected from the content (JSON object, form fields, PineConnector comma text), never from the
 * content-type, which only helps name a JSON scalar. Pure: no I/O, no clock.
 */
export function parseSignalBody(raw: string, opts: { readonly contentType?: string } = {}): ParseOutcome {
  try {
    const body = decodeBody(raw, opts.contentType);
    if (body.kind === 'text') return signal(buildSignal('pineconnector', readCommaText(body.parts)));
    rejectPlaceholders(body.fields);
    const format = detectFormat(body.fields);
    return signal(buildSignal(body.kind === 'form' ? 'form' : format, readFields(body.fields, format)));
  } catch (err) {
    if (err instanceof Rejection) return Object.freeze({ kind: 'invalid', reason: err.message });
    throw err;
  }
}

/** Largest max lag a body may give (seconds): a year; a recorder's own limit is at most a week anyway. */
const MAX_LAG_SECONDS = 365 * 86_400;

function signal(value: NormalizedSignal): ParseOutcome {
  return Object.freeze({ kind: 'signal', signal: Object.freeze(value) });
}

function buildSignal(format: SignalFormat, fields: Fields): NormalizedSignal {
  const ticker = readTicker(fields.ticker);
  const word = readWord(fields.action, ACTION_WORDS, 'an action');
  const market = readMarketPosition(fields);
  const targetSize = readTargetSize(fields, market);
  const { action, positionSide: sideOfAction } = decideAction(word, market, targetSize);
  const maxLagSeconds = readNumber(fields.maxLag, 'amount', MAX_LAG_SECONDS);
  const price = readNumber(fields.price, 'amount', MAX_PRICE);
  const stopLoss = readNumber(levelOf(fields.stopLoss, 'stopPrice'), 'amount', MAX_PRICE);
  const takeProfit = readNumber(levelOf(fields.takeProfit, 'limitPrice'), 'amount', MAX_PRICE);
  refuseBelowTick(ticker, [
    [fields.price, price],
    [fields.stopLoss, stopLoss],
    [fields.takeProfit, takeProfit],
  ]);
  return {
    format,
    action,
    ticker,
    qty: isQuantity(fields.qtyUnit) ? readNumber(fields.qty, 'amount', MAX_QTY) : null,
    price,
    time: readTime(fields.time),
    orderId: readText(fields.orderId),
    targetSize,
    positionSide: readPositionSide(fields.positionSide, sideOfAction, fields.action),
    stopLoss,
    takeProfit,
    maxLagMs: maxLagSeconds === null ? null : Math.round(maxLagSeconds * 1000),
    comment: isObject(fields.comment?.value) ? null : readText(fields.comment),
  };
}

/**
 * Refuses a price below the price tick of an instrument Halyard knows (BTCUSDT's is 0.1): the venue would
 * round it to 0, and a mark of 0 makes every later fill on the simulated venue fail.
 */
function refuseBelowTick(ticker: string, prices: readonly (readonly [Found | undefined, number | null])[]): void {
  let symbol: string;
  try {
    symbol = venueSymbol(ticker, 'binance');
  } catch {
    return; // not a perpetual Halyard can name: the venue says what it thinks of the price
  }
  const { tick } = instrumentFor(symbol);
  for (const [found, price] of prices) {
    if (price !== null && tick > 0 && price < tick) reject(`field ${found?.name ?? 'price'} ${price} is below the price tick ${tick} of ${ticker}`);
  }
}

function readMarketPosition(fields: Fields): MarketPosition | null {
  return (
    readWord(fields.marketPosition, MARKET_POSITION_WORDS, 'a market position') ??
    readWord(fields.sentiment, SENTIMENT_WORDS, 'a sentiment')
  );
}

/**
 * Signed size after the signal. `position_size` is signed already; `market_position_size` is absolute and
 * takes its sign from the market position. Flat is 0. Sizes that contradict the market position are refused:
 * they mean the alert template mixes up its placeholders, and the tracker would move the position wrongly.
 */
function readTargetSize(fields: Fields, market: MarketPosition | null): number | null {
  const signed = readNumber(fields.positionSize, 'signed');
  const absolute = readNumber(fields.marketPositionSize, 'size');
  const marketName = (fields.marketPosition ?? fields.sentiment)?.name ?? '';
  const disagree = (found: Found | undefined, size: number): never =>
    reject(`field ${found?.name ?? ''} ${size} disagrees with ${marketName} ${market ?? ''}`);
  if (signed !== null && absolute !== null && Math.abs(signed) !== absolute) {
    reject(`field ${fields.positionSize?.name ?? ''} ${signed} disagrees with ${fields.marketPositionSize?.name ?? ''} ${absolute}`);
  }
  const size = signed ?? (absolute === null ? null : absolute * (market === 'short' ? -1 : 1));
  if (market === null) {
    if (signed === null && absolute !== null && absolute !== 0) {
      reject(`field ${fields.marketPositionSize?.name ?? ''} needs market_position (long or short) to give it a sign`);
    }
    return size;
  }
  const found = signed !== null ? fields.positionSize : fields.marketPositionSize;
  if (size !== null && marketOfSize(size) !== market) disagree(found, size);
  return market === 'flat' ? 0 : size;
}

function marketOfSize(size: number): MarketPosition {
  return size > 0 ? 'long' : size < 0 ? 'short' : 'flat';
}

/** A flat market position closes whatever the action word; without a word, the target decides. */
function decideAction(word: ActionMeaning | null, market: MarketPosition | null, targetSize: number | null): ActionMeaning {
  if (market === 'flat') return { action: 'CLOSE', positionSide: word?.positionSide ?? null };
  if (word !== null) return word;
  const direction = market ?? (targetSize === null ? null : marketOfSize(targetSize));
  if (direction === 'long') return { action: 'BUY', positionSide: null };
  if (direction === 'short') return { action: 'SELL', positionSide: null };
  if (direction === 'flat') return { action: 'CLOSE', positionSide: null };
  return reject('missing action');
}

function readPositionSide(found: Found | undefined, sideOfAction: Side | null, action: Found | undefined): Side | null {
  const side = readWord(found, SIDE_WORDS, 'a position side');
  if (side !== null && sideOfAction !== null && side !== sideOfAction) {
    reject(`field ${found?.name ?? ''} ${side} contradicts ${action?.name ?? 'action'} ${quote(action?.value)}`);
  }
  return side ?? sideOfAction;
}

/** An amount is a quantity unless its unit says otherwise (a percentage, margin, a quote or dollar amount). */
function isQuantity(unit: Found | undefined): boolean {
  return unit === undefined || (typeof unit.value === 'string' && QUANTITY_UNITS.has(unit.value.trim().toLowerCase()));
}

/** TradersPost nests levels (`stopLoss: {stopPrice}`); only the absolute price is a level Halyard can keep. */
function levelOf(found: Found | undefined, key: 'stopPrice' | 'limitPrice'): Found | undefined {
  if (found === undefined || !isObject(found.value)) return found;
  const value = found.value[key];
  if (value === undefined || value === null || value === '') {
    reject(`field ${found.name} needs an absolute ${key}; offsets (percent, amount) are not supported`);
  }
  return { name: `${found.name}.${key}`, value };
}
