import type { Side } from '../core/types.ts';
import { quote, reject, type Found } from './parse-values.ts';
import type { SignalAction, SignalFormat } from './signal.ts';

/** The fields the parser reads, whatever each sender calls them. */
export type FieldKey =
  | 'ticker'
  | 'action'
  | 'qty'
  | 'qtyUnit'
  | 'price'
  | 'time'
  | 'orderId'
  | 'positionSide'
  | 'stopLoss'
  | 'takeProfit'
  | 'maxLag'
  | 'comment'
  | 'marketPosition'
  | 'marketPositionSize'
  | 'positionSize'
  | 'sentiment';

/** The fields found in one body, each with the name it had there. */
export type Fields = Partial<Record<FieldKey, Found>>;

/** The formats that arrive as key/value objects (JSON, or form fields read the same way). */
export type ObjectFormat = Exclude<SignalFormat, 'pineconnector' | 'form'>;

/** Where each field may sit in a body of one format: dotted paths, the first one present wins. */
type PathTable = Readonly<Record<FieldKey, readonly string[]>>;

const NATIVE: PathTable = {
  ticker: ['ticker', 'symbol'],
  action: ['action', 'side'],
  qty: ['qty', 'quantity', 'size', 'contracts'],
  qtyUnit: [],
  price: ['price'],
  time: ['time', 'timestamp'],
  orderId: ['order_id', 'orderId', 'id'],
  positionSide: ['position_side', 'positionSide'],
  stopLoss: ['stop_loss', 'stopLoss', 'sl'],
  takeProfit: ['take_profit', 'takeProfit', 'tp'],
  maxLag: ['max_lag', 'maxLag'],
  comment: ['comment'],
  marketPosition: [],
  marketPositionSize: [],
  positionSize: [],
  sentiment: [],
};

/** Field paths per format. TradingView alerts may also nest the strategy values under `strategy`. */
export const FIELD_PATHS: Readonly<Record<ObjectFormat, PathTable>> = {
  native: NATIVE,
  tradingview: {
    ...NATIVE,
    action: ['action', 'side', 'strategy.order_action'],
    qty: ['contracts', 'qty', 'quantity', 'size', 'strategy.order_contracts'],
    price: ['price', 'strategy.order_price'],
    orderId: ['order_id', 'orderId', 'id', 'strategy.order_id'],
    // `strategy` is a name when it is text; as an object it holds the nested values (ignored as a comment).
    comment: ['comment', 'strategy.order_comment', 'strategy'],
    marketPosition: ['market_position', 'strategy.market_position'],
    marketPositionSize: ['market_position_size', 'strategy.market_position_size'],
    positionSize: ['position_size', 'strategy.position_size'],
  },
  traderspost: {
    ...NATIVE,
    qty: ['quantity', 'qty'],
    qtyUnit: ['quantityType'],
    price: ['price', 'signalPrice'],
    sentiment: ['sentiment'],
  },
  '3commas': {
    ...NATIVE,
    ticker: ['tv_instrument', 'ticker', 'symbol'],
    price: ['trigger_price', 'price'],
    qty: ['order.amount'],
    qtyUnit: ['order.currency_type'],
    marketPosition: ['strategy_info.market_position'],
    marketPositionSize: ['strategy_info.market_position_size'],
  },
  okx: {
    ...NATIVE,
    ticker: ['instrument', 'ticker', 'symbol'],
    qty: ['amount'],
    qtyUnit: ['investmentType'],
    marketPosition: ['marketPosition'],
  },
};

/** Every top-level key some format reads: a lone `key=value` body with one of these is form encoding. */
export const KNOWN_KEYS: ReadonlySet<string> = new Set(
  Object.values(FIELD_PATHS).flatMap((table) => Object.values(table).flatMap((paths) => paths.map((p) => p.split('.')[0] ?? p))),
);

const TRADINGVIEW_KEYS = ['market_position', 'position_size', 'market_position_size', 'contracts', 'strategy'];
const TRADERSPOST_ACTIONS = new Set(['exit', 'cancel', 'add']);

/** Which sender shaped this object (see docs/signals.md for the rules, in this order). */
export function detectFormat(body: Readonly<Record<string, unknown>>): ObjectFormat {
  const has = (key: string): boolean => Object.hasOwn(body, key);
  if (isObject(body.strategy_info)) return '3commas';
  if (has('marketPosition') || has('signalToken') || has('investmentType')) return 'okx';
  const action = typeof body.action === 'string' ? body.action.trim().toLowerCase() : '';
  if (has('sentiment') || TRADERSPOST_ACTIONS.has(action)) return 'traderspost';
  if (TRADINGVIEW_KEYS.some(has)) return 'tradingview';
  return 'native';
}

/** Picks each field of `format` from `body`; empty text and null count as absent. */
export function readFields(body: Readonly<Record<string, unknown>>, format: ObjectFormat): Fields {
  const fields: Fields = {};
  for (const [key, paths] of Object.entries(FIELD_PATHS[format]) as [FieldKey, readonly string[]][]) {
    for (const path of paths) {
      const value = valueAt(body, path);
      if (isPresent(value)) {
        fields[key] = { name: path, value };
        break;
      }
    }
  }
  return fields;
}

function valueAt(body: unknown, path: string): unknown {
  let node = body;
  for (const key of path.split('.')) {
    if (!isObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');
}

/** True for a plain key/value object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects a body in which any text still holds a TradingView `{{placeholder}}` (names the field). */
export function rejectPlaceholders(value: unknown, name = '', depth = 0): void {
  if (typeof value === 'string') {
    const at = value.indexOf('{{');
    if (at < 0) return;
    const placeholder = /^\{\{[^{}]*\}\}/.exec(value.slice(at))?.[0] ?? value.slice(at, at + 30);
    reject(
      `field ${name} holds an unexpanded placeholder ${placeholder}: TradingView sends a placeholder as typed when it ` +
        'does not know it or it does not apply to the alert ({{strategy.*}} works only in strategy alerts); fix the alert message',
    );
  }
  if (!isObject(value) || depth > 4) return;
  for (const [key, inner] of Object.entries(value)) rejectPlaceholders(inner, name === '' ? key : `${name}.${key}`, depth + 1);
}

/** What an action word means: the normalised action and, for words that name a leg, the hedge-mode side. */
export interface ActionMeaning {
  readonly action: SignalAction;
  readonly positionSide: Side | null;
}

const meaning = (action: SignalAction, positionSide: Side | null = null): ActionMeaning => ({ action, positionSide });

/** Action words (lower case) of every format, PineConnector commands included. */
export const ACTION_WORDS: ReadonlyMap<string, ActionMeaning> = new Map([
  ['buy', meaning('BUY')],
  ['long', meaning('BUY')],
  ['enter_long', meaning('BUY')],
  ['sell', meaning('SELL')],
  ['short', meaning('SELL')],
  ['enter_short', meaning('SELL')],
  ['close', meaning('CLOSE')],
  ['exit', meaning('CLOSE')],
  ['flat', meaning('CLOSE')],
  ['close_all', meaning('CLOSE')],
  ['closeall', meaning('CLOSE')],
  ['closelongshort', meaning('CLOSE')],
  ['exit_long', meaning('CLOSE', 'long')],
  ['close_long', meaning('CLOSE', 'long')],
  ['closelong', meaning('CLOSE', 'long')],
  ['exit_short', meaning('CLOSE', 'short')],
  ['close_short', meaning('CLOSE', 'short')],
  ['closeshort', meaning('CLOSE', 'short')],
  ['add', meaning('ADD')],
  ['cancel', meaning('CANCEL')],
  ['cancellong', meaning('CANCEL', 'long')],
  ['cancelshort', meaning('CANCEL', 'short')],
]);

/** The side a position is on after the signal. */
export type MarketPosition = Side | 'flat';

/** TradingView `{{strategy.market_position}}`, 3Commas and OKX market positions. */
export const MARKET_POSITION_WORDS: ReadonlyMap<string, MarketPosition> = new Map([
  ['long', 'long'],
  ['short', 'short'],
  ['flat', 'flat'],
]);

/** TradersPost sentiment (it also takes TradingView's market positions, as its alert template sends them). */
export const SENTIMENT_WORDS: ReadonlyMap<string, MarketPosition> = new Map([
  ['bullish', 'long'],
  ['bearish', 'short'],
  ['flat', 'flat'],
  ['long', 'long'],
  ['short', 'short'],
]);

/** Amount units that are a quantity (OKX investmentType, 3Commas currency_type, TradersPost quantityType). */
export const QUANTITY_UNITS: ReadonlySet<string> = new Set(['base', 'contract', 'contracts', 'fixed_quantity']);

/** PineConnector commands (lower case), all also in `ACTION_WORDS`. */
export const PINECONNECTOR_COMMANDS = [
  'buy',
  'sell',
  'closelong',
  'closeshort',
  'closeall',
  'close',
  'closelongshort',
  'cancellong',
  'cancelshort',
  'cancel',
] as const;

const COMMANDS: ReadonlySet<string> = new Set(PINECONNECTOR_COMMANDS);
const PARAMS: ReadonlyMap<string, FieldKey> = new Map([
  ['risk', 'qty'],
  ['qty', 'qty'],
  ['size', 'qty'],
  ['price', 'price'],
  ['sl', 'stopLoss'],
  ['tp', 'takeProfit'],
  ['comment', 'comment'],
]);

/** Reads PineConnector text split at its commas: `[LicenseID,]command,symbol[,key=value...]`. */
export function readCommaText(parts: readonly string[]): Fields {
  parts.forEach((part, i) => rejectPlaceholders(part, part.includes('=') ? (part.split('=')[0] ?? '').trim() : `${i + 1} (of the comma text)`));
  const first = (parts[0] ?? '').toLowerCase();
  const at = COMMANDS.has(first) ? 0 : COMMANDS.has((parts[1] ?? '').toLowerCase()) ? 1 : -1;
  const shape = '[LicenseID,]command,symbol[,key=value...]';
  if (parts.length < 2) {
    reject(`unrecognised body ${quote(parts.join(','))}: expected a JSON object, form fields (key=value&...) or PineConnector text ${shape}`);
  }
  if (at < 0) {
    reject(`unknown command in ${quote(parts.slice(0, 2).join(','))} (PineConnector text is ${shape}); known commands: ${PINECONNECTOR_COMMANDS.join(', ')}`);
  }
  const fields: Fields = { action: { name: 'command', value: parts[at] } };
  const symbol = parts[at + 1];
  if (symbol !== undefined && symbol !== '') fields.ticker = { name: 'symbol', value: symbol };
  for (const part of parts.slice(at + 2)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) reject(`PineConnector parameter ${JSON.stringify(part)} is not key=value`);
    const name = part.slice(0, eq).trim().toLowerCase();
    const key = PARAMS.get(name);
    if (key === undefined) continue; // PineConnector has many more settings; Halyard records none of them
    const earlier = fields[key];
    if (earlier !== undefined) reject(`PineConnector parameters ${earlier.name} and ${name} both set ${key}`);
    fields[key] = { name, value: part.slice(eq + 1).trim().replace(/^"(.*)"$/s, '$1') };
  }
  return fields;
}
