import { describe, expect, it } from 'vitest';
import { loadSettings } from './config.ts';

describe('settings', () => {
  it('fills defaults and coerces numbers', () => {
    const s = loadSettings({ INITIAL_BALANCE: '2500', LOG_LEVEL: 'INFO' });
    expect(s).toMatchObject({ EXCHANGE: 'binance', SYMBOL: 'BTC/USDT:USDT', INITIAL_BALANCE: 2500, LOG_LEVEL: 'info', CACHE_PATH: 'data/candles', OUTPUT_PATH: 'output', TAKER_FEE_BPS: 5 });
    expect(s.DISCORD_WEBHOOK_URL).toBeUndefined();
  });
  it('names every invalid variable', () => {
    expect(() => loadSettings({ INITIAL_BALANCE: '-5', EXCHANGE: 'kraken', DISCORD_WEBHOOK_URL: 'not a url' })).toThrow(/INITIAL_BALANCE[\s\S]*EXCHANGE|EXCHANGE[\s\S]*INITIAL_BALANCE/);
    expect(() => loadSettings({ DISCORD_WEBHOOK_URL: 'not a url' })).toThrow(/DISCORD_WEBHOOK_URL/);
    expect(() => loadSettings({ LEVERAGE: 'x' })).toThrow(/LEVERAGE/);
  });
});
