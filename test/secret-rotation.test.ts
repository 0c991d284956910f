// Rotating a recorder's webhook secret and an engine source's signing secret: the old one keeps working
// through the grace period the user chose (on the server's hand-set clock), then the webhook refuses it;
// with grace 0 at once. Another user's recorder or source is 404. On SQLite and PostgreSQL; the CLI on SQLite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../src/notify/standard-webhooks.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { recorderBySecret } from '../src/store/recorders.ts';
import { runHalyard } from './cli-run.ts';
import { DIALECTS } from './db.ts';
import { enginePosition } from './engine-fixtures.ts';
import { NOW, api, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

interface Rotated {
  id: number | string;
  webhook_url: string;
  secret?: string;
  previous_secret_until: number | null;
}
interface Err {
  error: { code: string; message: string };
  reason?: string;
}

const secretOf = (url: string): string => url.split('/').pop() ?? '';

for (const d of DIALECTS) {
  describe(`secret rotation on ${d.name}`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
    let seq = 0;
    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      srv = await startServer(store);
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });

    /** Status of one fresh buy signal (its own order id, the server's current time) posted with `secret`. */
    const signal = async (secret: string): Promise<number> => {
      const body = { ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100, order_id: `o${++seq}`, time: new Date(srv.clock.now()).toISOString() };
      return (await postSignal(srv.base, secret, JSON.stringify(body))).status;
    };
    const rotate = (token: string, path: string, body?: unknown) =>
      api<Rotated & Err>(srv.base, token, path, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

    it('a recorder: the old URL works through the grace period, then answers 404; grace 0 stops it at once', async () => {
      srv.clock.set(NOW);
      const { token, recorder, secret: first } = await userWithRecorder(store, 'rot-alice');
      const { token: bobToken } = await userWithRecorder(store, 'rot-bob');
      expect(await signal(first)).toBe(200);

      // Bob cannot rotate Alice's recorder: 404, and her URL is untouched.
      const stolen = await rotate(bobToken, `/api/recorders/${recorder.id}/rotate-secret`, { grace_seconds: 0 });
      expect(stolen.status).toBe(404);
      expect(await signal(first)).toBe(200);

      for (const bad of [{ grace_seconds: -1 }, { grace_seconds: 8 * 86_400 }, { grace_seconds: 1.5 }, { grace_seconds: '60' }]) {
        expect((await rotate(token, `/api/recorders/${recorder.id}/rotate-secret`, bad)).status, JSON.stringify(bad)).toBe(400);
      }
      expect(await signal(first)).toBe(200);

      const r = await rotate(token, `/api/recorders/${recorder.id}/rotate-secret`, { grace_seconds: 60 });
      expect(r.status).toBe(200);
      expect(r.json.previous_secret_until).toBe(NOW + 60_000);
      const second = secretOf(r.json.webhook_url);
      expect(second).not.toBe(first);
      expect(second).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect((await api<Rotated[]>(srv.base, token, '/api/recorders')).json.map((x) => secretOf(x.webhook_url))).toEqual([second]);

      srv.clock.set(NOW + 59_999);
      expect(await signal(first)).toBe(200);
      expect(await signal(second)).toBe(200);
      srv.clock.set(NOW + 60_000);
      const late = await postSignal(srv.base, first, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 100, order_id: 'late' }));
      expect(late.status).toBe(404);
      expect(await signal(second)).toBe(200);

      // Grace 0 (and no body at all means grace 0): the old URL is 404 on the very next delivery.
      const now0 = await rotate(token, `/api/recorders/${recorder.id}/rotate-secret`);
      expect(now0.status).toBe(200);
      expect(now0.json.previous_secret_until).toBeNull();
      const third = secretOf(now0.json.webhook_url);
      expect(await signal(second)).toBe(404);
      expect(await signal(third)).toBe(200);

      // A second rotation inside a grace period ends the older secret's grace at once.
      const a = await rotate(token, `/api/recorders/${recorder.id}/rotate-secret`, { grace_seconds: 3600 });
      const fourth = secretOf(a.json.webhook_url);
      await rotate(token, `/api/recorders/${recorder.id}/rotate-secret`, { grace_seconds: 3600 });
      expect(await signal(third)).toBe(404);
      expect(await signal(fourth)).toBe(200);
      srv.clock.set(NOW);
    });

    it('an engine source: events signed with the old secret are accepted through the grace period, then 401; another user\'s source is 404', async () => {
      srv.clock.set(NOW);
      const { token } = await userWithRecorder(store, 'eng-alice');
      const { token: bobToken } = await userWithRecorder(store, 'eng-bob');
      const made = await api<Rotated>(srv.base, token, '/api/engine-sources', { method: 'POST', body: JSON.stringify({ name: 'bot', target: 'sim:paper' }) });
      expect(made.status).toBe(201);
      const id = String(made.json.id);
      const first = made.json.secret ?? '';
      let n = 0;
      const event = async (secret: string): Promise<{ status: number; json: Err }> => {
        const raw = JSON.stringify({ event_type: 'position_opened', position_id: `p${++n}`, symbol: 'BTCUSDT', timestamp: srv.clock.now(), data: enginePosition(srv.clock.now(), { id: `p${n}` }) });
        const res = await fetch(`${srv.base}/hooks/engine?source=${id}`, { method: 'POST', body: raw, headers: { ...signWebhook(secret, `msg_${n}`, srv.clock.now(), raw), 'content-type': 'application/json' } });
        return { status: res.status, json: (await res.json()) as Err };
      };
      expect((await event(first)).status).toBe(202);

      expect((await rotate(bobToken, `/api/engine-sources/${id}/rotate-secret`, { grace_seconds: 30 })).status).toBe(404);
      expect((await rotate(token, '/api/engine-sources/es_nothing/rotate-secret')).status).toBe(404);
      expect((await event(first)).status).toBe(202);

      const r = await rotate(token, `/api/engine-sources/${id}/rotate-secret`, { grace_seconds: 30 });
      expect(r.status).toBe(200);
      const second = r.json.secret ?? '';
      expect(second).toMatch(/^whsec_/);
      expect(second).not.toBe(first);
      expect(r.json.previous_secret_until).toBe(NOW + 30_000);
      expect(r.json.webhook_url).toBe(made.json.webhook_url);
      // The list never shows a secret, before or after.
      expect(JSON.stringify((await api(srv.base, token, '/api/engine-sources')).json)).not.toMatch(/whsec_/);

      srv.clock.set(NOW + 29_000);
      expect((await event(first)).status).toBe(202);
      expect((await event(second)).status).toBe(202);
      srv.clock.set(NOW + 30_000);
      const late = await event(first);
      expect([late.status, late.json.reason]).toEqual([401, 'bad_signature']);
      expect((await event(second)).status).toBe(202);

      const now0 = await rotate(token, `/api/engine-sources/${id}/rotate-secret`, { grace_seconds: 0 });
      expect(now0.json.previous_secret_until).toBeNull();
      expect((await event(second)).status).toBe(401);
      expect((await event(now0.json.secret ?? '')).status).toBe(202);
      srv.clock.set(NOW);
    });
  });
}

const sqliteDialect = DIALECTS[0];
if (!sqliteDialect) throw new Error('no SQLite dialect');
describe('halyard recorders / engines rotate-secret on sqlite', () => {
  let loc: Awaited<ReturnType<typeof sqliteDialect.fresh>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    loc = await sqliteDialect.fresh();
    // PUBLIC_URL: the printed URLs start with it (the CLI's one way of printing webhook URLs).
    env = { DATABASE_PATH: loc.path ?? '', PUBLIC_URL: 'https://hooks.example.org' };
  });
  afterAll(async () => {
    await loc?.drop();
  });

  it('prints the new URL or secret with the grace; the old recorder secret is refused after; another user\'s id is not_found', async () => {
    await runHalyard(['users', 'add', 'alice'], env);
    await runHalyard(['users', 'add', 'bob'], env);
    const rec = JSON.parse((await runHalyard(['recorders', 'add', '--user', 'alice', '--name', 'trend', '--json'], env)).stdout) as Rotated;
    const bobs = await runHalyard(['recorders', 'rotate-secret', String(rec.id), '--user', 'bob'], env);
    expect([bobs.code, bobs.stderr]).toEqual([2, `error [not_found]: no recorder ${rec.id}\n`]);
    const badGrace = await runHalyard(['recorders', 'rotate-secret', String(rec.id), '--user', 'alice', '--grace', 'soon'], env);
    expect(badGrace.stderr).toMatch(/^error \[invalid_input\]: --grace must be whole seconds from 0 to 604800, got 'soon'\n$/);

    const text = await runHalyard(['recorders', 'rotate-secret', String(rec.id), '--user', 'alice', '--grace', '3600'], env);
    expect(text.stderr).toBe('');
    const m = /^recorder \d+ "trend": new webhook URL \(keep it secret\): (\S+)\nthe old URL works until (\S+)\n/.exec(text.stdout);
    expect(m?.[1]).toMatch(/^https:\/\/hooks\.example\.org\/hooks\/signals\/[A-Za-z0-9_-]{24}$/);
    expect(secretOf(m?.[1] ?? '')).not.toBe(secretOf(rec.webhook_url));
    const until = Date.parse(m?.[2] ?? '');
    const json = JSON.parse((await runHalyard(['recorders', 'rotate-secret', String(rec.id), '--user', 'alice', '--json'], env)).stdout) as Rotated;
    expect(json.previous_secret_until).toBeNull();
    const store = await openStore({ path: env.DATABASE_PATH ?? '' });
    try {
      // The first rotation's grace still runs, but the second rotation (grace 0) ended it.
      expect(until).toBeGreaterThan(Date.now());
      expect(await recorderBySecret(store.db, secretOf(m?.[1] ?? ''), Date.now())).toBeUndefined();
      expect((await recorderBySecret(store.db, secretOf(json.webhook_url), Date.now()))?.id).toBe(rec.id);
    } finally {
      await store.close();
    }

    const src = JSON.parse((await runHalyard(['engines', 'add', 'alice', '--name', 'bot', '--json'], env)).stdout) as Rotated;
    const notBobs = await runHalyard(['engines', 'rotate-secret', String(src.id), '--user', 'bob'], env);
    expect([notBobs.code, notBobs.stderr]).toEqual([2, `error [not_found]: no engine source ${src.id}\n`]);
    const eng = await runHalyard(['engines', 'rotate-secret', String(src.id), '--user', 'alice', '--grace', '60'], env);
    expect(eng.stdout).toMatch(/^engine source es_\S+ "bot": new signing secret \(keep it secret\): whsec_\S+\nwebhook URL: https:\/\/hooks\.example\.org\/hooks\/engine\?source=es_\S+\nthe old secret still signs until \d{4}-\S+\n/);
    expect(eng.stderr).toBe('');
    expect(eng.stdout).not.toContain(src.secret ?? 'none');
  });
});
