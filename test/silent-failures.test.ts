// Issue 14 item 5, "nothing silently wrong": rate limits are settings, a recorder with no target tracks only,
// `data import` refuses an unknown exchange or a non-unified symbol, a backtest refuses a range the cache only
// partly covers, and printed webhook URLs carry the running server's address. The real bin/halyard.js in
// child processes, `serve` on a loopback port, real SQLite files (and PostgreSQL for the store parts).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordServerAddress, serverAddress } from '../src/store/server-address.ts';
import { runHalyard as halyard, serve, type Serving } from './cli-run.ts';
import { DIALECTS } from './db.ts';
import { api, postSignal, startServer, userWithRecorder } from './server-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'halyard-silent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh store, cache and output folder for one CLI scenario. */
function envFor(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_PATH: join(dir, `${name}.db`), CACHE_PATH: join(dir, `${name}-cache`), OUTPUT_PATH: join(dir, `${name}-out`), ...extra };
}

async function stop(srv: Serving): Promise<void> {
  srv.child.kill('SIGTERM');
  expect(await srv.exited).toBe(0);
}

const T0 = Date.UTC(2024, 0, 1);

/** A CSV of `days` days of 1m candles from T0 (a slow sine, so the SMA strategy trades). */
function csvOfDays(days: number): string {
  const rows = ['timestamp,open,high,low,close,volume'];
  for (let i = 0; i < days * 1440; i++) {
    const p = 100 + 10 * Math.sin(i / 180);
    rows.push(`${T0 + i * 60_000},${p.toFixed(2)},${(p + 0.5).toFixed(2)},${(p - 0.5).toFixed(2)},${(p + 0.1).toFixed(2)},1`);
  }
  const file = join(dir, `candles-${days}d.csv`);
  writeFileSync(file, rows.join('\n'));
  return file;
}

describe('rate limits and the body limit are settings', () => {
  it('answers 429 on delivery N+1 of one recorder, 413 past BODY_LIMIT_BYTES and 429 past the per-IP limit', async () => {
    const env = envFor('limits', { RATE_LIMIT_PER_RECORDER_PER_MIN: '3', RATE_LIMIT_PER_IP_PER_MIN: '8', BODY_LIMIT_BYTES: '2048' });
    const u = JSON.parse((await halyard(['users', 'add', 'lim', '--json'], env)).stdout) as { token: string };
    const secretOf = async (name: string): Promise<string> => {
      const r = JSON.parse((await halyard(['recorders', 'add', '--user', 'lim', '--name', name, '--track-only', '--json'], env)).stdout) as { webhook_url: string };
      return r.webhook_url.split('/').pop() ?? '';
    };
    const [a, b] = [await secretOf('a'), await secretOf('b')];
    const srv = await serve(env);
    try {
      const signal = (secret: string, price: number, pad = '') => fetch(`${srv.base}/hooks/signals/${secret}`, { method: 'POST', body: `{"ticker":"BTCUSDT","action":"buy","quantity":1,"price":${price}${pad}}` });
      const statuses: number[] = [];
      for (const price of [100, 101, 102]) statuses.push((await signal(a, price)).status);
      const limited = await signal(a, 103); // request 4: the recorder's 4th delivery this minute
      statuses.push(limited.status);
      expect(((await limited.json()) as { error: { message: string } }).error.message).toMatch(/^more than 3 signals a minute for this recorder; retry in \d+ s$/);
      statuses.push((await signal(b, 1)).status); // request 5: another recorder has its own count
      statuses.push((await signal(b, 2, `,"note":"${'x'.repeat(3000)}"`)).status); // request 6: past BODY_LIMIT_BYTES
      for (let k = 0; k < 3; k++) statuses.push((await fetch(`${srv.base}/api/recorders`, { headers: { authorization: `Bearer ${u.token}` } })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 200, 413, 200, 200, 429]);
    } finally {
      await stop(srv);
    }
  });

  it('refuses a limit that is not a whole number >= 1, naming the variable', async () => {
    const r = await halyard(['serve', '--port', '0'], envFor('bad-limit', { RATE_LIMIT_PER_RECORDER_PER_MIN: '0' }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('RATE_LIMIT_PER_RECORDER_PER_MIN');
  });
});

for (const d of DIALECTS) {
  describe(`a recorder with no target tracks only, on ${d.name}`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    beforeAll(async () => {
      loc = await d.fresh();
    });
    afterAll(async () => {
      await loc?.drop();
    });

    it('API targets [] → positions from its signals, no order intents, nothing for the reconciler; absent → sim:paper', async () => {
      const store = await loc.open();
      const srv = await startServer(store);
      try {
        const { token } = await userWithRecorder(store, 'tracker');
        const only = await api<{ id: number; targets: unknown[]; webhook_url: string }>(srv.base, token, '/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'watch', targets: [] }) });
        expect(only.status).toBe(201);
        expect(only.json.targets).toEqual([]);
        const dflt = await api<{ id: number; targets: unknown[]; webhook_url: string }>(srv.base, token, '/api/recorders', { method: 'POST', body: JSON.stringify({ name: 'trade' }) });
        expect(dflt.json.targets).toEqual([{ target: 'sim:paper', multiplier: 1 }]);

        const secret = (url: string): string => url.split('/').pop() ?? '';
        const t0 = srv.clock.now();
        for (const [k, [action, price]] of ([['buy', 2000], ['buy', 2100], ['sell', 2200]] as const).entries()) {
          srv.clock.set(t0 + k * 1000); // the dedupe key holds the received time
          const r = await postSignal(srv.base, secret(only.json.webhook_url), JSON.stringify({ ticker: 'ETHUSDT', action, quantity: 1, price }));
          expect(r.json).toMatchObject({ status: 'accepted' });
        }
        expect((await postSignal(srv.base, secret(dflt.json.webhook_url), JSON.stringify({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 2000 }))).json).toMatchObject({ status: 'accepted' });

        const pos = await api<{ status: string; size: number; entry_price: number; realized_pnl: number }[]>(srv.base, token, `/api/recorders/${only.json.id}/positions?status=all`);
        expect(pos.json.map((p) => [p.status, p.size, p.entry_price])).toEqual([['open', 1, 2050]]);
        expect(pos.json[0]?.realized_pnl).toBe(150);

        const intents = async (recorderId: number): Promise<number> =>
          Number((await store.db.selectFrom('order_intents').select((eb) => eb.fn.countAll<number>().as('n')).where('recorder_id', '=', recorderId).executeTakeFirstOrThrow()).n);
        expect(await intents(only.json.id)).toBe(0);
        expect(await intents(dflt.json.id)).toBeGreaterThan(0);

        // Per-target views list only the linked recorder's position; the tracking-only one is on no target.
        const onSim = await api<{ recorder_id: number | null }[]>(srv.base, token, '/api/positions?exchange=sim&env=paper');
        expect(onSim.json.map((p) => p.recorder_id)).toEqual([dflt.json.id]);

        // Two reconciliations of sim:paper once the linked recorder's order is on the venue: no issue (the
        // tracking-only long would be a conflict if it counted there), and the tracking-only position stays open.
        await srv.dispatcher.drain();
        for (let k = 0; k < 2; k++) expect((await api(srv.base, token, '/api/snapshots', { method: 'POST', body: JSON.stringify({ target: 'sim:paper' }) })).status).toBe(201);
        const issues = await api<unknown[]>(srv.base, token, '/api/reconciliation');
        expect(issues.status).toBe(200);
        expect(issues.json).toEqual([]);
        const after = await api<{ status: string }[]>(srv.base, token, `/api/recorders/${only.json.id}/positions`);
        expect(after.json.map((p) => p.status)).toEqual(['open']);
      } finally {
        await srv.stop();
        await store.close();
      }
    });

    it('records the server address (latest start wins)', async () => {
      const store = await loc.open();
      try {
        expect(await serverAddress(store.db)).toBeUndefined();
        await recordServerAddress(store.db, { publicUrl: 'http://127.0.0.1:9001', host: '127.0.0.1', port: 9001, startedAt: 1 });
        await recordServerAddress(store.db, { publicUrl: 'http://127.0.0.1:9002', host: '127.0.0.1', port: 9002, startedAt: 2 });
        expect(await serverAddress(store.db)).toEqual({ publicUrl: 'http://127.0.0.1:9002', host: '127.0.0.1', port: 9002, startedAt: 2 });
      } finally {
        await store.close();
      }
    });
  });
}

describe('data import validates the exchange and the symbol', () => {
  it('refuses binanse and BTCUSDT with one sentence naming the value and the accepted ones; nothing is written', async () => {
    const env = envFor('import');
    const csv = csvOfDays(1);
    const bad = await halyard(['data', 'import', csv, '--exchange', 'binanse', '--symbol', 'BTCUSDT', '--timeframe', '1m'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--exchange "binanse" is not an exchange Halyard knows: use one of sim, binance, bybit, hyperliquid/);
    const sym = await halyard(['data', 'import', csv, '--exchange', 'binance', '--symbol', 'BTCUSDT', '--timeframe', '1m'], env);
    expect(sym.code).not.toBe(0);
    expect(sym.stderr).toMatch(/--symbol "BTCUSDT" is not a ccxt unified symbol: use BASE\/QUOTE:SETTLE, e\.g\. BTC\/USDT:USDT/);
    expect(sym.stderr.trim().split('\n')).toHaveLength(1);
    const odd = await halyard(['data', 'import', csv, '--exchange', 'bybit', '--symbol', 'ſOL/USDT:USDT', '--timeframe', '1m'], env);
    expect(odd.stderr).toMatch(/--symbol "ſOL\/USDT:USDT" is not a ccxt unified symbol/);
    expect(JSON.parse((await halyard(['data', 'ls', '--json'], env)).stdout)).toEqual([]);
    expect(() => readdirSync(env.CACHE_PATH ?? '')).toThrow(/ENOENT/);

    const fetchSym = await halyard(['data', 'fetch', '--exchange', 'binance', '--symbol', 'ETHUSDT', '--from', '2024-01-01', '--to', '2024-01-02', '--cache-dir', join(dir, 'fetch-cache')], env);
    expect(fetchSym.stderr).toMatch(/--symbol "ETHUSDT" is not a ccxt unified symbol: use BASE\/QUOTE:SETTLE, e\.g\. ETH\/USDT:USDT/);

    const ok = await halyard(['data', 'import', csv, '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--timeframe', '1m', '--json'], env);
    expect(ok.code).toBe(0);
    expect((JSON.parse((await halyard(['data', 'ls', '--json'], env)).stdout) as { exchange: string; symbol: string }[]).map((e) => [e.exchange, e.symbol])).toEqual([['binance', 'BTC/USDT:USDT']]);
  });
});

describe('a backtest the cache only partly covers', () => {
  const env = envFor('partial');
  const bt = (...extra: string[]) =>
    halyard(['backtest', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--param', 'fast=5', '--param', 'slow=20', '--no-report', '--json', ...extra], env);
  beforeAll(async () => {
    const r = await halyard(['data', 'import', csvOfDays(5), '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--timeframe', '1m'], env);
    expect(r.code).toBe(0);
  });

  it('refuses --to past the cache, naming the requested and the covered range and the missing days', async () => {
    const r = await bt('--from', '2024-01-01', '--to', '2024-01-31');
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('the cache holds binance BTC/USDT:USDT 1m from 2024-01-01T00:00Z → 2024-01-06T00:00Z');
    expect(r.stderr).toContain('25 of the 30 requested days (2024-01-01T00:00Z → 2024-01-31T00:00Z) are missing');
    expect(r.stderr).toContain('--allow-partial');
    const before = await bt('--from', '2023-12-31', '--to', '2024-01-03');
    expect(before.stderr).toContain('1 of the 3 requested days');
  });

  it('runs with --allow-partial on the covered range, with a warning line; a covered range runs without one', async () => {
    const r = await bt('--from', '2024-01-01', '--to', '2024-01-31', '--allow-partial');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: the backtest runs on 2024-01-01T00:00Z → 2024-01-06T00:00Z only, what the cache holds of binance BTC\/USDT:USDT 1m: 25 of the 30 requested days/m);
    const res = JSON.parse(r.stdout) as { config: { fromIso: string; toIso: string } };
    expect([res.config.fromIso, res.config.toIso]).toEqual(['2024-01-01T00:00:00.000Z', '2024-01-05T23:59:00.000Z']);
    const inside = await bt('--from', '2024-01-02', '--to', '2024-01-04');
    expect(inside.code).toBe(0);
    expect(inside.stderr).not.toContain('warning: the backtest runs on');
    const outside = await bt('--from', '2024-02-01', '--to', '2024-02-03', '--allow-partial');
    expect(outside.code).not.toBe(0);
    expect(outside.stderr).toContain('none of the requested 2024-02-01T00:00Z → 2024-02-03T00:00Z');
  });

  it('paper --replay checks the same: refused past the cache, replayed on the covered part with --allow-partial', async () => {
    const paper = (...extra: string[]) =>
      halyard(['paper', 'strategies/sma-cross.ts', '--target', 'sim:paper', '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--param', 'fast=5', '--param', 'slow=20', '--speed', '0', ...extra], env);
    const refused = await paper('--replay', '2024-01-03..2024-01-10', '--run', 'partial-refused');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('4 of the 7 requested days (2024-01-03T00:00Z → 2024-01-10T00:00Z) are missing');
    expect(refused.stderr).toContain('narrow --replay, or pass --allow-partial');
    const partial = await paper('--replay', '2024-01-04..2024-01-10', '--run', 'partial-ok', '--allow-partial');
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stderr).toMatch(/^warning: the replay runs on 2024-01-04T00:00Z → 2024-01-06T00:00Z only/m);
  });

  it('leaves synthetic data alone', async () => {
    const r = await halyard(['backtest', 'strategies/sma-cross.ts', '--synthetic', '--from', '2029-12-30', '--to', '2030-01-01', '--no-report', '--json'], env);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('cache');
  });
});

describe('printed webhook URLs carry the running server address', () => {
  it('before any server: the default and a note; then the port serve --port 0 bound; PUBLIC_URL wins', async () => {
    const env = envFor('urls');
    await halyard(['users', 'add', 'url', '--json'], env);
    const first = await halyard(['recorders', 'add', '--user', 'url', '--name', 'early'], env);
    expect(first.stdout).toContain('webhook URL (keep it secret): http://127.0.0.1:8080/hooks/signals/');
    expect(first.stderr).toBe('(no server has run on this store yet; set PUBLIC_URL or start halyard serve)\n');

    const srv = await serve(env);
    expect(srv.base).not.toBe('http://127.0.0.1:8080');
    try {
      const rec = await halyard(['recorders', 'add', '--user', 'url', '--name', 'later'], env);
      expect(rec.stdout).toContain(`webhook URL (keep it secret): ${srv.base}/hooks/signals/`);
      expect(rec.stderr).toBe('');
      const track = JSON.parse((await halyard(['recorders', 'add', '--user', 'url', '--name', 'watch', '--track-only', '--json'], env)).stdout) as { targets: unknown[]; webhook_url: string };
      expect(track.targets).toEqual([]);
      expect(track.webhook_url.startsWith(`${srv.base}/hooks/signals/`)).toBe(true);
      // The printed URL works as printed: a tracking-only recorder gets its position.
      expect((await fetch(track.webhook_url, { method: 'POST', body: '{"ticker":"SOLUSDT","action":"buy","quantity":2,"price":150}' })).status).toBe(200);

      const eng = await halyard(['engines', 'add', 'url', '--name', 'bot'], env);
      expect(eng.stdout).toContain(`webhook URL: ${srv.base}/hooks/engine?source=`);
      const pub = await halyard(['engines', 'add', 'url', '--name', 'bot2'], { ...env, PUBLIC_URL: 'https://hooks.example.com' });
      expect(pub.stdout).toContain('webhook URL: https://hooks.example.com/hooks/engine?source=');
      const ls = await halyard(['recorders', 'ls', '--user', 'url'], { ...env, PUBLIC_URL: 'https://hooks.example.com' });
      expect(ls.stdout.split('\n').filter((l) => l.includes('https://hooks.example.com/hooks/signals/'))).toHaveLength(3);

      // The API answers with the server's own address too (the bound port, not 0 or 8080).
      const token = (JSON.parse((await halyard(['users', 'token', 'url', '--json'], env)).stdout) as { token: string }).token;
      const listed = (await (await fetch(`${srv.base}/api/recorders`, { headers: { authorization: `Bearer ${token}` } })).json()) as { webhook_url: string; name: string }[];
      expect(listed.map((r) => r.webhook_url.startsWith(`${srv.base}/hooks/signals/`))).toEqual([true, true, true]);
      const watch = listed.find((r) => r.name === 'watch');
      const pos = (await (await fetch(`${srv.base}/api/recorders/${(watch as unknown as { id: number }).id}/positions`, { headers: { authorization: `Bearer ${token}` } })).json()) as { symbol: string; size: number }[];
      expect(pos.map((p) => [p.symbol, p.size])).toEqual([['SOLUSDT', 2]]);
    } finally {
      await stop(srv);
    }
    // Once a server has run, the CLI keeps its address (a restart usually takes the same port).
    const after = await halyard(['recorders', 'ls', '--user', 'url'], env);
    expect(after.stdout.split('\n').filter((l) => l.includes(`${srv.base}/hooks/signals/`))).toHaveLength(3);
  });
});
