import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/core/ports.ts';
import { buildServer } from '../src/server/app.ts';
import type { Store } from '../src/store/db.ts';
import { summarizeExecution, type ExecutionIntent } from '../src/store/signals.ts';
import { DIALECTS } from './db.ts';
import { NOW, api, postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

// GET /api/signals tells, per signal, what it became on each linked target: a recorder on sim:paper and
// bybit:paper without an account is `accepted`, fills on sim:paper and fails on bybit:paper with the reason.

interface Execution {
  target: string;
  status: string;
  reason: string | null;
  orders: number;
  qty: number;
  filled_qty: number;
  avg_fill_price: number | null;
  next_attempt_at: number | null;
}
interface Signal {
  id: number;
  action: string;
  outcome: string;
  executions: Execution[];
}

const TARGETS = [
  { key: 'sim:paper', multiplier: 1 },
  { key: 'bybit:paper', multiplier: 2 },
];

for (const d of DIALECTS) {
  describe(`signal executions per target (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let srv: Running;

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
      // No exchange adapter: only `sim` targets can execute (nothing leaves the machine).
      srv = await startServer(store, {}, new ManualClock(NOW), { openCcxt: null });
    });
    afterAll(async () => {
      await srv?.stop();
      await store?.close();
      await loc?.drop();
    });

    const send = async (secret: string, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> => {
      srv.clock.set(srv.clock.now() + 1000);
      const r = await postSignal(srv.base, secret, JSON.stringify(body));
      await srv.dispatcher.drain();
      return r;
    };
    const log = async (token: string, q = ''): Promise<Signal[]> => {
      const r = await api<{ items: Signal[] }>(srv.base, token, `/api/signals${q}`);
      expect(r.status).toBe(200);
      return r.json.items;
    };

    it('shows a filled entry on sim:paper and the failure with its reason on bybit:paper (no account)', async () => {
      const { token, secret } = await userWithRecorder(store, 'execs', { targets: TARGETS });
      const buy = await send(secret, { ticker: 'BTCUSDT', action: 'buy', quantity: 0.5, price: 60_000 });
      // The webhook only says the signal was taken…
      expect(buy.json.status).toBe('accepted');
      const [sig] = await log(token);
      expect(sig?.id).toBe(buy.json.signal_id);
      // …the log says what it became on each target.
      const byTarget = new Map(sig?.executions.map((e) => [e.target, e]));
      expect([...byTarget.keys()].sort()).toEqual(['bybit:paper', 'sim:paper']);
      expect(byTarget.get('sim:paper')).toMatchObject({ status: 'filled', reason: null, orders: 1, qty: 0.5, filled_qty: 0.5, avg_fill_price: 60_000 });
      const bybit = byTarget.get('bybit:paper');
      expect(bybit).toMatchObject({ status: 'failed', orders: 1, qty: 1, filled_qty: 0, avg_fill_price: null });
      expect(bybit?.reason).toMatch(/bybit:paper/);
      expect(bybit?.reason).toMatch(/no account for bybit:paper|credentials/);

      // The exit: filled again on sim:paper, failed again on bybit:paper; the entry keeps its own record.
      const sell = await send(secret, { ticker: 'BTCUSDT', action: 'close', price: 61_000 });
      expect(sell.json.status).toBe('accepted');
      const [exit, entry] = await log(token);
      expect(exit?.executions.find((e) => e.target === 'sim:paper')).toMatchObject({ status: 'filled', qty: 0.5, filled_qty: 0.5, avg_fill_price: 61_000 });
      expect(exit?.executions.find((e) => e.target === 'bybit:paper')?.status).toBe('failed');
      expect(entry?.id).toBe(sig?.id);
      expect(entry?.executions.find((e) => e.target === 'sim:paper')?.avg_fill_price).toBe(60_000);
    });

    it('lists a rejected signal with no execution, and a signal that moves nothing as nothing to do', async () => {
      const { token, secret } = await userWithRecorder(store, 'idle', { targets: TARGETS });
      const rejected = await send(secret, { ticker: 'ETHUSDT', action: 'add', quantity: 1, price: 3000 });
      expect(rejected.json.status).toBe('rejected');
      await send(secret, { ticker: 'ETHUSDT', action: 'buy', quantity: 1, price: 3000 });
      // The same target size again: the book does not move, so no order anywhere.
      const same = await send(secret, { ticker: 'ETHUSDT', action: 'buy', position_size: 1, price: 3010 });
      expect(same.json.status).toBe('accepted');
      const [idle, , refused] = await log(token);
      expect(refused?.outcome).toBe('rejected');
      expect(refused?.executions).toEqual([]);
      expect(idle?.executions.map((e) => [e.target, e.status, e.orders])).toEqual([
        ['bybit:paper', 'nothing_to_do', 0],
        ['sim:paper', 'nothing_to_do', 0],
      ]);
    });

    it("shows only the caller's orders", async () => {
      const a = await userWithRecorder(store, 'owner-a', { targets: TARGETS });
      const b = await userWithRecorder(store, 'owner-b', { targets: [{ key: 'sim:paper', multiplier: 1 }] });
      await send(a.secret, { ticker: 'SOLUSDT', action: 'buy', quantity: 3, price: 150 });
      const mine = await log(b.token);
      expect(mine).toEqual([]);
      const theirs = await log(a.token);
      expect(theirs[0]?.executions.find((e) => e.target === 'sim:paper')?.filled_qty).toBe(3);
    });
  });
}

describe('signal executions on a server without ENCRYPTION_KEY', () => {
  const d = DIALECTS[0];
  let loc: Awaited<ReturnType<NonNullable<typeof d>['fresh']>> | undefined;
  let store: Store | undefined;
  let close: (() => Promise<void>) | undefined;

  afterAll(async () => {
    await close?.();
    await store?.close();
    await loc?.drop();
  });

  it('says that bybit:paper needs exchange credentials', async () => {
    if (!d) throw new Error('no dialect');
    loc = await d.fresh();
    store = await loc.open();
    const clock = new ManualClock(NOW);
    const built = await buildServer({ store, clock, logger: pino({ level: 'silent' }), publicUrl: 'http://127.0.0.1:8080', box: undefined, openCcxt: null, monitor: { loop: false } });
    const base = await built.app.listen({ host: '127.0.0.1', port: 0 });
    close = () => built.app.close();
    const { token, secret } = await userWithRecorder(store, 'nobox', { targets: TARGETS });
    clock.set(NOW + 1000);
    expect((await postSignal(base, secret, JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 60_000 }))).json.status).toBe('accepted');
    await built.dispatcher.drain();
    const [sig] = (await api<{ items: Signal[] }>(base, token, '/api/signals')).json.items;
    expect(sig?.executions).toEqual([
      expect.objectContaining({ target: 'bybit:paper', status: 'failed', reason: expect.stringContaining('bybit:paper needs exchange credentials') }),
      expect.objectContaining({ target: 'sim:paper', status: 'filled', filled_qty: 1 }),
    ]);
  });
});

describe('summarizeExecution', () => {
  let id = 0;
  const intent = (o: Partial<ExecutionIntent>): ExecutionIntent => ({
    id: ++id,
    target_key: 'sim:paper',
    action: 'place',
    role: 'entry',
    status: 'filled',
    qty: 1,
    filled_qty: 1,
    avg_fill_price: 100,
    last_error: null,
    next_attempt_at: null,
    ...o,
  });

  it('is nothing to do without orders, and ignores bracket cancels that went through', () => {
    expect(summarizeExecution('sim:paper', [])).toMatchObject({ status: 'nothing_to_do', orders: 0, filled_qty: 0, avg_fill_price: null });
    const s = summarizeExecution('sim:paper', [intent({}), intent({ action: 'cancel', role: 'bracket', status: 'done', qty: 0, filled_qty: 0, avg_fill_price: null })]);
    expect(s).toMatchObject({ status: 'filled', orders: 1, qty: 1, filled_qty: 1, avg_fill_price: 100 });
  });

  it('reports a queued retry as pending with its reason and next try', () => {
    const s = summarizeExecution('bybit:paper', [intent({ status: 'pending', filled_qty: 0, avg_fill_price: null, last_error: 'bybit timed out', next_attempt_at: NOW + 2000 })]);
    expect(s).toMatchObject({ status: 'pending', reason: 'bybit timed out', next_attempt_at: NOW + 2000 });
    expect(summarizeExecution('bybit:paper', [intent({ status: 'pending', filled_qty: 0, avg_fill_price: null })])).toMatchObject({ status: 'pending', reason: null });
  });

  it('lets a failed bracket win over a filled entry, naming the bracket', () => {
    const s = summarizeExecution('sim:paper', [intent({}), intent({ role: 'stop_loss', status: 'rejected', filled_qty: 0, avg_fill_price: null, last_error: 'trigger above the mark' })]);
    expect(s).toMatchObject({ status: 'rejected', reason: 'stop loss: trigger above the mark', filled_qty: 1 });
  });

  it('averages partial fills and tells open, partially filled and canceled apart', () => {
    const two = [intent({ qty: 1, filled_qty: 1, avg_fill_price: 100 }), intent({ qty: 1, status: 'open', filled_qty: 0.5, avg_fill_price: 130 })];
    expect(summarizeExecution('sim:paper', two)).toMatchObject({ status: 'partially_filled', qty: 2, filled_qty: 1.5, avg_fill_price: 110 });
    expect(summarizeExecution('sim:paper', [intent({ status: 'open', filled_qty: 0, avg_fill_price: null })]).status).toBe('open');
    expect(summarizeExecution('sim:paper', [intent({ status: 'canceled', filled_qty: 0, avg_fill_price: null, last_error: 'canceled before it reached the venue' })])).toMatchObject({
      status: 'canceled',
      reason: 'canceled before it reached the venue',
    });
    // A signal that only moved its levels: the brackets are what it made.
    expect(summarizeExecution('sim:paper', [intent({ role: 'stop_loss', status: 'open', filled_qty: 0, avg_fill_price: null })])).toMatchObject({ status: 'open', orders: 1 });
  });
});
