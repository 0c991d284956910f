/**
 * Signal intake benchmark: the real server in a child process, autocannon in this one (two processes for
 * two cores). Every signal trades on `sim:paper` (the recorders' default target). Sustained durable
 * signals/second at full load, p50/p99 latency at half the sustained rate just measured (a rate the server
 * holds), the share of signals whose order had filled when the load stopped, and SQL statements per signal,
 * on SQLite and (when it answers) PostgreSQL; a bare Fastify hello route measured in the same run as the
 * ceiling. `HALYARD_BENCH_STORES=sqlite` (or `postgres`) measures one store only;
 * `HALYARD_BENCH_CONNECTIONS=32,128` measures the sustained rate at each of those connection counts (the
 * first one's figures are the headline ones; default 32).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
          // Each recorder alternates buy 0.01, sell 0.02, buy 0.03, sell 0.01, buy 0.02, sell 0.03: its position stays
          // within 0.03 BTC and flips, so the simulated account's margin and fees never refuse an order.
          const k = Math.floor(i / Math.max(1, secrets.length));
          const body = JSON.stringify({ ticker: 'BTCUSDT', action: k % 2 === 0 ? 'buy' : 'sell', quantity: (1 + (k % 3)) / 100, price: 25_000 + (priceTick % 1000) + priceTick / 1e6 });
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

/** Accepted signals after `afterId`, how many of them have a filled order, and the highest signal id. */
async function countAccepted(where: string, afterId = 0): Promise<{ accepted: number; filled: number; maxId: number }> {
  const store = await openStore(where.startsWith('postgres') ? { url: where } : { path: where });
  try {
    const m = await store.db.selectFrom('signals').select((eb) => eb.fn.max<number>('id').as('m')).executeTakeFirstOrThrow();
    const upTo = Number(m.m ?? 0); // signals stored while counting are left out of both counts
    const a = await store.db.selectFrom('signals').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', '=', 'accepted').where('id', '>', afterId).where('id', '<=', upTo).executeTakeFirstOrThrow();
    const f = await store.db
      .selectFrom('signals as s')
      .innerJoin('order_intents as i', 'i.signal_id', 's.id')
      .select((eb) => eb.fn.count<number>('s.id').distinct().as('n'))
      .where('s.outcome', '=', 'accepted')
      .where('s.id', '>', afterId)
      .where('s.id', '<=', upTo)
      .where('i.status', '=', 'filled')
      .executeTakeFirstOrThrow();
    return { accepted: Number(a.n), filled: Number(f.n), maxId: upTo };
  } finally {
    await store.close();
  }
}

/** SQL statements the server ran so far, and its CPU time (ms). */
async function statements(port: number): Promise<{ n: number; cpuMs: number }> {
  const r = await fetch(`http://127.0.0.1:${port}/bench/statements`);
  return (await r.json()) as { n: number; cpuMs: number };
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

/** The sustained run at one connection count. */
export interface SustainedAt {
  readonly connections: number;
  readonly perSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly filledShare: number;
  readonly statementsPerSignal: number;
  readonly cpuMsPerSignal: number;
}

/** Connection counts of the sustained runs (`HALYARD_BENCH_CONNECTIONS`, default 32). */
function connectionCounts(): number[] {
  const list = (process.env.HALYARD_BENCH_CONNECTIONS ?? '32')
    .split(',')
    .map((x) => Number(x.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  return list.length > 0 ? list : [32];
}

/** Figures of one store. */
export interface IntakeFigures {
  readonly sustained: Measured & { readonly storedAccepted: number };
  /** Share of the sustained run's accepted signals whose order had filled when the load stopped. */
  readonly filledShare: number;
  /** SQL statements the server ran per accepted signal in the sustained run (the dispatcher's included). */
  readonly statementsPerSignal: number;
  /** Server CPU time per accepted signal in the sustained run (ms; less sensitive to a busy machine than the rate). */
  readonly cpuMsPerSignal: number;
  /** Latency at half the sustained rate. */
  readonly atHalf: Measured & { readonly rate: number };
  /** The sustained run at each connection count (the first is the one above). */
  readonly byConnections: readonly SustainedAt[];
}

/** One sustained run at `connections`: rate, filled share, statements and server CPU per accepted signal. */
async function sustainedRun(child: Child, where: string, connections: number): Promise<{ run: Measured; at: SustainedAt; storedAccepted: number }> {
  const before = await countAccepted(where);
  const s0 = await statements(child.port);
  const run = await hammer(child.port, child.secrets, { seconds: 10, connections });
  const atEnd = await countAccepted(where, before.maxId);
  await new Promise((r) => setTimeout(r, 1000)); // what the dispatcher still does for them is counted too
  const s1 = await statements(child.port);
  const settled = await countAccepted(where, before.maxId);
  const n = settled.accepted;
  const at: SustainedAt = {
    connections,
    perSec: run.perSec,
    p50: run.p50,
    p99: run.p99,
    errors: run.errors,
    filledShare: atEnd.accepted > 0 ? atEnd.filled / atEnd.accepted : 0,
    statementsPerSignal: n > 0 ? (s1.n - s0.n) / n : 0,
    cpuMsPerSignal: n > 0 ? (s1.cpuMs - s0.cpuMs) / n : 0,
  };
  return { run, at, storedAccepted: n };
}

async function benchStore(where: string): Promise<IntakeFigures> {
  const child = await startChild(['signals', where, '16']);
  try {
    await hammer(child.port, child.secrets, { seconds: 2, connections: 16 }); // warm-up (JIT, caches)
    await new Promise((r) => setTimeout(r, 500));
    const [first, ...rest] = connectionCounts();
    const head = await sustainedRun(child, where, first ?? 32);
    const rate = Math.max(1, Math.round(head.run.perSec / 2));
    const atHalf = await hammer(child.port, child.secrets, { seconds: 10, connections: 16, rate });
    const byConnections = [head.at];
    for (const c of rest) byConnections.push((await sustainedRun(child, where, c)).at);
    return {
      sustained: { ...head.run, storedAccepted: head.storedAccepted },
      filledShare: head.at.filledShare,
      statementsPerSignal: head.at.statementsPerSignal,
      cpuMsPerSignal: head.at.cpuMsPerSignal,
      atHalf: { ...atHalf, rate },
      byConnections,
    };
  } finally {
    await stopChild(child);
  }
}

/** Runs the whole intake benchmark and returns its figures. */
export async function runIntakeBench(): Promise<Record<string, unknown>> {
  const only = process.env.HALYARD_BENCH_STORES ?? 'sqlite,postgres';
  const load = loadavg().map((x) => Math.round(x * 100) / 100);
  const hello = await startChild(['hello']);
  let ceiling: Measured;
  try {
    await hammer(hello.port, [], { seconds: 2, connections: 32 }, true);
    ceiling = await hammer(hello.port, [], { seconds: 10, connections: 32 }, true);
  } finally {
    await stopChild(hello);
  }
  let sqlite: IntakeFigures | null = null;
  if (only.includes('sqlite')) {
    const dir = mkdtempSync(join(tmpdir(), 'halyard-intake-bench-'));
    sqlite = await benchStore(join(dir, 'bench.db'));
    rmSync(dir, { recursive: true, force: true });
  }
  let postgres: IntakeFigures | null = null;
  if (only.includes('postgres') && (await pgAnswers())) {
    const name = `halyard_bench_${process.pid}`;
    postgres = await benchStore(PG_ADMIN.replace(/\/postgres$/, `/${name}`));
    const c = new pg.Client({ connectionString: PG_ADMIN });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await c.end();
  }
  const ratio = (f: IntakeFigures | null) => (f && ceiling.perSec > 0 ? Math.round((f.sustained.perSec / ceiling.perSec) * 1000) / 1000 : null);
  return {
    helloCeiling: ceiling,
    sqlite,
    postgres,
    ofCeiling: { sqlite: ratio(sqlite), postgres: ratio(postgres) },
    loadAverage: { start: load, end: loadavg().map((x) => Math.round(x * 100) / 100) },
    targets: { sqliteOfCeiling: 0.2, postgresOfCeiling: 0.08 },
  };
}

/** Prints the figures. */
export function printIntake(r: Record<string, unknown>): void {
  const c = r.helloCeiling as Measured;
  const of = r.ofCeiling as Record<string, number | null>;
  const la = r.loadAverage as { start: number[]; end: number[] };
  console.log(`\n  signal intake with execution on sim:paper (server in a child process, autocannon here; each request a distinct signal)`);
  console.log(`    load average ${la.start.join(' ')} at start, ${la.end.join(' ')} at end`);
  console.log(`    bare Fastify hello   ${c.perSec.toLocaleString()} req/s   p50 ${c.p50} ms  p99 ${c.p99} ms   (ceiling)`);
  for (const k of ['sqlite', 'postgres'] as const) {
    const f = r[k] as IntakeFigures | null;
    if (!f) {
      console.log(`    ${k.padEnd(9)} not measured`);
      continue;
    }
    const target = k === 'sqlite' ? 0.2 : 0.08;
    console.log(`    ${k.padEnd(9)} sustained ${f.sustained.perSec.toLocaleString()} signals/s = ${of[k]}× the ceiling (target ≥ ${target}×); stored accepted ${f.sustained.storedAccepted.toLocaleString()} of ${f.sustained.ok.toLocaleString()} answered 2xx, ${f.sustained.errors} errors`);
    console.log(`    ${' '.repeat(9)} order filled when the load stopped: ${(f.filledShare * 100).toFixed(1)} % of signals; ${f.statementsPerSignal.toFixed(2)} SQL statements and ${f.cpuMsPerSignal.toFixed(3)} ms of server CPU per signal`);
    console.log(`    ${' '.repeat(9)} at half that rate (${f.atHalf.rate.toLocaleString()}/s): p50 ${f.atHalf.p50} ms, p99 ${f.atHalf.p99} ms (${f.atHalf.ok.toLocaleString()} ok, ${f.atHalf.errors} errors)`);
    for (const b of f.byConnections.slice(1)) {
      console.log(`    ${' '.repeat(9)} at ${b.connections} connections: ${b.perSec.toLocaleString()} signals/s, p50 ${b.p50} ms, p99 ${b.p99} ms, ${b.errors} errors; filled ${(b.filledShare * 100).toFixed(1)} %; ${b.statementsPerSignal.toFixed(2)} statements and ${b.cpuMsPerSignal.toFixed(3)} ms CPU per signal`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runIntakeBench();
  printIntake(r);
  console.log(JSON.stringify(r, null, 2));
}
