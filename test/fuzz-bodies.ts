// Generators of hostile and of valid request bodies for test/fuzz-inputs.test.ts (fast-check arbitraries).
// Bodies are built as raw text, so a generator can nest 5,000 deep, write 1e999 or leave invalid UTF-8.
import { request } from 'node:http';
import fc from 'fast-check';

/** A request body as sent: text, or raw bytes (invalid UTF-8). */
export type RawBody = string | Buffer;

/** A raw JSON fragment nested `depth` deep (arrays, objects or both). */
const deep = fc
  .tuple(fc.integer({ min: 33, max: 5000 }), fc.constantFrom('[', '{"a":', 'mix'))
  .map(([depth, kind]) => {
    if (kind === '[') return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    if (kind === '{"a":') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return `${'[{"a":'.repeat(depth >> 1)}1${'}]'.repeat(depth >> 1)}`;
  });

const numberText = fc.constantFrom('1e308', '-1e308', '1e999', '-1e999', '-0', '0', '1e-400', '5e-324', '-1', '1.7976931348623157e308', '123456789012345678901234567890', '1e10', '1000000001', '0.0000001');
const numberString = fc.constantFrom('"1e308"', '"NaN"', '"Infinity"', '"-Infinity"', '"-1"', '" "', '""', '"0x10"', '"1,5"', '"1e999"', '"١٢٣"', '"1_000"', '"+5"', '"  7  "');
const unicodeTicker = fc.constantFrom('ſolusdt', 'ıNJUSDT', 'ßUSDT', 'ﬀUSDT', 'BTCUSDT\u0000', 'ＢＴＣＵＳＤＴ', 'btc\u200busdt', 'BTC\uFEFFUSDT', '\uD800USDT', 'ΒTCUSDT', 'Ⅻusdt', 'btcusdt.p', 'BINANCE:btcusdt', 'a'.repeat(300), '../../etc', '<script>', 'BTC/USDT:USDT');
const wrongType = fc.constantFrom('true', 'false', 'null', '{}', '[]', '[1,2]', '{"a":1}', '[["x"]]', '{"stopPrice":"1e308"}');
const proto = fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"__proto__":null}');
const bigString = fc.integer({ min: 1_000, max: 80_000 }).map((n) => JSON.stringify('A'.repeat(n)));
const anyText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s));

/** One hostile value as a raw JSON fragment. */
export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: deep },
  { weight: 3, arbitrary: numberText },
  { weight: 3, arbitrary: numberString },
  { weight: 3, arbitrary: unicodeTicker.map((t) => JSON.stringify(t)) },
  { weight: 2, arbitrary: wrongType },
  { weight: 1, arbitrary: proto },
  { weight: 1, arbitrary: bigString },
  { weight: 2, arbitrary: anyText },
);

const validish: Readonly<Record<string, fc.Arbitrary<string>>> = {
  ticker: fc.constantFrom('"BTCUSDT"', '"ETHUSDT"', '"SOLUSDT"'),
  action: fc.constantFrom('"buy"', '"sell"', '"close"', '"add"', '"exit"'),
  quantity: fc.constantFrom('1', '"2"', '0.5'),
  price: fc.constantFrom('100', '"25600.5"'),
  order_id: fc.constantFrom('"o1"', '7'),
};

const SIGNAL_KEYS = ['ticker', 'symbol', 'action', 'side', 'quantity', 'qty', 'contracts', 'price', 'order_id', 'time', 'position_size', 'market_position', 'market_position_size', 'sentiment', 'position_side', 'stop_loss', 'take_profit', 'max_lag', 'comment', 'strategy', 'strategy_info', 'marketPosition', '__proto__', 'constructor'];

/** A raw JSON object with some of `keys`, each value hostile or plausible. */
export function hostileObject(keys: readonly string[], plausible: (key: string) => fc.Arbitrary<string>): fc.Arbitrary<string> {
  const entry = fc.constantFrom(...keys).chain((k) => fc.oneof(hostileValue, plausible(k)).map((v) => `${JSON.stringify(k)}:${v}`));
  return fc.array(entry, { minLength: 1, maxLength: 6 }).map((entries) => `{${entries.join(',')}}`);
}

/** Whole bodies no field reader ever sees: deep at the top, empty, scalars, invalid UTF-8, odd text. */
const hostileTop: fc.Arbitrary<RawBody> = fc.oneof(
  deep,
  fc.constantFrom('', ' ', 'null', '"x"', '1e308', '[]', '{', '{"a":1', '{"a":1}}', 'buy,BTCUSDT,qty=1e308', 'ticker=%FF%FE&action=buy', 'action=buy&action=sell', '\uFEFF{}', '{"a":"\\ud800"}', 'ticker=ıNJUSDT&action=buy&price=1'),
  proto,
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from('{"ticker":"'), Buffer.from(bytes), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","action":"buy"}')])),
);

/** A valid signal with one field replaced (or added) by a hostile value: the bodies that get furthest in. */
const oneBadField: fc.Arbitrary<string> = fc.tuple(fc.constantFrom(...SIGNAL_KEYS), hostileValue).map(([key, bad]) => {
  const fields = new Map<string, string>([['ticker', '"BTCUSDT"'], ['action', '"buy"'], ['quantity', '1'], ['price', '100']]);
  fields.set(key, bad);
  return `{${[...fields].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
});

/** A hostile signal webhook body. */
export const hostileSignal: fc.Arbitrary<RawBody> = fc.oneof(
  { weight: 4, arbitrary: oneBadField },
  { weight: 4, arbitrary: hostileObject(SIGNAL_KEYS, (k) => (Object.hasOwn(validish, k) ? validish[k] : undefined) ?? fc.constant('"x"')) },
  { weight: 1, arbitrary: hostileTop },
);

/** Content types an attacker or a careless sender sends (undefined: no header at all). */
export const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(undefined, '', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'application/xml', ' ;', 'application/json; charset=utf-8');

// At least 1: BTCUSDT's price tick is 0.1, and a price below the tick is refused (docs/signals.md, Limits).
const price = fc.double({ min: 1, max: 1e6, noNaN: true }).map((p) => Math.round(p * 100) / 100).filter((p) => p > 0);
const qty = fc.double({ min: 0.001, max: 1e4, noNaN: true }).map((q) => Math.round(q * 1000) / 1000).filter((q) => q > 0);
const ticker = fc.constantFrom('BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'BINANCE:BTCUSDT.P', 'btcusdt', 'BTC/USDT:USDT');

/** A valid signal body of a documented format (docs/signals.md), as text; every one must be accepted. */
export const validSignal: fc.Arbitrary<string> = fc.oneof(
  fc.record({ ticker, action: fc.constantFrom('buy', 'sell', 'close', 'long', 'short'), quantity: qty, price }).map((b) => JSON.stringify(b)),
  fc.record({ ticker, action: fc.constantFrom('buy', 'sell'), qty: qty.map(String), price: price.map(String) }).map((b) => JSON.stringify(b)),
  fc.tuple(ticker, fc.constantFrom('long', 'short'), qty, price).map(([t, mp, q, p]) =>
    JSON.stringify({ ticker: t, action: mp === 'long' ? 'buy' : 'sell', contracts: String(q), price: String(p), market_position: mp, position_size: String(mp === 'long' ? q : -q) }),
  ),
  fc.tuple(ticker, fc.constantFrom('bullish', 'bearish', 'flat'), qty, price).map(([t, s, q, p]) => JSON.stringify({ ticker: t, action: s === 'bearish' ? 'sell' : s === 'flat' ? 'exit' : 'buy', sentiment: s, quantity: q, price: p })),
  fc.tuple(fc.constantFrom('buy', 'sell', 'closelong', 'closeshort', 'closeall'), fc.constantFrom('BTCUSDT', 'ETHUSDT'), qty, price).map(([c, t, q, p]) => `12345,${c},${t},qty=${q},price=${p}`),
  fc.tuple(fc.constantFrom('buy', 'sell'), fc.constantFrom('BTCUSDT', 'SOLUSDT'), qty, price).map(([a, t, q, p]) => `ticker=${t}&action=${a}&quantity=${q}&price=${p}`),
);

/** A valid engine event (docs/engine-events.md) on sim:paper. */
export const validEngineEvent: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    type: fc.constantFrom('position_opened', 'position_updated', 'position_closed'),
    id: fc.stringMatching(/^[a-z0-9]{1,12}$/),
    symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'BTC/USDT:USDT'),
    side: fc.constantFrom('long', 'short', 'LONG'),
    qty,
    entry: price,
    sl: fc.option(price, { nil: null }),
  })
  .map((e) => ({ event_type: e.type, position_id: e.id, target: 'sim:paper', symbol: e.symbol, data: { side: e.side, qty: e.qty, entry_price: e.entry, stop_loss: e.sl } }));

/** Valid bodies of JSON routes (docs/tracker.md, docs/dashboard.md): each must answer 2xx. */
export const validApiBody: fc.Arbitrary<{ readonly path: string; readonly body: Record<string, unknown> }> = fc.oneof(
  fc
    .record({ name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,30}$/), qty, mode: fc.constantFrom('oneway', 'hedge'), multiplier: fc.constantFrom(0.5, 1, 2, 1000) })
    .map((r) => ({ path: '/api/recorders', body: { name: r.name, position_mode: r.mode, default_qty: r.qty, targets: [{ target: 'sim:paper', multiplier: r.multiplier }] } })),
  fc
    .record({ symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'BTC/USDT:USDT', 'btcusdt'), side: fc.constantFrom('buy', 'sell'), qty, price, type: fc.constantFrom('market', 'limit') })
    .map((o) => ({ path: '/api/orders', body: { target: 'sim:paper', symbol: o.symbol, side: o.side, type: o.type, qty: o.qty, ...(o.type === 'limit' ? { price: o.price } : {}) } })),
);

const ENGINE_KEYS = ['event_type', 'position_id', 'target', 'exchange', 'env', 'symbol', 'timestamp', 'strategy', 'sequence', 'data', '__proto__'];
const DATA_KEYS = ['side', 'qty', 'entry_price', 'max_qty', 'realized_pnl', 'fees', 'funding', 'stop_loss', 'take_profit', 'opened_at', 'closed_at', 'exit_price', 'entries', 'symbol'];
const engineValid: Readonly<Record<string, fc.Arbitrary<string>>> = {
  event_type: fc.constantFrom('"position_opened"', '"position_closed"'),
  position_id: fc.constantFrom('"p1"', '7'),
  target: fc.constantFrom('"sim:paper"', '"bybit:paper"'),
  symbol: fc.constantFrom('"BTCUSDT"', '"BTC/USDT:USDT"'),
  timestamp: fc.constant('"2026-11-21T10:00:00Z"'),
  side: fc.constantFrom('"long"', '"short"'),
  qty: fc.constantFrom('1', '0.5'),
  entry_price: fc.constantFrom('100', '25000'),
  entries: fc.constant('[{"price":1e308,"qty":1e308,"ts":1e308}]'),
  opened_at: fc.constantFrom('1e300', '"9999999999999999999"', '-1'),
};

/** A hostile engine event: its top level or its `data` attacked. */
export const hostileEngineEvent: fc.Arbitrary<RawBody> = fc.oneof(
  hostileObject(ENGINE_KEYS, (k) => (Object.hasOwn(engineValid, k) ? engineValid[k] : undefined) ?? fc.constant('"x"')),
  hostileObject(DATA_KEYS, (k) => (Object.hasOwn(engineValid, k) ? engineValid[k] : undefined) ?? fc.constant('1')).map(
    (data) => `{"event_type":"position_opened","position_id":"p9","target":"sim:paper","symbol":"BTCUSDT","timestamp":"2026-11-21T10:00:00Z","data":${data}}`,
  ),
  hostileTop,
);

/** Hostile query values (as sent in the URL, before encoding). */
export const hostileQueryValue: fc.Arbitrary<string> = fc.constantFrom('', '-1', '0', '1e308', 'NaN', 'Infinity', '1.5', '99999999999999999999999', 'ıNJUSDT', 'x'.repeat(3000), '%', '[]', '{}', 'null', 'true', '__proto__', 'sim:paper', 'bybit:nope', '::', 'open', 'BTCUSDT');

/** A raw HTTP request, so the test decides every header (fetch would add a content-type of its own). */
export function rawRequest(base: string, method: string, path: string, body: RawBody, headers: Record<string, string>): Promise<{ status: number; json: Record<string, unknown> }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown>;
        try {
          json = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
        } catch {
          json = { text: text.slice(0, 200) };
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

