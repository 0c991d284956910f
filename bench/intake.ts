/**
 * Signal intake benchmark: the real server in a child process, autocannon in this one (two processes for
 * two cores). Sustained durable signals/second at full load, and p50/p99 latency at a fixed 1,000/s, on
 * SQLite and (when it answers) PostgreSQL; a bare Fastify hello route measured in the same run as the ceiling.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { openStore } from '../src/store/db.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

interface Child {
  readonly port: number;
  readonly secrets: string[];
  readonly proc: ChildProcess;
}

function startChild(args: string[]): Promise<Child> {
  return new Promise((res, rej) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'bench/intake-server.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) res({ ...(JSON.parse(line) as { port: number; secrets: string[] }), proc });
    });
    proc.on('exit', (code) => rej(new Error(`intake server exited ${code}`)));
  });
}

async function stopChild(c: Child): Promise<void> {
  const done = new Promise((r) => c.proc.once('exit', r));
  c.proc.kill('SIGKILL');
  await done;
}

/** Load shape: fixed rate (requests/s overall) or as fast as `connections` allow. */
interface Load {
  readonly seconds: number;
  readonly connections: number;
  readonly rate?: number;
}

interface Measured {
  readonly requests: number;
  readonly ok: number;
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

let priceTick = 0;

/** Runs autocannon against the signal webhook, each request a distinct signal (buy/sell alternating). */
async function hammer(port: number, secrets: string[], load: Load, hello = false): Promise<Measured> {
  let i = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: load.connections,
    duration: load.seconds,
    ...(load.rate ? { overallRate: load.rate } : {}),
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          i++;
          if (hello) return { ...req, path: '/hello', body: '{}', headers: { 'content-type': 'application/json' } };
          const secret = secrets[i % secrets.length]!;
          priceTick++;
          const body = JSON.stringify({ ticker: 'BTCUSDT', action: priceTick % 2 === 0 ? 'buy' : 'sell', quantity: 1 + (priceTick % 3), price: 25_000 + (priceTick % 1000) + priceTick / 1e6 });
          return { ...req, path: `/hooks/signals/${secret}`, body, headers: { 'content-type': 'application/json' } };
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    requests: result.requests.total,
    ok,
    perSec: Math.round(ok / (result.duration || load.seconds)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

async function countAccepted(where: string): Promise<number> {
  const store = await openStore(where.startsWith('postgres') ? { url: where } : { path: where });
  try {
    const r = await store.db.selectFrom('signals').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', '=', 'accepted').executeTakeFirstOrThrow();
    return Number(r.n);
  } finally {
    await store.close();
  }
}

async function pgAnswers(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Figures of one store. */
export interface IntakeFigures {
  readonly sustained: Measured & { readonly storedAccepted: number };
  readonly at1000: Measured;
}

async function benchStore(where: string): Promise<IntakeFigures> {
  const child = await startChild(['signals', where, '16']);
  try {
    await hammer(child.port, child.secrets, { seconds: 2, connections: 16 }); // warm-up (JIT, caches)
    const before = await countAccepted(where);
    const sustained = await hammer(child.port, child.secrets, { seconds: 10, connections: 32 });
    const storedAccepted = (await countAccepted(where)) - before;
    const at1000 = await hammer(child.port, child.secrets, { seconds: 10, connections: 20, rate: 1000 });
    return { sustained: { ...sustained, storedAccepted }, at1000 };
  } finally {
    await stopChild(child);
  }
}

/** Runs the whole intake benchmark and returns its figures. */
export async function runIntakeBench(): Promise<Record<string, unknown>> {
  const hello = await startChild(['hello']);
  let ceiling: Measured;
  try {
    await hammer(hello.port, [], { seconds: 2, connections: 32 }, true);
    ceiling = await hammer(hello.port, [], { seconds: 10, connections: 32 }, true);
  } finally {
    await stopChild(hello);
  }
  const dir = mkdtempSync(join(tmpdir(), 'halyard-intake-bench-'));
  const sqlite = await benchStore(join(dir, 'bench.db'));
  rmSync(dir, { recursive: true, force: true });
  let postgres: IntakeFigures | null = null;
  if (await pgAnswers()) {
    const name = `halyard_bench_${process.pid}`;
    postgres = await benchStore(PG_ADMIN.replace(/\/postgres$/, `/${name}`));
    const c = new pg.Client({ connectionString: PG_ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
  }
  return { helloCeiling: ceiling, sqlite, postgres, targets: { signalsPerSec: 3000, p99MsAt1000: 25 } };
}

/** Prints the figures. */
export function printIntake(r: Record<string, unknown>): void {
  const c = r.helloCeiling as Measured;
  console.log(`\n  signal intake (server in a child process, autocannon here; each request a distinct signal)`);
  console.log(`    bare Fastify hello   ${c.perSec.toLocaleString()} req/s   p50 ${c.p50} ms  p99 ${c.p99} ms   (ceiling)`);
  for (const k of ['sqlite', 'postgres'] as const) {
    const f = r[k] as IntakeFigures | null;
    if (!f) {
      console.log(`    ${k.padEnd(9)} not measured (no server on 127.0.0.1:5432)`);
      continue;
    }
    console.log(`    ${k.padEnd(9)} sustained ${f.sustained.perSec.toLocaleString()} signals/s (stored accepted ${f.sustained.storedAccepted.toLocaleString()} of ${f.sustained.ok.toLocaleString()} answered 2xx, ${f.sustained.errors} errors)   target ≥ 3,000/s`);
    console.log(`    ${' '.repeat(9)} at 1,000/s: p50 ${f.at1000.p50} ms, p99 ${f.at1000.p99} ms (${f.at1000.ok.toLocaleString()} ok, ${f.at1000.errors} errors)   target p99 < 25 ms`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runIntakeBench();
  printIntake(r);
  console.log(JSON.stringify(r, null, 2));
}
