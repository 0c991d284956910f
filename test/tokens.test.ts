// API tokens with a life cycle: named, listed (never their hash), expiring, revoked; the store on SQLite and
// PostgreSQL, the /api routes on a real loopback server, the CLI in child processes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isHalyardError } from '../src/core/errors.ts';
import type { Store } from '../src/store/db.ts';
import { authenticateToken, issueToken, LAST_USED_GRANULARITY_MS, listTokens, parseExpiry, revokeToken } from '../src/store/tokens.ts';
import { createUser, userByToken } from '../src/store/users.ts';
import { runHalyard } from './cli-run.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, startServer, type Running } from './server-helpers.ts';
import { pumpSse } from './tenancy-helpers.ts';

interface Tok {
  id: number;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  status: string;
  current: boolean;
  token?: string;
}
interface Err {
  error: { code: string; message: string };
}

const DAY = 86_400_000;

/** The HalyardError code and message `p` rejects with. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isHalyardError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

for (const d of DIALECTS) {
  describe(`API tokens on ${d.name}`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;
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

    it('store: issues named and expiring tokens, lists them without their hash, refuses revoked and expired ones with the fix', async () => {
      const { user, token: first } = await createUser(store.db, 'st-alice', 'paper', NOW);
      const { user: bob } = await createUser(store.db, 'st-bob', 'paper', NOW);
      const ci = await issueToken(store.db, user.id, { name: 'ci runner', expiresAt: NOW + DAY }, NOW);
      expect(ci.token).toMatch(/^hly_[A-Za-z0-9_-]{32}$/);
      expect(ci.info).toMatchObject({ name: 'ci runner', prefix: ci.token.slice(0, 8), expires_at: NOW + DAY, last_used_at: null, revoked_at: null, status: 'active' });

      const list = await listTokens(store.db, user.id, NOW);
      expect(list.map((t) => t.name)).toEqual(['default', 'ci runner']);
      for (const t of list) expect(Object.keys(t).sort()).toEqual(['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'status']);
      expect(JSON.stringify(list)).not.toContain(ci.token.slice(8));

      // A past expiry, an empty name and a bad date are refused; nothing is stored.
      expect((await refusal(issueToken(store.db, user.id, { expiresAt: NOW - 1 }, NOW))).code).toBe('invalid_input');
      expect((await refusal(issueToken(store.db, user.id, { name: '  ' }, NOW))).code).toBe('invalid_input');
      expect(() => parseExpiry('2027-02-30')).toThrow(/not an ISO date/);
      expect(parseExpiry('2027-01-31')).toBe(Date.UTC(2027, 0, 31));
      expect(parseExpiry('2027-01-31T12:30:00+02:00')).toBe(Date.UTC(2027, 0, 31, 10, 30));
      expect(await listTokens(store.db, user.id, NOW)).toHaveLength(2);

      // Last use: written on the first request, not again within the minute, again after it.
      expect((await authenticateToken(store.db, ci.token, NOW)).user.id).toBe(user.id);
      const used = async (): Promise<number | null> => (await listTokens(store.db, user.id, NOW)).find((t) => t.id === ci.info.id)?.last_used_at ?? null;
      expect(await used()).toBe(NOW);
      await authenticateToken(store.db, ci.token, NOW + LAST_USED_GRANULARITY_MS - 1);
      expect(await used()).toBe(NOW);
      await authenticateToken(store.db, ci.token, NOW + LAST_USED_GRANULARITY_MS);
      expect(await used()).toBe(NOW + LAST_USED_GRANULARITY_MS);

      // Expired at its time, with a sentence naming the fix.
      const expired = await refusal(authenticateToken(store.db, ci.token, NOW + DAY));
      expect(expired.code).toBe('unauthorized');
      expect(expired.message).toBe(`API token ${ci.info.prefix}… expired at ${new Date(NOW + DAY).toISOString()}: create a new one with: halyard tokens add --user st-alice`);
      expect(await userByToken(store.db, ci.token, NOW + DAY)).toBeUndefined();
      expect((await listTokens(store.db, user.id, NOW + DAY)).find((t) => t.id === ci.info.id)?.status).toBe('expired');

      // Another user's id or prefix is not_found, and the token keeps working.
      expect((await refusal(revokeToken(store.db, bob.id, ci.info.id, NOW))).code).toBe('not_found');
      expect((await refusal(revokeToken(store.db, bob.id, ci.info.prefix, NOW))).code).toBe('not_found');
      expect((await authenticateToken(store.db, first, NOW)).user.id).toBe(user.id);

      // Revoked by prefix: refused at once; a second revoke keeps the first time.
      const firstPrefix = first.slice(0, 8);
      const revoked = await revokeToken(store.db, user.id, firstPrefix, NOW + 5);
      expect(revoked).toMatchObject({ name: 'default', status: 'revoked', revoked_at: NOW + 5 });
      expect((await revokeToken(store.db, user.id, revoked.id, NOW + 9)).revoked_at).toBe(NOW + 5);
      const r = await refusal(authenticateToken(store.db, first, NOW + 6));
      expect(r).toEqual({ code: 'unauthorized', message: `API token ${firstPrefix}… was revoked at ${new Date(NOW + 5).toISOString()}: create a new one with: halyard tokens add --user st-alice` });
      expect(await userByToken(store.db, first)).toBeUndefined();
      // The whole token names it too.
      const laptop = await issueToken(store.db, user.id, { name: 'laptop' }, NOW);
      expect((await revokeToken(store.db, user.id, laptop.token, NOW)).id).toBe(laptop.info.id);
      expect((await refusal(authenticateToken(store.db, 'hly_nothing', NOW))).message).toMatch(/^unknown API token: .*halyard tokens add --user <name>\)$/);
    });

    it('API: lists, issues (shown once), revokes; a revoked token answers 401 at once, another user\'s token id is 404', async () => {
      const { token: a } = await createUser(store.db, 'api-alice', 'paper', NOW);
      const { token: b } = await createUser(store.db, 'api-bob', 'paper', NOW);
      const mine = await api<Tok[]>(srv.base, a, '/api/tokens');
      expect(mine.status).toBe(200);
      expect(mine.json).toHaveLength(1);
      expect(mine.json[0]).toMatchObject({ name: 'default', current: true, status: 'active', last_used_at: NOW });
      expect(JSON.stringify(mine.json)).not.toMatch(/token_hash|hly_[A-Za-z0-9_-]{20}/);

      const made = await api<Tok>(srv.base, a, '/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'laptop', expires_at: '2026-12-31' }) });
      expect(made.status).toBe(201);
      expect(made.json).toMatchObject({ name: 'laptop', expires_at: Date.UTC(2026, 11, 31), current: false, status: 'active' });
      const laptop = made.json.token ?? '';
      expect(laptop.startsWith(made.json.prefix)).toBe(true);
      expect((await api(srv.base, laptop, '/api/me')).status).toBe(200);
      const listed = await api<Tok[]>(srv.base, laptop, '/api/tokens');
      expect(listed.json.map((t) => [t.name, t.current, 'token' in t])).toEqual([['default', false, false], ['laptop', true, false]]);

      for (const body of [{ expires_at: '2026-11-20' }, { expires_at: 'soon' }, { expires_at: '2027-01-01', expires_in_days: 3 }, { expires_in_days: 0 }, { name: '' }]) {
        const bad = await api<Err>(srv.base, a, '/api/tokens', { method: 'POST', body: JSON.stringify(body) });
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.json.error.message.length).toBeGreaterThan(10);
      }
      expect((await api<Tok[]>(srv.base, a, '/api/tokens')).json).toHaveLength(2);

      // Bob cannot see or revoke Alice's token: 404, and it keeps working.
      const stolen = await api<Err>(srv.base, b, `/api/tokens/${made.json.id}`, { method: 'DELETE' });
      expect(stolen.status).toBe(404);
      expect((await api<Tok[]>(srv.base, b, '/api/tokens')).json.map((t) => t.name)).toEqual(['default']);
      expect((await api(srv.base, laptop, '/api/me')).status).toBe(200);

      // Alice revokes the laptop token with her first one: the laptop token answers 401 on its next request.
      const gone = await api<Tok>(srv.base, a, `/api/tokens/${made.json.id}`, { method: 'DELETE' });
      expect(gone.status).toBe(200);
      expect(gone.json).toMatchObject({ id: made.json.id, status: 'revoked', revoked_at: NOW });
      const after = await api<Err>(srv.base, laptop, '/api/positions');
      expect(after.status).toBe(401);
      expect(after.json.error.message).toMatch(/^API token hly_\S+… was revoked at .*: create a new one with: halyard tokens add --user api-alice$/);

      // A token revoking itself: the answer comes back, the next request is 401.
      const self = (await api<Tok[]>(srv.base, a, '/api/tokens')).json.find((t) => t.current);
      const bye = await api<Tok>(srv.base, a, `/api/tokens/${self?.id}`, { method: 'DELETE' });
      expect(bye.json).toMatchObject({ status: 'revoked', current: true });
      expect((await api(srv.base, a, '/api/tokens')).status).toBe(401);
      expect((await api(srv.base, b, '/api/me')).status).toBe(200);
    });

    it('API: an expiring token answers 401 once the server clock passes its expiry; its last use is kept to the minute', async () => {
      const { token } = await createUser(store.db, 'exp-carol', 'paper', NOW);
      const short = await api<Tok>(srv.base, token, '/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'one day', expires_in_days: 1 }) });
      expect(short.json.expires_at).toBe(NOW + DAY);
      const t = short.json.token ?? '';
      srv.clock.set(NOW + 30_000);
      expect((await api(srv.base, t, '/api/me')).status).toBe(200);
      srv.clock.set(NOW + 50_000);
      expect((await api(srv.base, t, '/api/me')).status).toBe(200);
      const seen = (await api<Tok[]>(srv.base, token, '/api/tokens')).json.find((x) => x.id === short.json.id);
      expect(seen?.last_used_at).toBe(NOW + 30_000);
      srv.clock.set(NOW + DAY);
      const late = await api<Err>(srv.base, t, '/api/me');
      expect(late.status).toBe(401);
      expect(late.json.error.message).toContain('expired at');
      expect((await api(srv.base, token, '/api/me')).status).toBe(200);
      srv.clock.set(NOW);
    });

    it('an open live stream of a token ends with signed_out once the token is revoked; another token\'s stream goes on', async () => {
      const { token: first } = await createUser(store.db, 'stream-dave', 'paper', NOW);
      const second = (await api<Tok>(srv.base, first, '/api/tokens', { method: 'POST', body: JSON.stringify({ name: 'tablet' }) })).json;
      const open = async (token: string) => {
        const res = await fetch(`${srv.base}/api/stream`, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        const { state, cancel } = pumpSse(res);
        return { state, cancel };
      };
      const until = async (pred: () => boolean): Promise<boolean> => {
        for (let i = 0; i < 250 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
        return pred();
      };
      const a = await open(first);
      const b = await open(second.token ?? '');
      expect(await until(() => a.state.text.includes('event: hello') && b.state.text.includes('event: hello'))).toBe(true);
      expect((await api(srv.base, first, `/api/tokens/${second.id}`, { method: 'DELETE' })).status).toBe(200);
      expect(await until(() => b.state.ended)).toBe(true);
      expect(b.state.text).toContain('event: signed_out');
      expect(a.state.ended).toBe(false);
      expect(a.state.text).not.toContain('signed_out');
      await a.cancel();
    });

    it('the OpenAPI document describes the token and rotation routes', async () => {
      const doc = (await (await fetch(`${srv.base}/docs/json`)).json()) as { paths: Record<string, Record<string, unknown>> };
      expect(Object.keys(doc.paths['/api/tokens'] ?? {}).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.paths['/api/tokens/{id}'] ?? {})).toEqual(['delete']);
      expect(Object.keys(doc.paths['/api/recorders/{id}/rotate-secret'] ?? {})).toEqual(['post']);
      expect(Object.keys(doc.paths['/api/engine-sources/{id}/rotate-secret'] ?? {})).toEqual(['post']);
    });
  });
}

const sqliteDialect = DIALECTS[0];
if (!sqliteDialect) throw new Error('no SQLite dialect');
describe('halyard tokens on sqlite', () => {
  let loc: Awaited<ReturnType<typeof sqliteDialect.fresh>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    loc = await sqliteDialect.fresh();
    env = { DATABASE_PATH: loc.path ?? '' };
  });
  afterAll(async () => {
    await loc?.drop();
  });

  it('adds, lists and revokes tokens; users token still issues one; another user\'s token is not_found', async () => {
    const alice = JSON.parse((await runHalyard(['users', 'add', 'alice', '--json'], env)).stdout) as { token: string };
    await runHalyard(['users', 'add', 'bob'], env);
    const added = await runHalyard(['tokens', 'add', '--user', 'alice', '--name', 'ci', '--expires-in', '30', '--json'], env);
    expect(added.stderr).toBe('');
    const ci = JSON.parse(added.stdout) as Tok & { user: string };
    expect(ci).toMatchObject({ name: 'ci', user: 'alice', status: 'active' });
    expect(ci.expires_at).toBeGreaterThan(Date.now() + 29 * DAY);
    const legacy = await runHalyard(['users', 'token', 'alice'], env);
    expect(legacy.stdout).toMatch(/^API token for alice \(shown once\): hly_/);

    const text = await runHalyard(['tokens', 'add', '--user', 'alice', '--expires', '2999-01-01'], env);
    expect(text.stdout).toMatch(/^API token \d+ "default" for alice \(expires 2999-01-01T00:00:00\.000Z; shown once, keep it\): hly_\S+\n$/);
    const both = await runHalyard(['tokens', 'add', '--user', 'alice', '--expires', '2999-01-01', '--expires-in', '3'], env);
    expect([both.code, both.stderr]).toEqual([2, 'error [invalid_input]: give --expires-in or --expires, not both\n']);
    const past = await runHalyard(['tokens', 'add', '--user', 'alice', '--expires', '2001-01-01'], env);
    expect(past.stderr).toMatch(/^error \[invalid_input\]: the expiry must be a time in the future/);

    const listed = JSON.parse((await runHalyard(['tokens', 'list', '--user', 'alice', '--json'], env)).stdout) as Tok[];
    expect(listed.map((t) => t.name)).toEqual(['default', 'ci', 'default', 'default']);
    expect(JSON.stringify(listed)).not.toContain(alice.token);

    const bobs = await runHalyard(['tokens', 'revoke', String(ci.id), '--user', 'bob'], env);
    expect([bobs.code, bobs.stderr]).toEqual([2, `error [not_found]: no API token ${ci.id} (list yours with: halyard tokens list --user <name>)\n`]);
    const revoked = await runHalyard(['tokens', 'revoke', ci.prefix, '--user', 'alice'], env);
    expect(revoked.stdout).toMatch(new RegExp(`^API token ${ci.id} "ci" \\(${ci.prefix}…\\) of alice revoked at \\d{4}-`));
    const table = (await runHalyard(['tokens', 'list', '--user', 'alice'], env)).stdout.trim().split('\n');
    expect(table).toHaveLength(4);
    expect(table[1]).toMatch(new RegExp(`^${ci.id}\\tci\\t${ci.prefix}…\\trevoked \\d{4}-.*\\tlast used never\\texpires \\d{4}-`));
    expect(table[0]).toMatch(/^\d+\tdefault\thly_\S+…\tactive\t/);
  });
});
