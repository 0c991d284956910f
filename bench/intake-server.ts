/**
 * Child process of the intake benchmark: serves either the real tracking server over a fresh store
 * (`signals <sqlite-path|postgres-url> <recorders> [sim|none]`: the recorders trade on `sim:paper`, or only track) or a bare Fastify hello route (`hello`), prints
 * `{"port":…,"secrets":[…]}` on stdout, and runs until killed. `GET /bench/statements` answers how many
 * SQL statements the server has run (counted where the drivers run them, so a statement compiled once and
 * run many times counts every time; transactions' BEGIN/COMMIT/ROLLBACK not included) and the CPU time it
 * has used (ms); `?detail=1` adds the count per SQL text.
 */
import BetterSqlite3 from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { pino } from 'pino';
import { SystemClock } from '../src/clock.ts';
import { buildServer } from '../src/server/app.ts';
import { openStore } from '../src/store/db.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';

process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile

const [mode = 'hello', where = '', recorders = '8', targets = 'sim'] = process.argv.slice(2);

if (mode === 'hello') {
  const app = Fastify({ logger: false });
  app.post('/hello', async () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0, secrets: [] })}\n`);
} else {
  let statements = 0;
  const bySql = new Map<string, { n: number; ms: number }>();
  const count = (sql: string, ms: number): void => {
    const s = bySql.get(sql) ?? { n: 0, ms: 0 };
    s.n += 1;
    s.ms += ms;
    bySql.set(sql, s);
    if (!/^\s*(begin|commit|rollback)\b/i.test(sql)) statements += 1;
  };
  countStatements(count);
  const store = await openStore(where.startsWith('postgres') ? { url: where } : { path: where });
  const clock = new SystemClock();
  const { user } = await createUser(store.db, 'bench', 'paper', clock.now());
  const secrets: string[] = [];
  for (let i = 0; i < Number(recorders); i++) secrets.push((await createRecorder(store.db, { userId: user.id, name: `bench ${i}`, ...(targets === 'none' ? { targets: [] } : {}) }, clock.now())).secret);
  const { app } = await buildServer({
    store,
    clock,
    logger: pino({ level: 'warn' }),
    publicUrl: 'http://127.0.0.1',
    box: undefined,
    limits: { perIpPerMinute: 100_000_000, perRecorderPerMinute: 100_000_000 },
  });
  app.get<{ Querystring: { detail?: string } }>('/bench/statements', async (req) => {
    const cpu = process.cpuUsage();
    return { n: statements, cpuMs: (cpu.user + cpu.system) / 1000, ...(req.query.detail ? { bySql: Object.fromEntries([...bySql].sort((a, b) => b[1].n - a[1].n)) } : {}) };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0, secrets })}\n`);
}

/** Counts every statement both drivers run (better-sqlite3's statement runs with their time, pg's client queries). */
function countStatements(count: (sql: string, ms: number) => void): void {
  const probe = new BetterSqlite3(':memory:');
  const proto = Object.getPrototypeOf(probe.prepare('select 1')) as Record<'run' | 'get' | 'all' | 'iterate', (this: { source: string }, ...a: unknown[]) => unknown>;
  probe.close();
  for (const m of ['run', 'get', 'all', 'iterate'] as const) {
    const orig = proto[m];
    proto[m] = function (this: { source: string }, ...a: unknown[]) {
      const t = performance.now();
      try {
        return orig.apply(this, a);
      } finally {
        count(this.source, performance.now() - t);
      }
    };
  }
  const query = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
    const q = a[0];
    count(typeof q === 'string' ? q : ((q as { text?: string } | undefined)?.text ?? ''), 0);
    return query.apply(this, a);
  } as typeof pg.Client.prototype.query;
}
