import { describe, expect, it } from 'vitest';
import { clientOrderId } from './client-id.ts';
import { venueSymbol } from './symbols.ts';

describe('venueSymbol', () => {
  it.each([
    ['BTCUSDT', 'binance', 'BTC/USDT:USDT'],
    ['BINANCE:BTCUSDT.P', 'bybit', 'BTC/USDT:USDT'],
    ['ethusdt', 'sim', 'ETH/USDT:USDT'],
    ['BTC-USDT-SWAP', 'binance', 'BTC/USDT:USDT'],
    ['BTC/USDT:USDT', 'binance', 'BTC/USDT:USDT'],
    ['BTC/USDT', 'bybit', 'BTC/USDT:USDT'],
    ['BTCUSDT', 'hyperliquid', 'BTC/USDC:USDC'],
    ['SOLUSDC', 'binance', 'SOL/USDC:USDC'],
    ['1000PEPEUSDT', 'bybit', '1000PEPE/USDT:USDT'],
  ] as const)('%s on %s is %s', (ticker, exchange, want) => {
    expect(venueSymbol(ticker, exchange)).toBe(want);
  });

  it('refuses what is no perpetual', () => {
    expect(() => venueSymbol('AAPL', 'binance')).toThrow(/cannot tell/);
    expect(() => venueSymbol('USDT', 'binance')).toThrow(/cannot tell/);
  });

  it('refuses anything not ASCII as typed instead of case-folding or NFKC-folding it into another symbol', () => {
    for (const t of ['ıNJUSDT', 'ßUSDT', 'ΒTCUSDT', 'btc\u200busdt', 'ſolusdt', 'ＢＴＣＵＳＤＴ', 'ﬀUSDT']) expect(() => venueSymbol(t, 'binance'), t).toThrow(new RegExp(`"${t}" is not an ASCII symbol`));
  });
});

describe('clientOrderId', () => {
  it('is deterministic, distinct per part and fits every venue', () => {
    const a = clientOrderId([1, 'binance:paper', 42, 'long', 'entry']);
    expect(a).toBe(clientOrderId([1, 'binance:paper', 42, 'long', 'entry']));
    expect(a).not.toBe(clientOrderId([1, 'binance:paper', 42, 'long', 'stop_loss']));
    expect(a).toMatch(/^h[0-9a-f]{32}$/);
  });
});
