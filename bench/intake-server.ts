/**
 * Child process of the intake benchmark: serves either the real tracking server over a fresh store
 * (`signals <sqlite-path|postgres-url> <recorders>`) or a bare Fastify hello route (`hello`), prints
 * `{"port":…,"secrets":[…]}` on stdout, and runs until killed.
 */
import Fastify from 'fastify';
import { pino } from 'pino';
import { SystemClock } from '../src/clock.ts';
import { buildServer } from '../src/server/app.ts';
import { openStore } from '../src/store/db.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';

process.on('SIGINT', () => process.exit(0)); // lets --cpu-prof write its profile

const [mode = 'hello', where = '', recorders = '8'] = process.argv.slice(2);

if (mode === 'hello') {
  const app = Fastify({ logger: false });
  app.post('/hello', async () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0, secrets: [] })}\n`);
} else {
  const store = await openStore(where.startsWith('postgres') ? { url: where } : { path: where });
  const clock = new SystemClock();
  const { user } = await createUser(store.db, 'bench', 'paper', clock.now());
  const secrets: string[] = [];
  for (let i = 0; i < Number(recorders); i++) secrets.push((await createRecorder(store.db, { userId: user.id, name: `bench ${i}` }, clock.now())).secret);
  const { app } = await buildServer({
    store,
    clock,
    logger: pino({ level: 'warn' }),
    publicUrl: 'http://127.0.0.1',
    box: undefined,
    limits: { perIpPerMinute: 100_000_000, perRecorderPerMinute: 100_000_000 },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0, secrets })}\n`);
}
