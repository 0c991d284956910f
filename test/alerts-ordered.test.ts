import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../src/clock.ts';
import { loadSettings } from '../src/config.ts';
import { ManualClock } from '../src/core/ports.ts';
import { openLong, openShort } from '../src/core/signals.ts';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { PaperRuntime, type PaperSettings } from '../src/engine/paper/runtime.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import { AlertSender, alertSenderFromSettings } from '../src/notify/alert-sender.ts';
import type { NotifyRetryPolicy } from '../src/notify/http.ts';
import { RunAlerts } from '../src/notify/run-alerts.ts';
import { alertStats, enqueueAlerts, runStream, streamAlerts, type NewAlert } from '../src/store/alert-outbox.ts';
import type { Store } from '../src/store/db.ts';
import { Strategy, type SignalOutput } from '../src/strategy/strategy.ts';
import { DIALECTS } from './db.ts';
import { startDiscordStub, type DiscordStub } from './stubs/discord-stub.ts';
import { startTelegramStub, type TelegramStub } from './stubs/telegram-stub.ts';

const SYMBOL = 'BTC/USDT:USDT';
const COSTS = { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 2, tick: 0.1, lot: 0.001 };
/** Fast real waits: retries within milliseconds. */
const FAST: NotifyRetryPolicy = { maxAttempts: 4, baseDelayMs: 2, maxDelayMs: 50 };

/** Long on candle 3, short on 6 (a flip), long on 9 (a flip), short on 12 (a flip): one-way, one position at a time. */
class Flipper extends Strategy<{ every: number }> {
  static override readonly defaults = { every: 3 };
  private n = 0;
  onCandle(): SignalOutput {
    this.n++;
    if (this.n % this.params.every !== 0) return;
    return (this.n / this.params.every) % 2 === 1 ? openLong({ percent: 10 }) : openShort({ percent: 10 });
  }
}

function paperSettings(runId: string): PaperSettings {
  return {
    runId,
    strategy: new Flipper(),
    strategyName: 'Flipper',
    strategyPath: 'test/flipper.ts',
    symbol: SYMBOL,
    target: 'sim:paper',
    timeframe: '1m',
    mode: 'replay',
    initialBalance: 10_000,
    leverage: 10,
    costs: COSTS,
    fill: 'close',
    slTpPolicy: 'conservative',
    maintenanceMarginRate: 0.005,
    funding: 0,
    extra: {},
    publishEvents: false,
  };
}

/** The first line of an alert, without markdown: what it is about. */
const head = (text: string): string => (text.split('\n')[0] ?? '').replace(/\*\*/g, '');

for (const d of DIALECTS) {
  describe(`ordered alerts (${d.name})`, () => {
    let discord: DiscordStub;
    let telegram: TelegramStub;
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    const warns: Record<string, unknown>[] = [];
    const logger = { warn: (obj: object) => void warns.push(obj as Record<string, unknown>) };
    const both = () => ({ DISCORD_WEBHOOK_URL: discord.url, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_CHAT_ID: telegram.chatId, TELEGRAM_API_URL: telegram.apiUrl });
    const senderOf = (env: Record<string, string> = both()): AlertSender => {
      const s = alertSenderFromSettings(loadSettings(env), store.db, new SystemClock(), logger, FAST);
      if (!s) throw new Error('no channel configured');
      return s;
    };

    /** Runs the Flipper over `n` candles on the simulated exchange, its alerts written through `alerts`. */
    async function runCandles(runId: string, alerts: RunAlerts, n: number): Promise<PaperRuntime> {
      const c = syntheticCandles({ seed: 7, count: n });
      const clock = new ManualClock(c.ts[0]!);
      const venue = new SimVenue({ clock, balance: 10_000, leverage: 10, makerFeeBps: COSTS.makerFeeBps, takerFeeBps: COSTS.takerFeeBps, slippageBps: COSTS.slippageBps });
      const rt = await PaperRuntime.open(paperSettings(runId), { db: store.db, clock, venue, market: venue, alerts: alerts.trades });
      for (let i = 0; i < n; i++) {
        clock.set(c.ts[i]! + 60_000);
        await rt.process({ ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: Number.NaN, cvd: Number.NaN });
      }
      return rt;
    }

    beforeAll(async () => {
      [discord, telegram] = await Promise.all([startDiscordStub(), startTelegramStub()]);
    });
    afterAll(async () => {
      await Promise.all([discord?.close(), telegram?.close()]);
    });
    beforeEach(async () => {
      warns.length = 0;
      await discord.up();
      discord.setBucket(4, 1);
      loc = await d.fresh();
      store = await loc.open();
    });
    afterEach(async () => {
      await store?.close();
      await loc?.drop();
    });

    it('delivers a run’s alerts in the order they happened: start first, on each flip closed before opened, stop last', async () => {
      const sender = senderOf();
      const alerts = new RunAlerts({ db: store.db, sender, runId: 'flip', strategy: 'Flipper', target: 'sim:paper', clock: new SystemClock(), logger });
      const d0 = discord.messages.length;
      const t0 = telegram.messages.length;
      await alerts.started({ symbol: SYMBOL, timeframe: '1m', target: 'sim:paper', mode: 'replay', balance: 10_000 });
      const rt = await runCandles('flip', alerts, 13);
      expect(rt.kernel.exec.trades.map((t) => [t.side, t.exitReason])).toEqual([
        ['long', 'flip'],
        ['short', 'flip'],
        ['long', 'flip'],
      ]);
      await alerts.stopped('end of the candles', { trades: 3 });
      expect(await alerts.flush(5_000)).toBe(true);
      await sender.stop();

      const expected = [
        '🚀 Strategy Flipper is now active',
        '📈 LONG opened · Flipper',
        '✅ LONG closed (flip) · Flipper',
        '📉 SHORT opened · Flipper',
        '✅ SHORT closed (flip) · Flipper',
        '📈 LONG opened · Flipper',
        '✅ LONG closed (flip) · Flipper',
        '📉 SHORT opened · Flipper',
        '🛑 Strategy Flipper stopped (end of the candles)',
      ];
      // The win/loss mark of a close depends on the candles; the order is what is checked.
      const norm = (m: string) => head(m).replace(/^❌/, '✅');
      expect(discord.messages.slice(d0).map(norm)).toEqual(expected);
      expect(telegram.messages.slice(t0).map(norm)).toEqual(expected);
      // Each channel got exactly the stored texts, in id order; all delivered once.
      const rows = await streamAlerts(store.db, runStream('flip'));
      expect(discord.messages.slice(d0)).toEqual(rows.filter((r) => r.channel === 'discord').map((r) => r.text));
      expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
      // A flip's close and open were written in the same candle's transaction, the close first.
      const flip = rows.filter((r) => r.channel === 'discord' && r.kind !== 'strategy_started' && r.kind !== 'strategy_stopped').map((r) => r.kind);
      expect(flip).toEqual(['trade_opened', 'trade_closed', 'trade_opened', 'trade_closed', 'trade_opened', 'trade_closed', 'trade_opened']);
    });

    it('retries a failing Discord (500, then OK) and nothing overtakes the alert it retries; Telegram is not held up', async () => {
      const sender = senderOf();
      const stream = runStream('retry');
      const alerts: NewAlert[] = ['one', 'two', 'three'].map((text) => ({ stream, kind: 'trade_opened', text }));
      await store.db.transaction().execute((trx) => enqueueAlerts(trx, alerts, sender.channelNames, Date.now()));
      const d0 = discord.requests.length;
      const m0 = discord.messages.length;
      const t0 = telegram.messages.length;
      discord.failNext(2, 500);
      const first = await sender.runOnce();
      // Discord's first alert failed and waits; its followers waited with it. Telegram took all three.
      expect(first).toEqual({ delivered: 3, retried: 1, dead: 0 });
      expect(discord.messages.slice(m0)).toEqual([]);
      expect(telegram.messages.slice(t0)).toEqual(['one', 'two', 'three']);
      expect(await sender.flush(stream, 5_000)).toBe(true);
      expect(discord.messages.slice(m0)).toEqual(['one', 'two', 'three']);
      expect(discord.requests.length - d0).toBe(5);
      const rows = (await streamAlerts(store.db, stream)).filter((r) => r.channel === 'discord');
      expect(rows.map((r) => [r.text, r.status, r.attempts])).toEqual([
        ['one', 'delivered', 3],
        ['two', 'delivered', 1],
        ['three', 'delivered', 1],
      ]);
      expect(rows[0]?.last_error).toMatch(/HTTP 500/);
      expect(warns.filter((w) => w.channel === 'discord' && w.retry_in_ms !== undefined)).toHaveLength(2);
      await sender.stop();
    });

    it('declares an alert dead after the policy’s attempts (or at once when refused), logs it, and the next one goes', async () => {
      const sender = senderOf({ DISCORD_WEBHOOK_URL: discord.url });
      expect(sender.channelNames).toEqual(['discord']);
      const stream = runStream('dead');
      await enqueueAlerts(store.db, ['lost', 'next', 'kept'].map((text) => ({ stream, kind: 'trade_closed', text })), sender.channelNames, Date.now());
      const m0 = discord.messages.length;
      discord.failNext(4, 500);
      expect(await sender.flush(stream, 5_000)).toBe(true);
      // Only the first four requests failed, all of them `lost`'s attempts; `next` waited for it to be given up.
      expect(discord.messages.slice(m0)).toEqual(['next', 'kept']);
      discord.failNext(1, 404);
      await enqueueAlerts(store.db, [{ stream, kind: 'trade_closed', text: 'unknown webhook' }, { stream, kind: 'trade_closed', text: 'after it' }], sender.channelNames, Date.now());
      expect(await sender.flush(stream, 5_000)).toBe(true);
      expect(discord.messages.slice(m0)).toEqual(['next', 'kept', 'after it']);
      const rows = await streamAlerts(store.db, stream);
      expect(rows.map((r) => [r.text, r.status, r.attempts])).toEqual([
        ['lost', 'dead', 4],
        ['next', 'delivered', 1],
        ['kept', 'delivered', 1],
        ['unknown webhook', 'dead', 1],
        ['after it', 'delivered', 1],
      ]);
      expect(rows[0]?.last_error).toMatch(/gave up after 4 attempts: .*HTTP 500/);
      expect(rows[3]?.last_error).toMatch(/HTTP 404 Unknown Webhook/);
      expect(warns.filter((w) => w.kind === 'trade_closed' && String(w.err).length > 0 && !('retry_in_ms' in w)).map((w) => w.attempts)).toEqual([4, 1]);
      expect(await alertStats(store.db, stream)).toEqual({ pending: 0, delivered: 3, dead: 2 });
      await sender.stop();
    });

    it('alerts written but not delivered before a crash are delivered, in order and once, after the store is reopened', async () => {
      const m0 = discord.messages.length;
      const t0 = telegram.messages.length;
      // The first process: its start alert goes out, then its sender stops (as if the process were stuck or
      // dying) and the candles' alerts are only written. The store is closed without any flush.
      const first = senderOf();
      const a1 = new RunAlerts({ db: store.db, sender: first, runId: 'crash', strategy: 'Flipper', target: 'sim:paper', clock: new SystemClock(), logger });
      await a1.started({ mode: 'replay' });
      expect(await a1.flush(5_000)).toBe(true);
      await first.stop();
      await runCandles('crash', a1, 10);
      await store.close();
      expect(discord.messages.slice(m0).map(head)).toEqual(['🚀 Strategy Flipper is now active']);

      // The next process: a new store handle and sender; Discord fails once on the first leftover.
      store = await loc.open();
      const stream = runStream('crash');
      const left = (await streamAlerts(store.db, stream)).filter((r) => r.status === 'pending' && r.channel === 'discord');
      expect(left.map((r) => r.kind)).toEqual(['trade_opened', 'trade_closed', 'trade_opened', 'trade_closed', 'trade_opened']);
      const second = senderOf();
      const a2 = new RunAlerts({ db: store.db, sender: second, runId: 'crash', strategy: 'Flipper', target: 'sim:paper', clock: new SystemClock(), logger });
      discord.failNext(1, 500);
      await a2.started({ mode: 'replay' });
      await a2.stopped('SIGTERM');
      expect(await a2.flush(5_000)).toBe(true);
      await second.stop();
      const expected = ['🚀 Strategy Flipper is now active', ...left.map((r) => r.text), '🚀 Strategy Flipper is now active', '🛑 Strategy Flipper stopped (SIGTERM)'].map(head);
      expect(discord.messages.slice(m0).map(head)).toEqual(expected);
      expect(telegram.messages.slice(t0).map(head)).toEqual(expected.map((h) => h.replace(/\*\*/g, '')));
      expect(await alertStats(store.db, stream)).toEqual({ pending: 0, delivered: 2 * expected.length, dead: 0 });
    });
  });
}
