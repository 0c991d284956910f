import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePath, writeCandles } from '../src/data/cache.ts';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { streamAlerts } from '../src/store/alert-outbox.ts';
import { openStore } from '../src/store/db.ts';
import { runHalyard } from './cli-run.ts';
import { startDiscordStub, type DiscordStub } from './stubs/discord-stub.ts';
import { startTelegramStub, type TelegramStub } from './stubs/telegram-stub.ts';

const FROM = Date.UTC(2024, 0, 1);
// Stops and targets far away: positions end by the next crossing, a flip (close, then open the other way).
const ARGS = ['paper', 'strategies/sma-cross.ts', '--param', 'fast=10', '--param', 'slow=40', '--param', 'sl=0.05', '--param', 'tp=0.05', '--replay', '2024-01-01..2024-01-02', '--speed', '0'];

describe('halyard paper alerts (child process)', () => {
  let dir: string;
  let env: Record<string, string>;
  let discord: DiscordStub;
  let telegram: TelegramStub;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-alerts-'));
    const c = syntheticCandles({ seed: 3, count: 1_440, from: FROM });
    await writeCandles(cachePath(join(dir, 'cache'), 'binance', 'BTC/USDT:USDT', '1m'), c, { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m' });
    [discord, telegram] = await Promise.all([startDiscordStub(), startTelegramStub()]);
    discord.setBucket(4, 1);
    env = {
      CACHE_PATH: join(dir, 'cache'),
      DATABASE_PATH: join(dir, 'h.db'),
      EXCHANGE: 'binance',
      SYMBOL: 'BTC/USDT:USDT',
      DISCORD_WEBHOOK_URL: discord.url,
      TELEGRAM_BOT_TOKEN: telegram.token,
      TELEGRAM_CHAT_ID: telegram.chatId,
      TELEGRAM_API_URL: telegram.apiUrl,
    };
  });
  afterAll(async () => {
    await Promise.all([discord?.close(), telegram?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('at --speed 0: the start alert first, every flip’s close before its open, the stop alert last, each channel in the stored order', async () => {
    discord.failNext(1, 500); // the very first alert is retried: nothing may overtake it
    const r = await runHalyard([...ARGS, '--run', 'fast'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const store = await openStore({ path: env.DATABASE_PATH! });
    const trades = await store.db.selectFrom('run_trades').select(['exit_reason']).where('run_id', '=', 'fast').execute();
    const rows = await streamAlerts(store.db, 'run:fast');
    await store.close();
    expect(trades.filter((t) => t.exit_reason === 'flip').length).toBeGreaterThan(3);

    const heads = discord.messages.map((m) => m.split('\n')[0] ?? '');
    expect(heads[0]).toBe('🚀 Strategy **SmaCross** is now active');
    expect(heads.at(-1)).toBe('🛑 Strategy **SmaCross** stopped (end of the candles)');
    expect(heads.filter((h) => /^🚀|^🛑/.test(h))).toHaveLength(2);
    // One-way, one position at a time: opened, closed, opened, closed, … (a flip sent out of order breaks it).
    const trade = heads.filter((h) => / (opened|closed)/.test(h)).map((h) => (h.includes(' opened') ? 'opened' : 'closed'));
    expect(trade.filter((k) => k === 'closed')).toHaveLength(trades.length);
    trade.forEach((k, i) => expect(k).toBe(i % 2 === 0 ? 'opened' : 'closed'));
    // Both channels got exactly what was stored, in id order, once; every row is delivered.
    expect(discord.messages).toEqual(rows.filter((x) => x.channel === 'discord').map((x) => x.text));
    expect(telegram.messages).toEqual(rows.filter((x) => x.channel === 'telegram').map((x) => x.text.replace(/\*\*/g, '')));
    expect(rows.every((x) => x.status === 'delivered')).toBe(true);
    expect(rows[0]).toMatchObject({ channel: 'discord', kind: 'strategy_started', attempts: 2 });
  }, 120_000);
});
