import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import type { Store } from '../src/store/db.ts';
import { deleteRecorder } from '../src/store/recorders.ts';
import { DIALECTS, type TestDialect } from './db.ts';
import { NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function freshServer(d: TestDialect): Promise<{ store: Store; srv: Running }> {
  const loc = await d.fresh();
  const store = await loc.open();
  const srv = await startServer(store, { perIpPerMinute: 1_000_000, perRecorderPerMinute: 1_000_000 }, new ManualClock(NOW));
  cleanups.push(
    () => loc.drop(),
    () => store.close(),
    () => srv.stop(),
  );
  return { store, srv };
}

const buy = (price: number, id: string) => JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 0.01, price, order_id: id });

describe.each(DIALECTS)('the intake remembers recorders by secret and checks them in each delivery ($name)', (d) => {
  it('a recorder deleted after deliveries that looked it up answers 404, to a signal and to a body that is no signal, and stores nothing', async () => {
    const { store, srv } = await freshServer(d);
    const { user, recorder, secret } = await userWithRecorder(store, 'cache');
    const first = await Promise.all([1, 2, 3].map((n) => postSignal(srv.base, secret, buy(20_000 + n, `a${n}`))));
    expect(first.map((r) => r.json.status)).toEqual(['accepted', 'accepted', 'accepted']);
    // A repeat is still found as a duplicate: the check and the duplicate lookup are one statement.
    const again = await postSignal(srv.base, secret, buy(20_001, 'a1'));
    expect(again.json).toMatchObject({ status: 'duplicate', duplicate_of: first[0]?.json.signal_id });
    // Deleted by the store directly, as another server or the CLI would.
    await deleteRecorder(store.db, user.id, recorder.id, NOW);
    const before = await store.db.selectFrom('signals').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect((await postSignal(srv.base, secret, buy(20_010, 'b1'))).status).toBe(404);
    expect((await postSignal(srv.base, secret, 'not a signal at all', 'text/plain')).status).toBe(404);
    const after = await store.db.selectFrom('signals').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('a live recorder known from earlier deliveries still answers 400 to a body that is no signal', async () => {
    const { store, srv } = await freshServer(d);
    const { secret } = await userWithRecorder(store, 'live');
    expect((await postSignal(srv.base, secret, buy(21_000, 'c1'))).status).toBe(200);
    expect((await postSignal(srv.base, secret, 'not a signal at all', 'text/plain')).status).toBe(400);
  });
});
