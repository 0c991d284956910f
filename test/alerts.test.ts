import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSettings } from '../src/config.ts';
import { HalyardError, isHalyardError } from '../src/core/errors.ts';
import { ManualClock } from '../src/core/ports.ts';
import { Alerts, alertsFromSettings, type AlertLog } from '../src/notify/alerts.ts';
import { DiscordNotifier } from '../src/notify/discord.ts';
import type { NotifyRetryPolicy } from '../src/notify/http.ts';
import { TelegramNotifier } from '../src/notify/telegram.ts';
import { startDiscordStub, type DiscordStub } from './stubs/discord-stub.ts';
import { startTelegramStub, type TelegramStub } from './stubs/telegram-stub.ts';

/** A fast policy whose waits are real timers and are recorded (ms asked for). */
const recording = (waits: number[], extra: Partial<NotifyRetryPolicy> = {}): NotifyRetryPolicy => ({
  maxAttempts: 4,
  baseDelayMs: 2,
  maxDelayMs: 2_000,
  sleep: (ms) => {
    waits.push(ms);
    return new Promise((resolve) => setTimeout(resolve, ms));
  },
  ...extra,
});

const warnings = (): AlertLog & { lines: Record<string, unknown>[] } => {
  const lines: Record<string, unknown>[] = [];
  return { lines, warn: (obj) => void lines.push(obj as Record<string, unknown>) };
};

const closedWin = { strategy: 'SMA Cross', symbol: 'BTC/USDT:USDT', side: 'long', qty: 0.01, entry: 65_000, exit: 66_234, pnl: 12.34, pnlPercent: 1.234, exitReason: 'take_profit', target: 'bybit:paper' };
const WIN_TEXT = ['✅ **LONG** closed (take_profit) · SMA Cross', 'BTC/USDT:USDT on bybit:paper', 'Entry: $65,000.00 → Exit: $66,234.00', 'Size: 0.01 BTC', 'PnL: $12.34 (+1.23%)'].join('\n');

describe('alerts to Discord and Telegram', () => {
  let discord: DiscordStub;
  let telegram: TelegramStub;
  beforeAll(async () => {
    [discord, telegram] = await Promise.all([startDiscordStub(), startTelegramStub()]);
  });
  afterAll(async () => {
    await Promise.all([discord?.close(), telegram?.close()]);
  });
  beforeEach(async () => {
    await discord.up();
    discord.setBucket(4, 1);
  });
  const settings = (extra: Record<string, string> = {}) =>
    loadSettings({ DISCORD_WEBHOOK_URL: discord.url, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_CHAT_ID: telegram.chatId, TELEGRAM_API_URL: telegram.apiUrl, ...extra });

  it('sends each alert to both channels in their wire formats, with the trader-facing texts', async () => {
    const d0 = discord.requests.length;
    const t0 = telegram.requests.length;
    const alerts = alertsFromSettings(settings());
    expect(alerts.channels.map((c) => c.name)).toEqual(['discord', 'telegram']);

    expect(await alerts.tradeClosed(closedWin)).toEqual([
      { channel: 'discord', ok: true },
      { channel: 'telegram', ok: true },
    ]);
    const d = discord.requests[d0];
    expect(d?.method).toBe('POST');
    expect(d?.headers['content-type']).toBe('application/json');
    expect(d?.json).toEqual({ content: WIN_TEXT, allowed_mentions: { parse: [] } });
    const t = telegram.requests[t0];
    expect(t?.path).toBe(`/bot${telegram.token}/sendMessage`);
    expect(t?.json).toEqual({ chat_id: Number(telegram.chatId), text: WIN_TEXT.replace('**LONG**', '<b>LONG</b>'), parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(telegram.messages.at(-1)).toBe(WIN_TEXT.replace(/\*\*/g, ''));

    await alerts.tradeClosed({ ...closedWin, side: 'short', exit: 66_234.5, pnl: -1234.5, pnlPercent: -2.4691, exitReason: 'stop_loss', target: undefined });
    expect(discord.messages.at(-1)).toBe(['❌ **SHORT** closed (stop_loss) · SMA Cross', 'BTC/USDT:USDT', 'Entry: $65,000.00 → Exit: $66,234.50', 'Size: 0.01 BTC', 'PnL: -$1,234.50 (-2.47%)'].join('\n'));

    await alerts.tradeOpened({ strategy: 'SMA Cross', symbol: 'BTC/USDT:USDT', side: 'long', qty: 0.015, entry: 64_250.5, stopLoss: 63_000, takeProfit: null, target: 'sim:paper' });
    expect(discord.messages.at(-1)).toBe(['📈 **LONG** opened · SMA Cross', 'BTC/USDT:USDT on sim:paper', 'Entry: $64,250.50', 'Size: 0.015 BTC ($963.76)', 'SL: $63,000.00 | TP: none'].join('\n'));
    await alerts.tradeOpened({ strategy: 'Fade', symbol: 'DOGEUSDT', side: 'short', qty: 1000, entry: 0.123456789, stopLoss: 0.13, takeProfit: 0.11 });
    expect(discord.messages.at(-1)).toBe(['📉 **SHORT** opened · Fade', 'DOGEUSDT', 'Entry: $0.123457', 'Size: 1,000 DOGE ($123.46)', 'SL: $0.13 | TP: $0.11'].join('\n'));

    await alerts.strategyStarted('SMA Cross', { symbol: 'BTC/USDT:USDT', timeframe: '1m', target: 'bybit:paper', mode: 'paper', balance: 10_000 });
    expect(discord.messages.at(-1)).toBe('🚀 Strategy **SMA Cross** is now active\nBTC/USDT:USDT · 1m · bybit:paper (paper)\nBalance: $10,000.00');
    await alerts.strategyStopped('SMA Cross', 'stopped by user', { trades: 3, pnl: 42, pnlPercent: 0.42, equity: 10_042 });
    expect(discord.messages.at(-1)).toBe('🛑 Strategy **SMA Cross** stopped (stopped by user)\nTrades: 3 | PnL: $42.00 (+0.42%)\nEquity: $10,042.00');
    await alerts.criticalError('SMA <v2> & co', new HalyardError('venue_unavailable', 'bybit:paper createOrder failed after 4 attempts'));
    expect(discord.messages.at(-1)).toBe('🚨 **CRITICAL** · SMA <v2> & co [venue_unavailable]\nbybit:paper createOrder failed after 4 attempts');
    // Telegram parsed the escaped HTML back into the same text (the stub refuses unescaped `<`).
    expect(telegram.messages.at(-1)).toBe('🚨 CRITICAL · SMA <v2> & co [venue_unavailable]\nbybit:paper createOrder failed after 4 attempts');
    expect(discord.requests.length - d0).toBe(7);
    expect(telegram.requests.length - t0).toBe(7);
  });

  it('cuts long texts to each service limit so they are still accepted', async () => {
    const alerts = alertsFromSettings(settings());
    const out = await alerts.criticalError('Big', new Error('x<'.repeat(3000)));
    expect(out.every((o) => o.ok)).toBe(true);
    const content = discord.messages.at(-1) ?? '';
    expect(content).toHaveLength(2000);
    expect(content.endsWith('…')).toBe(true);
    const text = telegram.messages.at(-1) ?? '';
    expect(text.length).toBeLessThanOrEqual(4096);
    expect(text.length).toBeGreaterThan(2000);
    expect(text.endsWith('…')).toBe(true);
  });

  it('retries two 500s and delivers exactly once', async () => {
    const waits: number[] = [];
    const d0 = discord.requests.length;
    const m0 = discord.messages.length;
    discord.failNext(2, 500);
    await new DiscordNotifier({ url: discord.url, policy: recording(waits) }).notify({ kind: 'test', text: 'after two 500s' });
    expect(discord.requests.length - d0).toBe(3);
    expect(discord.messages.slice(m0)).toEqual(['after two 500s']);
    expect(waits).toHaveLength(2);

    const t0 = telegram.requests.length;
    const n0 = telegram.messages.length;
    telegram.failNext(2, 500);
    await new TelegramNotifier({ token: telegram.token, chatId: telegram.chatId, apiUrl: telegram.apiUrl, policy: recording([]) }).notify({ kind: 'test', text: 'tg after two 500s' });
    expect(telegram.requests.length - t0).toBe(3);
    expect(telegram.messages.slice(n0)).toEqual(['tg after two 500s']);
  });

  it('waits what a 429 asks for (retry_after in seconds), then delivers once', async () => {
    const waits: number[] = [];
    const d0 = discord.requests.length;
    discord.rateLimitNext(1, 0.05);
    await new DiscordNotifier({ url: discord.url, policy: recording(waits) }).notify({ kind: 'test', text: 'after a rate limit' });
    expect(discord.requests.length - d0).toBe(2);
    expect(discord.messages.filter((m) => m === 'after a rate limit')).toHaveLength(1);
    // The body's 0.05 s, not the rounded-up `retry-after: 1` header nor the 2 ms backoff.
    expect(waits).toEqual([50]);

    const tWaits: number[] = [];
    const t0 = telegram.requests.length;
    telegram.rateLimitNext(1, 0.05);
    await new TelegramNotifier({ token: telegram.token, chatId: telegram.chatId, apiUrl: telegram.apiUrl, policy: recording(tWaits) }).notify({ kind: 'test', text: 'tg after a rate limit' });
    expect(telegram.requests.length - t0).toBe(2);
    expect(telegram.messages.filter((m) => m === 'tg after a rate limit')).toHaveLength(1);
    expect(tWaits).toEqual([50]);
  });

  it('caps a long rate-limit wait at maxDelayMs', async () => {
    const waits: number[] = [];
    discord.rateLimitNext(1, 60);
    await new DiscordNotifier({ url: discord.url, policy: recording(waits, { maxDelayMs: 30 }) }).notify({ kind: 'test', text: 'capped' });
    expect(waits).toEqual([30]);
  });

  it('waits for the bucket to refill before the next message when Discord said none are left', async () => {
    const waits: number[] = [];
    const clock = new ManualClock(1_000_000);
    const notifier = new DiscordNotifier({ url: discord.url, clock, policy: recording(waits) });
    discord.setBucket(0, 0.04);
    await notifier.notify({ kind: 'test', text: 'bucket 1' });
    expect(waits).toEqual([]);
    discord.setBucket(3, 1);
    clock.set(1_000_010);
    await notifier.notify({ kind: 'test', text: 'bucket 2' });
    expect(waits).toEqual([30]);
    await notifier.notify({ kind: 'test', text: 'bucket 3' });
    expect(waits).toEqual([30]);
    expect(discord.messages.slice(-3)).toEqual(['bucket 1', 'bucket 2', 'bucket 3']);
  });

  it('does not retry a 404 or 401, and Alerts reports it instead of throwing', async () => {
    const log = warnings();
    const d0 = discord.requests.length;
    const t0 = telegram.requests.length;
    const alerts = alertsFromSettings(settings({ DISCORD_WEBHOOK_URL: discord.unknownUrl, TELEGRAM_BOT_TOKEN: '999:wrong' }), log, recording([]));
    const out = await alerts.strategyStarted('Gone');
    expect(out).toEqual([
      { channel: 'discord', ok: false, code: 'venue_rejected', error: 'discord webhook: HTTP 404 Unknown Webhook' },
      { channel: 'telegram', ok: false, code: 'venue_auth', error: 'telegram sendMessage: HTTP 401 Unauthorized' },
    ]);
    expect(discord.requests.length - d0).toBe(1);
    expect(telegram.requests.length - t0).toBe(1);
    expect(log.lines.map((l) => l.channel).sort()).toEqual(['discord', 'telegram']);
    // Neither the webhook token nor the bot token is in what is logged.
    expect(JSON.stringify(log.lines)).not.toMatch(/stub-webhook-token|999:wrong/);

    let thrown: unknown;
    await new DiscordNotifier({ url: discord.unknownUrl, policy: recording([]) }).notify({ kind: 't', text: 'x' }).catch((e: unknown) => (thrown = e));
    expect(isHalyardError(thrown, 'venue_rejected')).toBe(true);
  });

  it('keeps Telegram informed while Discord is down for good', async () => {
    const log = warnings();
    await discord.down();
    const n0 = telegram.messages.length;
    const alerts = alertsFromSettings(settings(), log, recording([], { maxAttempts: 3 }));
    const out = await alerts.tradeClosed(closedWin);
    expect(out[0]).toMatchObject({ channel: 'discord', ok: false, code: 'venue_unavailable' });
    expect(out[0]?.error).toMatch(/after 3 attempts.*ECONNREFUSED/);
    expect(out[1]).toEqual({ channel: 'telegram', ok: true });
    expect(telegram.messages.slice(n0)).toEqual([WIN_TEXT.replace(/\*\*/g, '')]);
    expect(log.lines).toHaveLength(1);
  });

  it('builds zero, one or two channels from the settings and refuses half a Telegram setup', async () => {
    const none = alertsFromSettings(loadSettings({}));
    expect(none.channels).toEqual([]);
    expect(await none.tradeClosed(closedWin)).toEqual([]);
    expect(alertsFromSettings(loadSettings({ DISCORD_WEBHOOK_URL: discord.url })).channels.map((c) => c.name)).toEqual(['discord']);
    expect(alertsFromSettings(loadSettings({ TELEGRAM_BOT_TOKEN: 'a:b', TELEGRAM_CHAT_ID: '42' })).channels.map((c) => c.name)).toEqual(['telegram']);
    expect(() => alertsFromSettings(loadSettings({ TELEGRAM_BOT_TOKEN: 'a:b' }))).toThrow(/TELEGRAM_CHAT_ID is missing/);
    expect(() => loadSettings({ TELEGRAM_API_URL: 'not a url' })).toThrow(/TELEGRAM_API_URL/);
  });

  it('is itself a Notifier that never rejects', async () => {
    const failing = new Alerts([{ name: 'broken', notifier: { notify: () => Promise.reject(new Error('boom')) } }]);
    await expect(failing.notify({ kind: 'x', text: 'y' })).resolves.toBeUndefined();
    expect(await failing.send('x', 'y')).toEqual([{ channel: 'broken', ok: false, code: 'internal', error: 'boom' }]);
  });
});
