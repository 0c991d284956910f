// The tracking server's commands end to end: the real bin/halyard.js in child processes, a real store on each
// dialect, `serve` on a loopback port.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from './db.ts';
import { runHalyard as halyard, serve } from './cli-run.ts';

for (const d of DIALECTS) {
  describe(`halyard users / recorders / serve / tracker rebuild on ${d.name}`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let env: Record<string, string>;
    beforeAll(async () => {
      loc = await d.fresh();
      env = loc.url ? { DATABASE_URL: loc.url } : { DATABASE_PATH: loc.path ?? '' };
    });
    afterAll(async () => {
      await loc?.drop();
    });

    it('creates a user and a recorder, serves signals, and rebuilds the same ledger', async () => {
      const user = await halyard(['users', 'add', 'alice', '--json'], env);
      expect(user.stderr).toBe('');
      const u = JSON.parse(user.stdout) as { name: string; token: string; trading_mode: string };
      expect(u).toMatchObject({ name: 'alice', trading_mode: 'paper' });
      expect(u.token).toMatch(/^hly_[A-Za-z0-9_-]{32}$/);

      const again = await halyard(['users', 'add', 'alice'], env);
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/^error \[conflict\]: user 'alice' already exists/);

      const text = await halyard(['users', 'add', 'bob', '--trading-mode', 'both'], env);
      expect(text.stdout).toMatch(/user bob \(id \d+, trading mode both\)\nAPI token \(shown once, keep it\): hly_/);

      const rec = await halyard(['recorders', 'add', '--user', 'alice', '--name', 'BTC trend', '--target', 'bybit:paper', 'hyperliquid:testnet*0.5', '--json'], env);
      expect(rec.stderr).toBe('');
      const r = JSON.parse(rec.stdout) as { webhook_url: string; targets: unknown[] };
      expect(r.webhook_url).toMatch(/^http:\/\/127\.0\.0\.1:8080\/hooks\/signals\/[A-Za-z0-9_-]{24}$/);
      expect(r.targets).toEqual([
        { target: 'bybit:paper', multiplier: 1 },
        { target: 'hyperliquid:paper', multiplier: 0.5 },
      ]);
      const missing = await halyard(['recorders', 'add', '--user', 'nobody', '--name', 'x'], env);
      expect(missing.stderr).toMatch(/^error \[not_found\]: no user named 'nobody'/);
      const badTarget = await halyard(['recorders', 'add', '--user', 'alice', '--name', 'x', '--target', 'kraken:paper'], env);
      expect(badTarget.stderr).toMatch(/^error \[invalid_input\]: unknown exchange 'kraken'/);

      const srv = await serve(env);
      try {
        const hook = `${srv.base}/hooks/signals/${r.webhook_url.split('/').pop()}`;
        for (const body of ['{"ticker":"BTCUSDT","action":"buy","quantity":1,"price":25600}', '{"ticker":"BTCUSDT","action":"buy","quantity":1,"price":25610}', '{"ticker":"BTCUSDT","action":"sell","quantity":1,"price":25620}']) {
          const res = await fetch(hook, { method: 'POST', body });
          expect(res.status).toBe(200);
        }
        const pos = (await (await fetch(`${srv.base}/api/positions?exchange=bybit&env=paper`, { headers: { authorization: `Bearer ${u.token}` } })).json()) as { size: number; entry_price: number }[];
        expect(pos.map((p) => [p.size, p.entry_price])).toEqual([[1, 25605]]);
        const hl = (await (await fetch(`${srv.base}/api/positions?exchange=hyperliquid&account_type=testnet`, { headers: { authorization: `Bearer ${u.token}` } })).json()) as { size: number }[];
        expect(hl.map((p) => p.size)).toEqual([0.5]);
      } finally {
        srv.child.kill('SIGTERM');
        expect(await srv.exited).toBe(0);
      }

      const rebuilt = await halyard(['tracker', 'rebuild', '--json'], env);
      expect(rebuilt.stderr).toBe('');
      expect(JSON.parse(rebuilt.stdout)).toEqual({ recorders: 1, signals: 3, positions: 1, openPositions: 1, trades: 0, refused: [] });
      const ls = await halyard(['recorders', 'ls', '--user', 'alice'], env);
      expect(ls.stdout).toMatch(/^\d+\tBTC trend\toneway\t/);
      expect(ls.stdout).toContain(`\toneway\t${srv.base}/hooks/signals/`); // the port the last serve (--port 0) bound
    });
  });
}

describe('halyard serve refuses bad input', () => {
  it('a port that is not a number', async () => {
    const r = await halyard(['serve', '--port', 'eighty'], { DATABASE_PATH: join(tmpdir(), `halyard-bad-port-${process.pid}.db`) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error \[invalid_input\]: --port must be an integer 0-65535, got 'eighty'/);
  });
});
