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
  it('says where a refused value came from, the variable and the value, in one line', () => {
    expect(() => loadSettings({ LEVERAGE: 'ten' })).toThrow(/^environment variable LEVERAGE=ten is not a number \(must be >= 1\)$/);
    expect(() => loadSettings({ LEVERAGE: '0' })).toThrow(/^environment variable LEVERAGE=0 is out of range \(must be >= 1\)$/);
    expect(() => loadSettings({ EXCHANGE: 'kraken', SYMBOL: 'BTC/USDT:USDT' })).toThrow(/^environment variable EXCHANGE=kraken is not one of binance, bybit, hyperliquid, sim$/);
    expect(() => loadSettings({ DATABASE_URL: 'mysql://me:hunter2@db/x' })).toThrow(/^environment variable DATABASE_URL=mysql:\/\/me:\*\*\*@db\/x is not a postgres:\/\//);
    expect(() => loadSettings({ ENCRYPTION_KEY: 'short-secret' })).toThrow(/^environment variable ENCRYPTION_KEY=\(hidden, 12 characters\) is not valid/);
    expect(() => loadSettings({ LEVERAGE: 'ten', INITIAL_BALANCE: '-1' })).toThrow(/^environment variable INITIAL_BALANCE=-1 is out of range \(must be > 0\); environment variable LEVERAGE=ten is not a number/);
  });
  it('accepts postgres:// and postgresql:// URLs, and an empty DATABASE_URL as unset', () => {
    expect(loadSettings({ DATABASE_URL: 'postgres://u@h/db' }).DATABASE_URL).toBe('postgres://u@h/db');
    expect(loadSettings({ DATABASE_URL: 'postgresql://u@h/db' }).DATABASE_URL).toBe('postgresql://u@h/db');
    expect(loadSettings({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
