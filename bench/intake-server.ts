/**
 * Child process of the intake benchmark: serves either the real tracking server over a fresh store
 * (`signals <sqlite-path|postgres-url> <recorders> [sim|none]`: the recorders trade on `sim:paper`, or only track) or a bare Fastify hello route (`hello`), prints
 * `{"port":…,"secrets":[…]}` on stdout, and runs until killed. `GET /bench/statements` answers how many
 * SQL statements the server has run (counted by a Kysely plugin; transactions' BEGIN/COMMIT not included)
 * and the CPU time it has used (ms).
 */
import Fastify from 'fastify';
import type { KyselyPlugin } from 'kysely';
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
  const opened = await openStore(where.startsWith('postgres') ? { url: where } : { path: where });
  let statements = 0;
  const counter: KyselyPlugin = {
    transformQuery: (a) => {
      statements += 1;
      return a.node;
    },
    transformResult: async (a) => a.result,
  };
  const store = { db: opened.db.withPlugin(counter), dialect: opened.dialect, where: opened.where, close: () => opened.close() };
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
  app.get('/bench/statements', async () => {
    const cpu = process.cpuUsage();
    return { n: statements, cpuMs: (cpu.user + cpu.system) / 1000 };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0, secrets })}\n`);
}
