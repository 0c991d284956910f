import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACTION_WORDS, PINECONNECTOR_COMMANDS } from './formats.ts';
import { parseSignalBody } from './parse.ts';
import { SIGNAL_FORMATS, type NormalizedSignal } from './signal.ts';

/** 2026-11-21T10:00:00Z, the time in most bodies below. */
const T = Date.UTC(2026, 10, 21, 10);

function signalOf(raw: string, contentType?: string): NormalizedSignal {
  const out = parseSignalBody(raw, contentType === undefined ? {} : { contentType });
  if (out.kind !== 'signal') throw new Error(`expected a signal from ${raw}, got: ${out.reason}`);
  return out.signal;
}

function reasonOf(raw: string, contentType?: string): string {
  const out = parseSignalBody(raw, contentType === undefined ? {} : { contentType });
  if (out.kind !== 'invalid') throw new Error(`expected ${raw} to be refused, got ${JSON.stringify(out.signal)}`);
  return out.reason;
}

const json = (body: Record<string, unknown>): string => JSON.stringify(body);
const btc = (extra: Record<string, unknown>): string => json({ ticker: 'BTCUSDT', ...extra });

describe('decoding the body', () => {
  it('refuses an empty body, white space and a lone byte-order mark', () => {
    expect(reasonOf('')).toBe('empty body');
    expect(reasonOf(' \n\t ')).toBe('empty body');
    expect(reasonOf('\uFEFF')).toBe('empty body');
  });

  it('refuses invalid JSON with the parser message, and points at an unquoted placeholder', () => {
    expect(reasonOf('{"ticker":"BTCUSDT",')).toMatch(/^invalid JSON: /);
    expect(reasonOf('{"ticker":"BTCUSDT","price":{{close}}}')).toMatch(/^invalid JSON: .*placeholder \{\{close\}\}/);
  });

  it('refuses JSON that is not one object', () => {
    expect(reasonOf('[{"ticker":"BTCUSDT","action":"buy"}]')).toContain('an array');
    expect(reasonOf('"buy"')).toContain('a string');
    expect(reasonOf('42', 'application/json')).toContain('a number');
    expect(reasonOf('null', 'application/json; charset=utf-8')).toContain('null');
  });

  it('detects the format from the body, whatever the content-type says', () => {
    expect(signalOf(btc({ action: 'buy' }), 'application/x-www-form-urlencoded').format).toBe('native');
    expect(signalOf('ticker=BTCUSDT&action=buy', 'application/json').format).toBe('form');
    expect(signalOf('buy,BTCUSDT', 'application/json').format).toBe('pineconnector');
  });

  it('refuses text that is no format, and several lines of text', () => {
    expect(reasonOf('hello')).toMatch(/^unrecognised body "hello": expected a JSON object, form fields/);
    expect(reasonOf('buy,BTCUSDT\nsell,BTCUSDT')).toContain('one signal per body');
  });

  it('returns frozen outcomes', () => {
    const out = parseSignalBody(btc({ action: 'buy' }));
    expect(Object.isFrozen(out)).toBe(true);
    expect(out.kind === 'signal' && Object.isFrozen(out.signal)).toBe(true);
    expect(() => {
      (signalOf(btc({ action: 'buy' })) as { ticker: string }).ticker = 'ETHUSDT';
    }).toThrow(TypeError);
  });
});

describe('native JSON', () => {
  it('reads every field', () => {
    const s = signalOf(btc({ action: 'buy', quantity: 1, price: 25600, position_side: 'long', stop_loss: 25000, take_profit: 27000, time: T, order_id: 'o-1', comment: 'hi', max_lag: 30 }));
    expect(s).toEqual({
      format: 'native', action: 'BUY', ticker: 'BTCUSDT', qty: 1, price: 25600, time: T, orderId: 'o-1', targetSize: null,
      positionSide: 'long', stopLoss: 25000, takeProfit: 27000, maxLagMs: 30_000, comment: 'hi',
    });
  });

  it('accepts the other field names', () => {
    const s = signalOf(json({ symbol: 'ETHUSDT', side: 'SELL', size: '2', positionSide: 'short', sl: 3200, tp: 2900, timestamp: T, id: 7 }));
    expect(s).toMatchObject({ format: 'native', action: 'SELL', ticker: 'ETHUSDT', qty: 2, positionSide: 'short', stopLoss: 3200, takeProfit: 2900, time: T, orderId: '7' });
    expect(signalOf(btc({ action: 'buy', qty: 3 })).qty).toBe(3);
    expect(signalOf(json({ symbol: 'BTCUSDT', action: 'buy', stopLoss: 1, takeProfit: 2, orderId: 'x' }))).toMatchObject({ stopLoss: 1, takeProfit: 2, orderId: 'x' });
  });

  it('treats null and empty text as absent', () => {
    expect(signalOf(btc({ action: 'buy', price: '', qty: null, order_id: ' ' }))).toMatchObject({ price: null, qty: null, orderId: null });
    expect(reasonOf(json({ ticker: '', action: 'buy' }))).toBe('missing ticker');
  });

  it('refuses a comment or id that is not text', () => {
    expect(reasonOf(btc({ action: 'buy', order_id: true }))).toBe('field order_id must be text: true');
  });
});

const TV_SELL = {
  ticker: 'BINANCE:BTCUSDT.P', action: 'sell', contracts: '3', price: '25600.5', market_position: 'short',
  market_position_size: '2', position_size: '-2', time: '2026-11-21T10:00:00Z', order_id: 'Short',
};

describe('TradingView alert JSON', () => {
  it('reads an expanded strategy alert: a reversal to short 2', () => {
    expect(signalOf(json(TV_SELL))).toEqual({
      format: 'tradingview', action: 'SELL', ticker: 'BTCUSDT', qty: 3, price: 25600.5, time: T, orderId: 'Short', targetSize: -2,
      positionSide: null, stopLoss: null, takeProfit: null, maxLagMs: null, comment: null,
    });
  });

  it('closes on market_position flat whatever the action, with target 0 and 0 contracts as no quantity', () => {
    const s = signalOf(json({ ...TV_SELL, action: 'buy', contracts: '0', market_position: 'flat', market_position_size: '0', position_size: '0' }));
    expect(s).toMatchObject({ action: 'CLOSE', targetSize: 0, qty: null });
  });

  it('signs market_position_size from market_position', () => {
    expect(signalOf(btc({ action: 'buy', market_position: 'long', market_position_size: '1.5' })).targetSize).toBe(1.5);
    expect(signalOf(btc({ action: 'sell', market_position: 'SHORT', market_position_size: 1.5 })).targetSize).toBe(-1.5);
    expect(signalOf(btc({ action: 'sell', market_position: 'long' }))).toMatchObject({ format: 'tradingview', action: 'SELL', targetSize: null });
  });

  it('refuses sizes that contradict the market position or each other', () => {
    expect(reasonOf(btc({ action: 'sell', market_position: 'long', position_size: '-2' }))).toBe('field position_size -2 disagrees with market_position long');
    expect(reasonOf(btc({ action: 'sell', market_position: 'flat', market_position_size: '2' }))).toBe('field market_position_size 2 disagrees with market_position flat');
    expect(reasonOf(btc({ action: 'buy', market_position: 'long', market_position_size: '0' }))).toContain('disagrees');
    expect(reasonOf(btc({ action: 'buy', position_size: '2', market_position_size: '3' }))).toBe('field position_size 2 disagrees with market_position_size 3');
    expect(reasonOf(btc({ action: 'buy', market_position_size: '2' }))).toContain('needs market_position');
    expect(reasonOf(btc({ action: 'buy', market_position: 'up' }))).toMatch(/^field market_position must be a market position \(one of long, short, flat\), got "up"$/);
  });

  it('refuses a value TradingView did not expand, naming the field and the placeholder', () => {
    const reason = reasonOf(json({ ...TV_SELL, price: '{{close}}' }));
    expect(reason).toMatch(/^field price holds an unexpanded placeholder \{\{close\}\}: /);
    expect(reasonOf(json({ ticker: 'BTCUSDT', strategy: { order_action: 'x {{strategy.order.action}}' } }))).toMatch(/^field strategy\.order_action holds .*\{\{strategy\.order\.action\}\}/);
  });

  it('reads the values nested under strategy, and a strategy name as the comment', () => {
    const nested = { ticker: 'BTCUSDT', strategy: { order_action: 'buy', order_contracts: 2, order_price: 100, order_id: 'L', market_position: 'long', market_position_size: 2, position_size: 2 } };
    expect(signalOf(json(nested))).toMatchObject({ format: 'tradingview', action: 'BUY', qty: 2, price: 100, orderId: 'L', targetSize: 2, comment: null });
    expect(signalOf(btc({ action: 'buy', strategy: 'SMA cross' }))).toMatchObject({ format: 'tradingview', comment: 'SMA cross' });
  });
});

describe('TradersPost JSON', () => {
  it('maps exit, cancel and add, and sentiment flat to CLOSE with target 0', () => {
    expect(signalOf(btc({ action: 'exit' }))).toMatchObject({ format: 'traderspost', action: 'CLOSE', targetSize: null });
    expect(signalOf(btc({ action: 'cancel' })).action).toBe('CANCEL');
    expect(signalOf(btc({ action: 'add', quantity: 1 }))).toMatchObject({ action: 'ADD', qty: 1 });
    expect(signalOf(btc({ action: 'buy', sentiment: 'flat' }))).toMatchObject({ action: 'CLOSE', targetSize: 0 });
  });

  it('reads levels as prices or objects, and refuses relative offsets', () => {
    const s = signalOf(btc({ action: 'buy', sentiment: 'bullish', stopLoss: { type: 'stop', stopPrice: '25000' }, takeProfit: 27000 }));
    expect(s).toMatchObject({ stopLoss: 25000, takeProfit: 27000 });
    expect(signalOf(btc({ action: 'buy', sentiment: 'bullish', takeProfit: { limitPrice: 27000 } })).takeProfit).toBe(27000);
    expect(reasonOf(btc({ action: 'buy', sentiment: 'bullish', stopLoss: { percent: 5 } }))).toBe('field stopLoss needs an absolute stopPrice; offsets (percent, amount) are not supported');
    expect(reasonOf(btc({ action: 'buy', sentiment: 'bullish', stopLoss: { stopPrice: 'x' } }))).toBe('field stopLoss.stopPrice is not a number: "x"');
  });

  it('takes the quantity only when quantityType is a fixed quantity', () => {
    expect(signalOf(btc({ action: 'buy', sentiment: 'bullish', quantity: 2, quantityType: 'fixed_quantity' })).qty).toBe(2);
    expect(signalOf(btc({ action: 'buy', sentiment: 'bullish', quantity: 500, quantityType: 'dollar_amount' })).qty).toBeNull();
  });

  it('lets the sentiment decide a missing action, and refuses an unknown sentiment', () => {
    expect(signalOf(btc({ sentiment: 'bearish', signalPrice: 99 }))).toMatchObject({ action: 'SELL', price: 99, targetSize: null });
    expect(reasonOf(btc({ action: 'buy', sentiment: 'sideways' }))).toContain('field sentiment must be a sentiment');
  });
});

const THREE_COMMAS = {
  secret: 's', max_lag: '300', timestamp: '2026-11-21T10:00:00Z', trigger_price: '25600', tv_exchange: 'BINANCE', tv_instrument: 'BTCUSDT.P', action: 'buy', bot_uuid: 'u',
  strategy_info: { market_position: 'long', market_position_size: '2', prev_market_position: 'flat', prev_market_position_size: '0' },
  order: { amount: '1', currency_type: 'base' },
};

describe('3Commas JSON', () => {
  it('reads the signal bot message', () => {
    expect(signalOf(json(THREE_COMMAS))).toEqual({
      format: '3commas', action: 'BUY', ticker: 'BTCUSDT', qty: 1, price: 25600, time: T, orderId: null, targetSize: 2,
      positionSide: null, stopLoss: null, takeProfit: null, maxLagMs: 300_000, comment: null,
    });
  });

  it('closes on a flat market position, and leaves quote amounts out of the quantity', () => {
    const flat = { ...THREE_COMMAS, action: 'sell', strategy_info: { market_position: 'flat', market_position_size: '0' }, order: { amount: '250', currency_type: 'quote' } };
    expect(signalOf(json(flat))).toMatchObject({ action: 'CLOSE', targetSize: 0, qty: null });
  });
});

const OKX = {
  action: 'buy', marketPosition: 'long', prevMarketPosition: 'flat', instrument: 'BTCUSDT', signalToken: 't',
  timestamp: '2026-11-21T10:00:00.000Z', maxLag: '60', investmentType: 'base', amount: '1',
};

describe('OKX JSON', () => {
  it('reads the signal bot message, with no target size unless flat', () => {
    expect(signalOf(json({ ...OKX, id: 'Long' }))).toEqual({
      format: 'okx', action: 'BUY', ticker: 'BTCUSDT', qty: 1, price: null, time: T, orderId: 'Long', targetSize: null,
      positionSide: null, stopLoss: null, takeProfit: null, maxLagMs: 60_000, comment: null,
    });
    expect(signalOf(json({ ...OKX, action: 'sell', marketPosition: 'flat' }))).toMatchObject({ action: 'CLOSE', targetSize: 0 });
  });

  it.each([
    ['ENTER_LONG', 'BUY', null],
    ['ENTER_SHORT', 'SELL', null],
    ['EXIT_LONG', 'CLOSE', 'long'],
    ['EXIT_SHORT', 'CLOSE', 'short'],
  ] as const)('maps %s to %s (leg %s)', (word, action, positionSide) => {
    const { marketPosition: _omit, ...rest } = OKX;
    expect(signalOf(json({ ...rest, action: word }))).toMatchObject({ format: 'okx', action, positionSide, targetSize: null });
  });

  it('takes amount as a quantity only for base or contract investment types', () => {
    expect(signalOf(json({ ...OKX, investmentType: 'contract', amount: '5' })).qty).toBe(5);
    expect(signalOf(json({ ...OKX, investmentType: 'percentage_balance', amount: '50' })).qty).toBeNull();
  });
});

describe('PineConnector text', () => {
  it('reads license, command, symbol and parameters', () => {
    const s = signalOf('60123456789,buy,BTCUSDT,risk=1,sl=25000,tp=27000,price=25600,comment="SMA, fast"');
    expect(s).toEqual({
      format: 'pineconnector', action: 'BUY', ticker: 'BTCUSDT', qty: 1, price: 25600, time: null, orderId: null, targetSize: null,
      positionSide: null, stopLoss: 25000, takeProfit: 27000, maxLagMs: null, comment: 'SMA, fast',
    });
  });

  it.each([
    ['buy', 'BUY', null],
    ['sell', 'SELL', null],
    ['closelong', 'CLOSE', 'long'],
    ['closeshort', 'CLOSE', 'short'],
    ['closeall', 'CLOSE', null],
    ['close', 'CLOSE', null],
    ['closelongshort', 'CLOSE', null],
    ['cancellong', 'CANCEL', 'long'],
    ['cancelshort', 'CANCEL', 'short'],
    ['cancel', 'CANCEL', null],
  ] as const)('maps %s to %s (leg %s), with or without a license id', (command, action, positionSide) => {
    expect(signalOf(`${command},ETHUSDT`)).toMatchObject({ action, positionSide, ticker: 'ETHUSDT' });
    expect(signalOf(`60123456789,${command.toUpperCase()},ETHUSDT`)).toMatchObject({ action, positionSide });
  });

  it('reads qty= and size= as the quantity, treats sl=0 as none and ignores other parameters', () => {
    expect(signalOf('sell,BTCUSDT,qty=2,sl=0').qty).toBe(2);
    expect(signalOf('sell,BTCUSDT,size=3,slpips=20').qty).toBe(3);
    expect(signalOf('sell,BTCUSDT,sl=0').stopLoss).toBeNull();
  });

  it('refuses unknown commands listing the known ones, and broken parameters', () => {
    expect(reasonOf('60123456789,buystop,BTCUSDT')).toBe(
      'unknown command in "60123456789,buystop" (PineConnector text is [LicenseID,]command,symbol[,key=value...]); known commands: ' +
        'buy, sell, closelong, closeshort, closeall, close, closelongshort, cancellong, cancelshort, cancel',
    );
    expect(reasonOf('buy,BTCUSDT,risk')).toBe('PineConnector parameter "risk" is not key=value');
    expect(reasonOf('buy,BTCUSDT,risk=1,qty=2')).toBe('PineConnector parameters risk and qty both set qty');
    expect(reasonOf('buy,BTCUSDT,sl=low')).toBe('field sl is not a number: "low"');
    expect(reasonOf('buy')).toMatch(/^unrecognised body/);
    expect(reasonOf('buy,')).toBe('missing ticker');
    expect(reasonOf('buy,{{ticker}}')).toMatch(/^field 2 \(of the comma text\) holds an unexpanded placeholder \{\{ticker\}\}/);
  });

  it('every command is an action word of the JSON formats too', () => {
    for (const command of PINECONNECTOR_COMMANDS) expect(ACTION_WORDS.has(command)).toBe(true);
  });
});

describe('form fields', () => {
  it('reads key=value pairs like a flat JSON object', () => {
    const s = signalOf('ticker=BTCUSDT&action=buy&qty=1&price=25600&comment=two+words&market_position=long&position_size=3');
    expect(s).toMatchObject({ format: 'form', action: 'BUY', qty: 1, price: 25600, comment: 'two words', targetSize: 3 });
  });

  it('takes a single pair with a known key as form encoding', () => {
    expect(reasonOf('action=buy')).toBe('missing ticker');
    expect(reasonOf('banana=1')).toMatch(/^unrecognised body/);
  });

  it('refuses a key given twice with different values', () => {
    expect(reasonOf('ticker=BTCUSDT&action=buy&action=sell')).toBe('form field action is given twice with different values');
    expect(signalOf('ticker=BTCUSDT&action=buy&action=buy').action).toBe('BUY');
  });
});

describe('numbers', () => {
  it('reads numeric text', () => {
    expect(signalOf(btc({ action: 'buy', qty: ' 0.25 ', price: '2.56e4' }))).toMatchObject({ qty: 0.25, price: 25600 });
  });

  it.each([
    [{ qty: 'one' }, 'field qty is not a number: "one"'],
    [{ price: '0x10' }, 'field price is not a number: "0x10"'],
    [{ price: '1e400' }, 'field price is not a finite number: "1e400"'],
    [{ quantity: -1 }, 'field quantity is negative: -1'],
    [{ price: '-5' }, 'field price is negative: "-5"'],
    [{ sl: -1 }, 'field sl is negative: -1'],
    [{ max_lag: 'soon' }, 'field max_lag is not a number: "soon"'],
  ])('refuses %j', (extra, reason) => {
    expect(reasonOf(btc({ action: 'buy', ...extra }))).toBe(reason);
  });

  it('reads 0 as no quantity, no price and no max lag', () => {
    expect(signalOf(btc({ action: 'buy', qty: 0, price: '0', max_lag: 0 }))).toMatchObject({ qty: null, price: null, maxLagMs: null });
  });
});

describe('time', () => {
  it.each([
    ['2026-11-21T10:00:00Z', T],
    ['2026-11-21T10:00:00.250Z', T + 250],
    ['2026-11-21 10:00:00', T],
    ['2026-11-21T11:30:00+01:30', T],
    ['2026-11-21T05:00:00-0500', T],
    [1795255200, T],
    ['1795255200', T],
    [1795255200.5, T + 500],
    [T, T],
    [String(T), T],
  ])('reads %j', (time, ms) => {
    expect(signalOf(btc({ action: 'buy', time })).time).toBe(ms);
  });

  it.each(['yesterday', '2026-02-31T00:00:00Z', '2026-11-21T24:00:00Z', '2026-11-21T10:00:00+25:00', -1, 1.7e15, '1969-12-31T00:00:00Z'])('refuses %j', (time) => {
    expect(reasonOf(btc({ action: 'buy', time }))).toBe(`field time is not a time (ISO 8601, epoch seconds or ms): ${JSON.stringify(time)}`);
  });
});

describe('actions', () => {
  it.each([
    ['buy', 'BUY', null], ['LONG', 'BUY', null], ['enter_long', 'BUY', null],
    ['sell', 'SELL', null], ['short', 'SELL', null], ['Enter_Short', 'SELL', null],
    ['close', 'CLOSE', null], ['flat', 'CLOSE', null], ['close_all', 'CLOSE', null],
    ['exit_long', 'CLOSE', 'long'], ['closelong', 'CLOSE', 'long'], ['exit_short', 'CLOSE', 'short'], ['closeshort', 'CLOSE', 'short'],
  ] as const)('maps %s to %s (leg %s)', (word, action, positionSide) => {
    expect(signalOf(btc({ action: word }))).toMatchObject({ action, positionSide });
  });

  it('refuses an unknown action, listing the known words', () => {
    const reason = reasonOf(btc({ action: 'hodl' }));
    expect(reason).toMatch(/^field action must be an action \(one of buy, long, enter_long, sell, .*cancelshort\), got "hodl"$/);
  });

  it('lets the target decide a missing action, else refuses it', () => {
    expect(signalOf(btc({ position_size: 2 })).action).toBe('BUY');
    expect(signalOf(btc({ position_size: '-2' })).action).toBe('SELL');
    expect(signalOf(btc({ position_size: 0 }))).toMatchObject({ action: 'CLOSE', targetSize: 0 });
    expect(signalOf(btc({ market_position: 'short' }))).toMatchObject({ action: 'SELL', targetSize: null });
    expect(reasonOf(btc({ qty: 1 }))).toBe('missing action');
  });
});

describe('ticker', () => {
  it.each([
    ['BINANCE:BTCUSDT', 'BTCUSDT'],
    ['btcusdt.p', 'BTCUSDT'],
    ['BYBIT:ETHUSDT.P', 'ETHUSDT'],
    [' BTC/USDT:USDT ', 'BTC/USDT:USDT'],
    ['1000PEPE-USDT_SWAP', '1000PEPE-USDT_SWAP'],
  ])('normalises %j to %s', (ticker, expected) => {
    expect(signalOf(json({ ticker, action: 'buy' })).ticker).toBe(expected);
  });

  it('refuses a missing ticker, one with other characters, and one that is not text', () => {
    expect(reasonOf(json({ action: 'buy' }))).toBe('missing ticker');
    expect(reasonOf(json({ ticker: 'BTC USDT', action: 'buy' }))).toBe(
      'field ticker: ticker "BTC USDT" is not an ASCII symbol: use only A-Z 0-9 . _ : / - (e.g. BTCUSDT or BTC/USDT:USDT)',
    );
    expect(reasonOf(json({ ticker: 'BTC1!', action: 'buy' }))).toContain('is not an ASCII symbol');
    expect(reasonOf(json({ ticker: 42, action: 'buy' }))).toBe('field ticker must be text: 42');
  });

  it('refuses what is not ASCII as typed instead of folding it into another symbol, naming the ASCII form NFKC gives', () => {
    expect(reasonOf(json({ ticker: 'ſolusdt', action: 'buy' }))).toContain('if you mean solusdt, type it in ASCII'); // NFKC('ſ') is 's'
    expect(reasonOf(json({ ticker: 'ﬀUSDT', action: 'buy' }))).toContain('if you mean ffUSDT'); // NFKC('ﬀ') is 'ff'
    expect(reasonOf(json({ ticker: 'ＢＴＣＵＳＤＴ', action: 'buy' }))).toContain('if you mean BTCUSDT');
    for (const ticker of ['ıNJUSDT', 'ßUSDT', 'ΒTCUSDT', 'BTC\u200bUSDT', 'BTCUSDT\u0000', 'ſolusdt', 'ﬀUSDT']) {
      expect(reasonOf(json({ ticker, action: 'buy' })), ticker).toContain(`${JSON.stringify(ticker)} is not an ASCII symbol`);
    }
    expect(reasonOf(json({ ticker: 'A'.repeat(65), action: 'buy' }))).toContain('longer than 64 characters');
  });
});

describe('position_side', () => {
  it('reads long and short in any case, refuses anything else', () => {
    expect(signalOf(btc({ action: 'sell', position_side: 'LONG' })).positionSide).toBe('long');
    expect(reasonOf(btc({ action: 'sell', position_side: 'both' }))).toBe('field position_side must be a position side (one of long, short), got "both"');
  });

  it('refuses a side that contradicts the action word', () => {
    expect(reasonOf(btc({ action: 'exit_long', position_side: 'short' }))).toBe('field position_side short contradicts action "exit_long"');
    expect(signalOf(btc({ action: 'exit_long', position_side: 'long' })).positionSide).toBe('long');
  });
});

// ---- docs/signals.md stays true: every fenced block is an example this parser reads as documented ----

const DOC = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../docs/signals.md'), 'utf8');

/** What TradingView puts in place of each placeholder the doc's alert messages use: a reversal from long 1 to short 2. */
const EXPANSIONS: Readonly<Record<string, string>> = {
  '{{ticker}}': 'BTCUSDT.P',
  '{{exchange}}': 'BINANCE',
  '{{close}}': '25600.5',
  '{{timenow}}': '2026-11-21T10:00:00Z',
  '{{strategy.order.action}}': 'sell',
  '{{strategy.order.contracts}}': '3',
  '{{strategy.order.id}}': 'Short',
  '{{strategy.market_position}}': 'short',
  '{{strategy.market_position_size}}': '2',
  '{{strategy.position_size}}': '-2',
  '{{strategy.prev_market_position}}': 'long',
  '{{strategy.prev_market_position_size}}': '1',
};

interface DocBlock {
  readonly line: number;
  readonly lang: string;
  readonly role: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly text: string;
}

function docBlocks(markdown: string): DocBlock[] {
  return [...markdown.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => {
    const info = m[1] ?? '';
    const [, lang = '', role = ''] = /^(\S*)\s*(\S*)/.exec(info) ?? [];
    const attrs = Object.fromEntries([...info.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, k = '', v = '']) => [k, v.replace(/^"(.*)"$/, '$1')]));
    return { line: markdown.slice(0, m.index).split('\n').length, lang, role, attrs, text: (m[2] ?? '').trim() };
  });
}

/** The body (and content-type) a doc block sends: a curl command's --data, else the block itself. */
function bodyOf(block: DocBlock): { raw: string; contentType?: string } {
  if (block.lang !== 'sh') return { raw: block.text };
  expect(block.text).toContain('curl -X POST "$HOOK"');
  const quoted = /--data '([^']*)'/.exec(block.text)?.[1];
  const heredoc = /--data @- <<EOF\n([\s\S]*?)\nEOF/.exec(block.text)?.[1];
  const raw = (quoted ?? heredoc)?.replace(/\$\(date [^)]*\)/g, (command) => {
    const value = SHELL_NOW[command];
    if (value === undefined) throw new Error(`add ${command} to SHELL_NOW`);
    return value;
  });
  if (raw === undefined) throw new Error(`no --data '...' or --data @- <<EOF in the curl command at line ${block.line}`);
  const contentType = /-H 'Content-Type: ([^']+)'/i.exec(block.text)?.[1] ?? 'application/x-www-form-urlencoded';
  return { raw, contentType };
}

/** What the `$(date …)` of the doc's curl commands print here: the time of `time=now`, 2026-11-21T10:00:00Z. */
const SHELL_NOW: Readonly<Record<string, string>> = {
  '$(date -u +%Y-%m-%dT%H:%M:%SZ)': '2026-11-21T10:00:00Z',
  '$(date -u +%Y-%m-%dT%H:%M:%S.000Z)': '2026-11-21T10:00:00.000Z',
  '$(date +%s)': '1795255200',
};

const NUMERIC_FIELDS = new Set(['qty', 'price', 'targetSize', 'stopLoss', 'takeProfit', 'maxLagMs']);

function expectDocumented(signal: NormalizedSignal, attrs: Readonly<Record<string, string>>): void {
  for (const [key, text] of Object.entries(attrs)) {
    expect(Object.keys(signal), `doc attribute ${key}`).toContain(key);
    const expected = text === 'null' ? null : key === 'time' ? Date.parse(text === 'now' ? '2026-11-21T10:00:00Z' : text) : NUMERIC_FIELDS.has(key) ? Number(text) : text;
    expect(signal[key as keyof NormalizedSignal], key).toEqual(expected);
  }
}

describe('docs/signals.md', () => {
  // A shell block that posts nothing (the recorder set-up) is no example; every curl command is one.
  const blocks = docBlocks(DOC).filter((b) => !(b.lang === 'sh' && !b.text.includes('curl')));

  it('tags every fenced block as an example or a TradingView alert message, with what it should give', () => {
    expect(blocks.length).toBeGreaterThan(20);
    for (const block of blocks) {
      expect(['example', 'tradingview-alert'], `block at line ${block.line}`).toContain(block.role);
      expect(block.attrs.reason !== undefined || (block.attrs.action !== undefined && block.attrs.format !== undefined), `block at line ${block.line}`).toBe(true);
    }
  });

  it('shows every format, and a curl command for each', () => {
    const shown = (role: string, lang?: string): Set<string | undefined> =>
      new Set(blocks.filter((b) => b.role === role && (lang === undefined || b.lang === lang)).map((b) => b.attrs.format));
    for (const format of SIGNAL_FORMATS) {
      expect(shown('example', 'sh'), format).toContain(format);
    }
  });

  it.each(blocks.filter((b) => b.role === 'example').map((b) => [b.line, b] as const))('example at line %i parses as documented', (_line, block) => {
    const { raw, contentType } = bodyOf(block);
    const { reason, ...attrs } = block.attrs;
    if (reason !== undefined) {
      expect(reasonOf(raw, contentType)).toContain(reason);
      return;
    }
    expectDocumented(signalOf(raw, contentType), attrs);
  });

  it.each(blocks.filter((b) => b.role === 'tradingview-alert').map((b) => [b.line, b] as const))(
    'alert message at line %i parses as documented once TradingView fills it, and is refused unfilled',
    (_line, block) => {
      const expanded = block.text.replace(/\{\{[^{}]*\}\}/g, (placeholder) => {
        const value = EXPANSIONS[placeholder];
        if (value === undefined) throw new Error(`add ${placeholder} to EXPANSIONS`);
        return value;
      });
      expect(expanded).not.toBe(block.text);
      expectDocumented(signalOf(expanded), block.attrs);
      expect(reasonOf(block.text)).toContain('holds an unexpanded placeholder {{');
    },
  );
});

describe('limits', () => {
  it('refuses quantities, sizes and prices beyond the documented limits, naming the field', () => {
    expect(reasonOf(json({ ticker: 'BTCUSDT', action: 'buy', quantity: 1e308, price: 2 }))).toBe('field quantity is above the limit of 1000000000: 1e+308');
    expect(reasonOf(json({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: '1000000001' }))).toContain('field price is above the limit');
    expect(reasonOf(json({ ticker: 'BTCUSDT', action: 'buy', stop_loss: 1e10 }))).toContain('field stop_loss is above the limit');
    expect(reasonOf(json({ ticker: 'BTCUSDT', position_size: '-1e12' }))).toContain('field position_size is above the limit');
    expect(signalOf(json({ ticker: 'BTCUSDT', action: 'buy', quantity: 1e9, price: 1e9 })).qty).toBe(1e9);
  });

  it('refuses a price below the tick of an instrument it knows (it would round to 0 at the venue)', () => {
    expect(reasonOf(json({ ticker: 'BTCUSDT', action: 'buy', price: 0.01 }))).toBe('field price 0.01 is below the price tick 0.1 of BTCUSDT');
    expect(signalOf(json({ ticker: 'DOGEUSDT', action: 'buy', price: 0.01 })).price).toBe(0.01);
  });

  it('refuses a body nested deeper than 32 levels before parsing it, whatever the field', () => {
    const deep = `${'['.repeat(4100)}1${']'.repeat(4100)}`;
    for (const field of ['ticker', 'action', 'quantity', 'order_id', 'comment']) {
      expect(reasonOf(`{"ticker":"BTCUSDT","action":"buy","${field}":${deep}}`)).toContain('more than 32 levels deep');
    }
    expect(signalOf(json({ ticker: 'BTCUSDT', action: 'buy', comment: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[' })).ticker).toBe('BTCUSDT');
  });
});
