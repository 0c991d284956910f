/**
 * Several servers on one PostgreSQL (issue 17 item 1): sustained signal intake with 1, 2 and 3
 * `halyard serve` processes on one new database, autocannon in this process (one instance per server).
 * Signals are routed by recorder, as the fleet needs for now (docs/architecture.md, "Several servers"): each
 * server gets its own user whose recorders trade on `sim:paper`, so a recorder's book and a user's simulated
 * account live on one server. Prints acknowledged signals/s and what the database holds afterwards.
 * `npx tsx bench/fleet.ts` (HALYARD_BENCH_SECONDS, default 8; HALYARD_BENCH_CONNECTIONS per server, default 16).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openStore, type Store } from '../src/store/db.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PG_ADMIN = process.env.HALYARD_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.HALYARD_BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.HALYARD_BENCH_CONNECTIONS ?? 16);

interface Served {
  readonly base: string;
  readonly proc: ChildProcess;
}

function serve(url: string): Promise<Served> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, [join(repo, 'bin', 'halyard.js'), 'serve', '--port', '0'], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'silent', DATABASE_URL: url, RATE_LIMIT_PER_IP_PER_MIN: '100000000', RATE_LIMIT_PER_RECORDER_PER_MIN: '100000000' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) res({ base: m[1], proc });
    });
    proc.on('exit', (code) => rej(new Error(`serve exited ${code}`)));
  });
}

async function stop(s: Served): Promise<void> {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await done;
}

/** Full load on one server for `SECONDS`, each request a distinct signal of one of `secrets`. */
async function hammer(base: string, secrets: readonly string[], tag: string): Promise<{ ok: number; errors: number; p99: number }> {
  let i = 0;
  const r = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          i++;
          const k = Math.floor(i / secrets.length);
          const body = JSON.stringify({ ticker: 'BTCUSDT', action: k % 2 === 0 ? 'buy' : 'sell', quantity: (1 + (k % 3)) / 100, price: 25_000 + (i % 1000), order_id: `${tag}-${i}` });
          return { ...req, path: `/hooks/signals/${secrets[i % secrets.length]!}`, body, headers: { 'content-type': 'application/json' } };
        },
      },
    ],
  });
  return { ok: r['2xx'], errors: r.errors + r.non2xx + r.timeouts, p99: r.latency.p99 };
}

async function fresh(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `halyard_bench_fleet_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    url: PG_ADMIN.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

async function accepted(store: Store): Promise<number> {
  const r = await store.db.selectFrom('signals').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', '=', 'accepted').executeTakeFirstOrThrow();
  return Number(r.n);
}

for (const n of [1, 2, 3]) {
  const db = await fresh();
  const servers = await Promise.all(Array.from({ length: n }, () => serve(db.url)));
  const store = await openStore({ url: db.url });
  try {
    const secrets: string[][] = [];
    for (let s = 0; s < n; s++) {
      const { user } = await createUser(store.db, `bench${s}`, 'both', Date.now());
      const mine: string[] = [];
      for (let r = 0; r < 8; r++) mine.push((await createRecorder(store.db, { userId: user.id, name: `r${r}` }, Date.now())).secret);
      secrets.push(mine);
    }
    const load = loadavg()[0]!.toFixed(1);
    const runs = await Promise.all(servers.map((s, k) => hammer(s.base, secrets[k]!, `s${k}`)));
    const ok = runs.reduce((a, r) => a + r.ok, 0);
    const errors = runs.reduce((a, r) => a + r.errors, 0);
    const stored = await accepted(store);
    console.log(
      `${n} server${n > 1 ? 's' : ' '}: ${Math.round(ok / SECONDS)} signals/s acknowledged (${ok} in ${SECONDS} s, ${errors} errors, p99 ${Math.max(...runs.map((r) => r.p99))} ms), ` +
        `${stored} accepted in the store, load average ${load} before`,
    );
  } finally {
    await store.close();
    await Promise.all(servers.map(stop));
    await db.drop();
  }
}
