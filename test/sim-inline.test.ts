// Signals on `sim:*` targets are executed inside the signal's own transaction: the order is filled and
// booked when the webhook answers, with no dispatcher pass; and a kill -9 mid-burst loses no acknowledged
// signal and leaves the simulated exchange (rebuilt from the store) equal to the ledger.
import { afterEach, describe, expect, it } from 'vitest';
import type { Kysely } from 'kysely';
import { ManualClock } from '../src/core/ports.ts';
import { sideSign, type Side } from '../src/core/types.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import { venueSymbol } from '../src/exchange/symbols.ts';
import { rotateRecorderSecret } from '../src/store/recorders.ts';
import { ledgerRows } from '../src/store/reconciliation.ts';
import type { Store } from '../src/store/db.ts';
import type { Database } from '../src/store/schema.ts';
import { restoreSimVenue } from '../src/tracker/sim-restore.ts';
import { runHalyard, serve, type Serving } from './cli-run.ts';
import { DIALECTS, type TestDialect } from './db.ts';
import { NOW, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

const TARGET = 'sim:paper';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Net per venue symbol and leg: of the simulated exchange, and of the ledger rows Halyard attributes to the target. */
async function venueAndLedger(db: Kysely<Database>, userId: number, sim: SimVenue): Promise<{ venue: Record<string, number>; ledger: Record<string, number> }> {
  const venue: Record<string, number> = {};
  for (const p of await sim.fetchPositions()) {
    const k = `${p.symbol}|${p.positionSide ?? ''}`;
    venue[k] = Math.round(((venue[k] ?? 0) + sideSign(p.side) * p.qty) * 1e6) / 1e6;
  }
  const ledger: Record<string, number> = {};
  for (const r of await ledgerRows(db, userId, TARGET)) {
    const k = `${venueSymbol(r.symbol, 'sim')}|${r.position_side ?? ''}`;
    ledger[k] = Math.round(((ledger[k] ?? 0) + sideSign(r.side as Side) * r.qty) * 1e6) / 1e6;
  }
  return { venue, ledger };
}

/** A fresh store and a server on it with no rate limits (both closed, and the store dropped, after the test). */
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

describe.each(DIALECTS)('sim orders executed in the signal transaction ($name)', (d) => {
  it('fills and books a signal order by the time the webhook answers, with the dispatcher stopped', async () => {
    const { store, srv } = await freshServer(d);
    const { user, secret } = await userWithRecorder(store, 'inline');
    await srv.dispatcher.stop(); // no pass, no wake-up: whatever is filled was filled by the intake
    const sim = (await srv.venues.get(user.id, TARGET)) as SimVenue;
    const steps = [
      { action: 'buy', quantity: 2, price: 2_000 },
      { action: 'sell', quantity: 1, price: 2_010 },
      { action: 'sell', quantity: 3, price: 1_990 },
      { action: 'close', price: 2_005 },
    ];
    for (const [n, step] of steps.entries()) {
      const r = await postSignal(srv.base, secret, JSON.stringify({ ticker: 'ETHUSDT', ...step }));
      expect(r.status).toBe(200);
      expect(r.json.status).toBe('accepted');
      const orders = await store.db.selectFrom('order_intents').selectAll().where('signal_id', '=', r.json.signal_id as number).execute();
      expect(orders.map((o) => [o.role, o.status, o.filled_qty, o.avg_fill_price])).toEqual([[n === 0 ? 'entry' : n === 1 || n === 3 ? 'exit' : 'entry', 'filled', n === 3 ? 2 : step.quantity, step.price]]);
      const { venue, ledger } = await venueAndLedger(store.db, user.id, sim);
      expect(venue).toEqual(ledger);
    }
    expect(await store.db.selectFrom('order_intents').select('id').where('status', 'in', ['pending', 'sending']).execute()).toEqual([]);
    expect((await sim.fetchPositions()).length).toBe(0);
  });

  it('refuses a rotated secret at once, even right after deliveries that looked it up (rotated by the store, as another server or the CLI does)', async () => {
    const { store, srv } = await freshServer(d);
    const { user, recorder, secret } = await userWithRecorder(store, 'rot');
    const burst = await Promise.all([0, 1, 2, 3].map((n) => postSignal(srv.base, secret, JSON.stringify({ ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 2_000 + n }))));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await rotateRecorderSecret(store.db, user.id, recorder.id, 0, NOW);
    const old = await postSignal(srv.base, secret, JSON.stringify({ ticker: 'ETHUSDT', action: 'sell', quantity: 1, price: 2_010 }));
    expect(old.status).toBe(404);
  });

  it('loses no acknowledged signal to a kill -9 mid-burst, and the rebuilt exchange equals the ledger', async () => {
    const loc = await d.fresh();
    const env = { ...(loc.url ? { DATABASE_URL: loc.url } : { DATABASE_PATH: loc.path ?? '' }), ENCRYPTION_KEY: 'k'.repeat(40) };
    cleanups.push(() => loc.drop());
    const user = JSON.parse((await runHalyard(['users', 'add', 'kim', '--json'], env)).stdout) as { id: number };
    const rec = JSON.parse((await runHalyard(['recorders', 'add', '--user', 'kim', '--name', 'k', '--json'], env)).stdout) as { webhook_url: string };
    const secret = rec.webhook_url.split('/').at(-1) ?? '';

    let first: Serving | undefined = await serve(env);
    cleanups.push(async () => first?.child.kill('SIGKILL'));
    const acked: number[] = [];
    let sent = 0;
    const sender = async (lane: number): Promise<void> => {
      for (let i = 0; ; i++) {
        const n = sent++;
        const body = JSON.stringify({ ticker: 'BTCUSDT', action: n % 3 === 2 ? 'sell' : 'buy', quantity: 0.001 * (1 + (n % 4)), price: 50_000 + n, order_id: `c${lane}-${i}` });
        try {
          const r = await postSignal(first?.base ?? '', secret, body);
          if (r.status === 200 && r.json.status === 'accepted') acked.push(r.json.signal_id as number);
        } catch {
          return; // the server is gone
        }
      }
    };
    const lanes = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(sender));
    while (acked.length < 60) await new Promise((r) => setTimeout(r, 5));
    first.child.kill('SIGKILL'); // requests in flight, group commits under way
    expect(await first.exited).toBeNull();
    first = undefined;
    await lanes;

    const store = await loc.open();
    cleanups.push(() => store.close());
    const stored = await store.db.selectFrom('signals').select(['id', 'outcome']).where('id', 'in', acked).execute();
    expect(stored.length).toBe(acked.length);
    expect(stored.every((s) => s.outcome === 'accepted')).toBe(true);
    // Every stored signal's order is in the store, filled: none waits for a dispatcher.
    const intents = await store.db.selectFrom('order_intents').select(['signal_id', 'status']).execute();
    expect(intents.filter((i) => i.status !== 'filled')).toEqual([]);
    expect(new Set(intents.map((i) => i.signal_id)).size).toBeGreaterThanOrEqual(acked.length);
    // The exchange a restarted server opens is rebuilt from the store: it equals the ledger.
    const rebuilt = new SimVenue({ clock: new ManualClock(NOW), balance: 100_000, target: TARGET });
    await restoreSimVenue(store.db, user.id, TARGET, rebuilt);
    const { venue, ledger } = await venueAndLedger(store.db, user.id, rebuilt);
    expect(Object.keys(ledger).length).toBe(1);
    expect(venue).toEqual(ledger);

    // And the restarted server keeps going from there.
    const second = await serve(env);
    cleanups.push(async () => second.child.kill('SIGKILL'));
    const after = await postSignal(second.base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'close', price: 50_500 }));
    expect(after.json.status).toBe('accepted');
    const closing = await store.db.selectFrom('order_intents').select(['status', 'qty']).where('signal_id', '=', after.json.signal_id as number).execute();
    expect(closing).toEqual([{ status: 'filled', qty: Math.abs(Object.values(ledger)[0] ?? 0) }]);
    expect(await ledgerRows(store.db, user.id, TARGET)).toEqual([]);
  });
});
