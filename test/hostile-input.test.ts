// The hostile bodies of issue 14, one by one, against the real server on loopback over SQLite: each answers a
// clear 4xx (never 5xx), stores nothing when refused, and no stored value makes a later read fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { DIALECTS } from './db.ts';
import { rawRequest } from './fuzz-bodies.ts';
import { NOW, api, insertEnginePosition, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

const sqlite = DIALECTS.find((d) => d.name === 'sqlite');
if (sqlite === undefined) throw new Error('no sqlite dialect');

/** A JSON array nested `depth` deep around 1. */
const deepArray = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

const messageOf = (json: Record<string, unknown>): string => ((json.error as { message?: string } | undefined)?.message ?? '');

describe('hostile input (issue 14)', () => {
  let loc: Awaited<ReturnType<NonNullable<typeof sqlite>['fresh']>>;
  let store: Store;
  let srv: Running;
  let token: string;
  let secret: string;
  let userId: number;

  const count = async (table: 'signals' | 'positions' | 'order_intents' | 'engine_events'): Promise<number> =>
    Number((await store.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    loc = await sqlite.fresh();
    store = await loc.open();
    srv = await startServer(store);
    const u = await userWithRecorder(store, 'alice');
    token = u.token;
    secret = u.secret;
    userId = u.user.id;
  });
  afterAll(async () => {
    await srv.stop();
    await store.close();
    await loc.drop();
  });

  for (const field of ['ticker', 'action', 'quantity', 'order_id']) {
    it(`a JSON array 4,100 deep in ${field} answers 400 and stores nothing`, async () => {
      const fields: Record<string, string> = { ticker: '"BTCUSDT"', action: '"buy"', quantity: '1', order_id: '"o1"', price: '100' };
      fields[field] = deepArray(4100);
      const body = `{${Object.entries(fields).map(([k, v]) => `"${k}":${v}`).join(',')}}`;
      const before = await count('signals');
      const res = await postSignal(srv.base, secret, body);
      expect(res.status).toBe(400);
      expect(messageOf(res.json)).toMatch(/nest/);
      expect(await count('signals')).toBe(before);
    });
  }

  it('a 4,100-deep body answers 400 on the API and on the engine hook too', async () => {
    const res = await api(srv.base, token, '/api/recorders', { method: 'POST', body: `{"name":${deepArray(4100)}}` });
    expect(res.status).toBe(400);
    const hook = await rawRequest(srv.base, 'POST', '/hooks/engine?source=nope', `{"data":${deepArray(4100)}}`, { 'content-type': 'application/json' });
    expect(hook.status).toBeLessThan(500);
    expect(hook.status).toBeGreaterThanOrEqual(400);
  });

  it('quantity 1e308 is refused (400, nothing stored) and reconciliation still answers after a snapshot', async () => {
    const before = [await count('signals'), await count('positions')];
    const res = await postSignal(srv.base, secret, '{"ticker":"HUGEUSDT","action":"buy","quantity":1e308,"price":2}');
    expect(res.status).toBe(400);
    expect(messageOf(res.json)).toMatch(/quantity/);
    expect([await count('signals'), await count('positions')]).toEqual(before);
    await srv.monitor.runOnce();
    const rec = await api(srv.base, token, '/api/reconciliation?status=all');
    expect(rec.status).toBe(200);
  });

  it('a huge size already stored (before the bounds) does not make reconciliation or the position views fail', async () => {
    await insertEnginePosition(store.db, { id: 'huge1', userId, target: 'sim:paper', symbol: 'HUGEUSDT', side: 'long', qty: 1e308, price: 2, openedAt: NOW });
    await insertEnginePosition(store.db, { id: 'huge2', userId, target: 'sim:paper', symbol: 'HUGEUSDT', side: 'long', qty: 1e308, price: 1e308, openedAt: NOW });
    // A price within the limits marks HUGEUSDT, so the views multiply it by the stored size.
    expect((await postSignal(srv.base, secret, '{"ticker":"HUGEUSDT","action":"buy","quantity":1,"price":1000000000}')).status).toBe(200);
    await srv.monitor.runOnce();
    for (const path of ['/api/reconciliation?status=all', '/api/positions', '/api/terminal', '/api/trading/positions?exchange=sim', '/api/strategies', '/api/venue-positions']) {
      const res = await api(srv.base, token, path);
      expect(res.status, path).toBe(200);
    }
    await store.db.deleteFrom('positions').where('id', 'in', ['huge1', 'huge2']).execute();
    await srv.monitor.runOnce();
  });

  it('a price of 1e308 or a negative price is refused naming the field', async () => {
    for (const body of ['{"ticker":"BTCUSDT","action":"buy","quantity":1,"price":1e308}', '{"ticker":"BTCUSDT","action":"buy","quantity":1,"price":"-5"}']) {
      const res = await postSignal(srv.base, secret, body);
      expect(res.status).toBe(400);
      expect(messageOf(res.json)).toMatch(/price/);
    }
  });

  for (const ticker of ['ıNJUSDT', 'ßUSDT', 'ſolusdt', 'ﬀUSDT']) {
    it(`${ticker} is refused with a message naming it, never case-folded into another symbol`, async () => {
      const before = await count('signals');
      const res = await postSignal(srv.base, secret, JSON.stringify({ ticker, action: 'buy', quantity: 1, price: 2 }));
      expect(res.status).toBe(400);
      expect(messageOf(res.json)).toContain(ticker);
      expect(await count('signals')).toBe(before);
    });
  }

  it('a unicode symbol is refused on the order route too, naming it', async () => {
    const before = await count('order_intents');
    const res = await api(srv.base, token, '/api/orders', { method: 'POST', body: JSON.stringify({ target: 'sim:paper', symbol: 'ıNJUSDT', side: 'buy', qty: 1 }) });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toContain('ıNJUSDT');
    expect(await count('order_intents')).toBe(before);
  });

  it('query parameters are validated by the route schema: a unicode symbol, a bad number or a bad cursor answers 400', async () => {
    for (const path of ['/api/signals?ticker=%C4%B1NJUSDT', '/api/positions?symbol=%C3%9FUSDT', '/api/trades?symbol=%C4%B1NJUSDT']) {
      const res = await api(srv.base, token, path);
      expect(res.status, path).toBe(400);
      expect(messageOf(res.json as Record<string, unknown>), path).toMatch(/is not an ASCII symbol/);
    }
    for (const path of ['/api/signals?limit=0', '/api/signals?limit=1e308', '/api/signals?before=-1', '/api/signals?before=abc', '/api/orders?before=1.5', '/api/engine-events?limit=NaN', '/api/trades?from=1e400']) {
      expect((await api(srv.base, token, path)).status, path).toBe(400);
    }
  });

  it('a valid JSON body with an empty or missing Content-Type is read as JSON on the API', async () => {
    const body = JSON.stringify({ name: 'no content type' });
    const empty = await rawRequest(srv.base, 'POST', '/api/recorders', body, { authorization: `Bearer ${token}`, 'content-type': '' });
    expect(empty.status).toBe(201);
    const missing = await rawRequest(srv.base, 'POST', '/api/recorders', JSON.stringify({ name: 'missing content type' }), { authorization: `Bearer ${token}` });
    expect(missing.status).toBe(201);
    const xml = await rawRequest(srv.base, 'POST', '/api/recorders', body, { authorization: `Bearer ${token}`, 'content-type': 'application/xml' });
    expect(xml.status).toBe(415);
    expect(messageOf(xml.json)).toMatch(/application\/xml/);
  });

  it('a body over the limit answers 413', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
    expect((await api(srv.base, token, '/api/recorders', { method: 'POST', body: big })).status).toBe(413);
    expect((await postSignal(srv.base, secret, big)).status).toBe(413);
  });
});
