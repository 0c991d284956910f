import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { cachePath, writeCandles } from '../src/data/cache.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { newWebhookSecret } from '../src/notify/standard-webhooks.ts';
import { BIN, ROOT, cliEnv, runHalyard, serve } from './cli-run.ts';
import { startDiscordStub, type DiscordStub } from './stubs/discord-stub.ts';
import { startEngineReceiver, type EngineReceiver } from './stubs/engine-receiver.ts';

const FROM = Date.UTC(2024, 0, 1);
const STRATEGY = ['strategies/sma-cross.ts', '--param', 'fast=10', '--param', 'slow=40', '--param', 'sl=0.004', '--param', 'tp=0.006', '--leverage', '10'];
const REPLAY = ['--replay', '2024-01-01..2024-01-03'];

let dir: string;
let env: Record<string, string>;

async function withStore<T>(f: (s: Store) => Promise<T>): Promise<T> {
  const s = await openStore({ path: join(dir, 'h.db') });
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

async function candlesDone(run: string): Promise<number> {
  return withStore(async (s) => (await s.db.selectFrom('paper_runs').select('candles').where('id', '=', run).executeTakeFirst())?.candles ?? 0);
}

/** Starts a paper run in a child process; resolves once it has processed more than `after` candles. */
function startPaper(run: string, speed: string, extraEnv: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, 'paper', ...STRATEGY, ...REPLAY, '--run', run, '--speed', speed], { cwd: ROOT, env: cliEnv({ ...env, ...extraEnv }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const reached = async (after: number): Promise<number> => {
    for (;;) {
      const n = await candlesDone(run);
      if (n > after) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, reached, output: () => out };
}

async function runState(run: string) {
  return withStore(async (s) => ({
    trades: await s.db.selectFrom('run_trades').select(['position_id', 'exit_reason', 'pnl', 'data']).where('run_id', '=', run).orderBy('position_id').execute(),
    portfolio: await s.db.selectFrom('portfolio').select(['balance', 'fees_paid', 'equity']).where('run_id', '=', run).executeTakeFirstOrThrow(),
    positions: await s.db.selectFrom('run_positions').select(['position_id', 'status', 'qty', 'data']).where('run_id', '=', run).orderBy('position_id').execute(),
    orders: await s.db.selectFrom('run_orders').select(['candle_ts', 'seq', 'side', 'qty', 'fill_price', 'fee', 'status']).where('run_id', '=', run).orderBy('candle_ts').orderBy('seq').execute(),
    run: await s.db.selectFrom('paper_runs').select(['candles', 'cursor_ts', 'status', 'stop_reason']).where('id', '=', run).executeTakeFirstOrThrow(),
  }));
}

describe('halyard paper (child processes)', () => {
  let discord: DiscordStub;
  let receiver: EngineReceiver;
  const secret = newWebhookSecret();
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-paper-'));
    const c = syntheticCandles({ seed: 3, count: 2_880, from: FROM });
    await writeCandles(cachePath(join(dir, 'cache'), 'binance', 'BTC/USDT:USDT', '1m'), c, { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m' });
    env = { CACHE_PATH: join(dir, 'cache'), DATABASE_PATH: join(dir, 'h.db'), EXCHANGE: 'binance', SYMBOL: 'BTC/USDT:USDT' };
    discord = await startDiscordStub();
    receiver = await startEngineReceiver(secret, () => Date.now());
  });
  afterAll(async () => {
    await discord.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kill -9 twice mid-run, then a restart: the same trades, orders, positions and balance as an uninterrupted run', async () => {
    const whole = await runHalyard(['paper', ...STRATEGY, ...REPLAY, '--run', 'whole', '--speed', '0'], env);
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);
    expect(whole.stdout).toMatch(/finished run whole .*2880 candles/);

    for (const after of [400, 1_500]) {
      const p = startPaper('cut', '30000');
      const at = await p.reached(after);
      p.child.kill('SIGKILL');
      expect((await p.exited).signal).toBe('SIGKILL');
      const stored = await candlesDone('cut');
      expect(stored).toBeGreaterThanOrEqual(at);
      expect(stored).toBeLessThan(2_880);
    }
    const rest = await runHalyard(['paper', ...STRATEGY, ...REPLAY, '--run', 'cut', '--speed', '0'], env);
    expect(rest.code).toBe(0);
    expect(rest.stdout).toMatch(/resumed run cut/);
    const a = await runState('whole');
    const b = await runState('cut');
    expect(a.trades.length).toBeGreaterThan(20);
    expect(b.trades).toEqual(a.trades);
    expect(b.orders).toEqual(a.orders);
    expect(b.positions).toEqual(a.positions);
    expect(b.portfolio).toEqual(a.portfolio);
    expect(b.run.candles).toBe(2_880);
    expect(b.run.status).toBe('finished');
  }, 180_000);

  it('SIGTERM stops gracefully: the candle in progress is stored, the run is marked stopped, alerts and signed events are delivered', async () => {
    const p = startPaper('term', '30000', { DISCORD_WEBHOOK_URL: discord.url, ENGINE_EVENTS_URL: receiver.url, ENGINE_EVENTS_SECRET: secret });
    await p.reached(900);
    p.child.kill('SIGTERM');
    const end = await p.exited;
    expect(end.code).toBe(0);
    expect(p.output()).toMatch(/stopped run term \(SIGTERM\)/);
    const st = await runState('term');
    expect(st.run.status).toBe('stopped');
    expect(st.run.stop_reason).toBe('SIGTERM');
    expect(st.run.candles).toBeLessThan(2_880);
    expect(st.run.cursor_ts).toBe(FROM + (st.run.candles - 1) * 60_000);
    // Alerts: start, the trades, and the final stop with the run's figures.
    expect(discord.messages[0]).toMatch(/SmaCross/);
    expect(discord.messages.at(-1)).toMatch(/stopped/i);
    expect(discord.messages.filter((m) => /closed/.test(m)).length).toBe(st.trades.length);
    // Every event written was delivered, signed, once, in order.
    const outbox = await withStore((s) => s.db.selectFrom('outbox').select(['webhook_id', 'status', 'payload']).where('run_id', '=', 'term').orderBy('id').execute());
    expect(outbox.length).toBeGreaterThan(2 * st.trades.length - 1);
    expect(outbox.every((e) => e.status === 'delivered')).toBe(true);
    const got = receiver.deliveries.filter((d) => d.webhookId.startsWith('msg_term_'));
    expect(got.map((d) => d.webhookId)).toEqual(outbox.map((e) => e.webhook_id));
    expect(got.map((d) => d.body)).toEqual(outbox.map((e) => e.payload));
    expect(receiver.refusals).toEqual([]);
    const types = outbox.map((e) => (JSON.parse(e.payload) as { event_type: string }).event_type);
    expect(types.filter((t) => t === 'position_closed').length).toBe(st.trades.length);
    expect(types[0]).toBe('position_opened');
  }, 120_000);

  it('a paper run reports to a real tracking server: engine positions, trades and strategy analytics equal the run', async () => {
    const srvEnv = { DATABASE_PATH: join(dir, 'server.db'), ENCRYPTION_KEY: 'k'.repeat(40), MONITOR_INTERVAL_S: '3600', ENGINE_POLL_INTERVAL_S: '3600' };
    const user = JSON.parse((await runHalyard(['users', 'add', 'paula', '--json'], srvEnv)).stdout) as { token: string };
    const src = JSON.parse((await runHalyard(['engines', 'add', 'paula', '--name', 'paper-btc', '--json'], srvEnv)).stdout) as { id: string; secret: string };
    const server = await serve(srvEnv);
    try {
      const url = `${server.base}/hooks/engine?source=${src.id}`;
      const r = await runHalyard(['paper', ...STRATEGY, '--replay', '2024-01-01..2024-01-02', '--run', 'to-server', '--speed', '0'], { ...env, ENGINE_EVENTS_URL: url, ENGINE_EVENTS_SECRET: src.secret });
      expect(r.code).toBe(0);
      const st = await runState('to-server');
      const get = async <T>(path: string): Promise<T> => (await (await fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${user.token}` } })).json()) as T;
      let strategies: { name: string; trades: number; pnl: number; open_positions: number }[] = [];
      for (let k = 0; k < 100 && (strategies[0]?.trades ?? 0) < st.trades.length; k++) {
        await new Promise((res) => setTimeout(res, 100));
        strategies = await get('/api/strategies');
      }
      const pnl = st.trades.reduce((a, t) => a + t.pnl, 0);
      expect(strategies).toEqual([expect.objectContaining({ name: 'SmaCross', trades: st.trades.length, open_positions: st.positions.filter((p) => p.status === 'open').length })]);
      expect(strategies[0]!.pnl).toBeCloseTo(pnl, 6);
      const open = await get<{ source: string; size: number; strategy: string; target: string; broker_size: number | null }[]>('/api/positions?exchange=sim&env=paper&status=open');
      const runOpen = st.positions.filter((p) => p.status === 'open');
      expect(open.map((p) => [p.source, p.strategy, p.target, p.size, p.broker_size])).toEqual(runOpen.map((p) => ['engine', 'SmaCross', 'sim:paper', p.qty, null]));
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 120_000);

  it('refuses a replay range with no cached candles before creating anything', async () => {
    const r = await runHalyard(['paper', ...STRATEGY, '--replay', '2020-01-01..2020-01-02', '--run', 'nothing'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the cache holds binance BTC\/USDT:USDT 1m from .*, none of the requested 2020-01-01T00:00Z → 2020-01-02T00:00Z/);
    expect(await withStore(async (s) => (await s.db.selectFrom('paper_runs').select('id').where('id', '=', 'nothing').execute()).length)).toBe(0);
  });
});
