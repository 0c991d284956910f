import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { SystemClock } from '../src/clock.ts';
import { buildServer, type Server } from '../src/server/app.ts';
import { AlertSender } from '../src/notify/alert-sender.ts';
import { OutboxSender } from '../src/notify/outbox-sender.ts';
import { newWebhookSecret } from '../src/notify/standard-webhooks.ts';
import { enqueueAlerts, streamAlerts } from '../src/store/alert-outbox.ts';
import type { Store } from '../src/store/db.ts';
import { claimDueJob, finishJob, insertJob, jobsOfKind } from '../src/store/jobs.ts';
import { allLeases, releaseLease, takeLease } from '../src/store/leases.ts';
import { enqueueEvents, outboxStats } from '../src/store/outbox.ts';
import { SecretBox } from '../src/store/secrets.ts';
import { createUser } from '../src/store/users.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { JobWorker } from '../src/tracker/jobs.ts';
import { FleetLock, LoopLease } from '../src/tracker/fleet.ts';
import { DIALECTS } from './db.ts';
import { startEngineReceiver } from './stubs/engine-receiver.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const clock = new SystemClock();

for (const d of DIALECTS) {
  describe(`leases (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
    });
    afterAll(async () => {
      await store?.close();
      await loc?.drop();
    });

    it('gives a lease to one holder until it expires or is released, with a new fence at each change of hands', async () => {
      const a = await takeLease(store.db, 'monitor', 'a', 300);
      expect(a).toMatchObject({ held: true, fence: 1, tookOver: true });
      expect(await takeLease(store.db, 'monitor', 'b', 300)).toEqual({ held: false });
      const renewed = await takeLease(store.db, 'monitor', 'a', 300);
      expect(renewed).toMatchObject({ held: true, fence: 1, tookOver: false });
      // Expired on the database's clock: anyone may take it.
      await sleep(350);
      expect(await takeLease(store.db, 'monitor', 'b', 10_000)).toMatchObject({ held: true, fence: 2, tookOver: true });
      expect(await takeLease(store.db, 'monitor', 'a', 10_000)).toEqual({ held: false });
      await releaseLease(store.db, 'monitor', 'a'); // not a's: nothing changes
      expect(await takeLease(store.db, 'monitor', 'a', 10_000)).toEqual({ held: false });
      await releaseLease(store.db, 'monitor', 'b');
      expect(await takeLease(store.db, 'monitor', 'a', 10_000)).toMatchObject({ held: true, fence: 3 });
      expect((await allLeases(store.db)).map((l) => [l.name, l.holder, Number(l.fence)])).toEqual([['monitor', 'a', 3]]);
    });

    it('runs a loop on one of several servers and hands it over when the holder stops renewing', async () => {
      const ttl = 600;
      const leases = ['s1', 's2', 's3'].map((h) => new LoopLease(store.db, 'poller', h, ttl));
      await Promise.all(leases.map((l) => l.start()));
      expect(leases.filter((l) => l.held())).toHaveLength(1);
      const first = leases.findIndex((l) => l.held());
      // The holder hangs (no renewals, no release): another one takes over once the lease ran out.
      const frozen = leases[first]!;
      (frozen as unknown as { stopped: boolean }).stopped = true;
      const deadline = Date.now() + 20 * ttl;
      while (!leases.some((l, i) => i !== first && l.held()) && Date.now() < deadline) await sleep(20);
      expect(leases.filter((l, i) => i !== first && l.held())).toHaveLength(1);
      // The hung holder's own belief ran out first (it never renews): never two holders at once.
      expect(frozen.held()).toBe(false);
      for (const l of leases) await l.stop();
    });

    it('lets one holder at a time work a key across servers', async () => {
      const locks = ['x', 'y', 'z'].map((h) => new FleetLock(store.db, h, 2_000, 'target:', 5));
      let inside = 0;
      let most = 0;
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 12 }, (_, n) =>
          locks[n % 3]!.run('1|sim:paper', async () => {
            inside += 1;
            most = Math.max(most, inside);
            await sleep(5);
            order.push(n);
            inside -= 1;
          }),
        ),
      );
      expect(most).toBe(1);
      expect(order.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
    });
  });
}

const pgDialect = DIALECTS.find((d) => d.name === 'postgres');

describe.runIf(pgDialect)('queued work shared by several workers (postgres)', () => {
  let loc: Awaited<ReturnType<NonNullable<typeof pgDialect>['fresh']>>;
  let store: Store;
  beforeAll(async () => {
    loc = await pgDialect!.fresh();
    store = await loc.open();
  });
  afterAll(async () => {
    await store?.close();
    await loc?.drop();
  });

  it('works every job exactly once across three workers, and retakes a dead worker\'s claim after its lease', async () => {
    const n = 60;
    const now = clock.now();
    for (let i = 0; i < n; i++) await insertJob(store.db, 'count', { i }, now, now);
    const seen = new Map<number, string[]>();
    const workers = ['w1', 'w2', 'w3'].map((holder) => {
      const w = new JobWorker(store.db, clock, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, idleCheckMs: 20 }, undefined, { holder, leaseMs: 5_000 });
      w.register('count', async (payload) => {
        const i = (payload as { i: number }).i;
        seen.set(i, [...(seen.get(i) ?? []), holder]);
        await sleep(2);
      });
      return w;
    });
    await Promise.all(workers.map((w) => w.drain()));
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect([...seen.values()].every((by) => by.length === 1)).toBe(true);
    // The work was spread: more than one worker took jobs.
    expect(new Set([...seen.values()].flat()).size).toBeGreaterThan(1);
    const rows = await jobsOfKind(store.db, 'count');
    expect(rows.every((r) => r.status === 'done' && r.attempts === 1 && r.claimed_by === null)).toBe(true);

    // A worker claims a job and dies (its claim is never renewed nor settled).
    const id = await insertJob(store.db, 'slow', { x: 1 }, clock.now(), clock.now());
    const dead = await claimDueJob(store.db, ['slow'], clock.now(), { holder: 'dead', leaseMs: 300 });
    expect(dead?.id).toBe(id);
    // While its claim lasts, nobody else takes it; a worker starting meanwhile does not re-queue it either.
    const alive = new JobWorker(store.db, clock, { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, idleCheckMs: 60_000 }, undefined, { holder: 'alive', leaseMs: 5_000 });
    const ran: string[] = [];
    alive.register('slow', async () => {
      ran.push('alive');
    });
    await alive.start();
    expect(await alive.runOnce()).toBe(false);
    expect((await jobsOfKind(store.db, 'slow'))[0]).toMatchObject({ status: 'running', claimed_by: 'dead' });
    await sleep(350);
    expect(await alive.runOnce()).toBe(true);
    expect(ran).toEqual(['alive']);
    const [row] = await jobsOfKind(store.db, 'slow');
    expect(row).toMatchObject({ status: 'done', attempts: 2 });
    // The dead worker coming back finds its claim gone: its late "done" changes nothing.
    expect(await finishJob(store.db, id, clock.now(), 'dead')).toBe(false);
    await alive.stop();
  });

  it('delivers each engine event once across two senders, in order per run', async () => {
    const secret = newWebhookSecret();
    const receiver = await startEngineReceiver(secret, () => clock.now());
    try {
      const runs = ['r1', 'r2', 'r3', 'r4'];
      const rows = runs.flatMap((run) =>
        Array.from({ length: 15 }, (_, k) => ({ run_id: run, webhook_id: `msg_${run}_${k + 1}`, event_type: 'position_updated', payload: JSON.stringify({ run, seq: k + 1 }) })),
      );
      await enqueueEvents(store.db, rows, clock.now());
      const senders = ['s1', 's2'].map((holder) => new OutboxSender({ db: store.db, url: receiver.url, secret, clock, policy: { baseDelayMs: 5, maxDelayMs: 20, batchSize: 4 }, claim: { holder, leaseMs: 10_000 } }));
      await Promise.all([...senders.map((s) => s.runOnce()), ...senders.map((s) => s.runOnce())]);
      while ((await outboxStats(store.db)).pending > 0) await Promise.all(senders.map((s) => s.runOnce()));
      expect(receiver.duplicates()).toBe(0);
      expect(receiver.deliveries).toHaveLength(rows.length);
      for (const run of runs) {
        const seqs = receiver.deliveries.filter((x) => x.webhookId.startsWith(`msg_${run}_`)).map((x) => Number(x.webhookId.split('_')[2]));
        expect(seqs).toEqual(Array.from({ length: 15 }, (_, k) => k + 1));
      }
      expect(await outboxStats(store.db)).toEqual({ pending: 0, delivered: rows.length, dead: 0 });
    } finally {
      await receiver.close();
    }
  });

  it('delivers each alert once across two senders, in order per stream and channel', async () => {
    const got: { sender: string; text: string }[] = [];
    const channel = (sender: string) => ({
      name: 'discord',
      notifier: {
        notify: async (m: { text: string }) => {
          got.push({ sender, text: m.text });
          await sleep(1);
        },
      },
    });
    const streams = ['run:a', 'run:b', 'run:c'];
    for (let k = 1; k <= 12; k++) await enqueueAlerts(store.db, streams.map((stream) => ({ stream, kind: 'trade_opened', text: `${stream} #${k}` })), ['discord'], clock.now());
    const senders = ['a1', 'a2'].map((s) => new AlertSender({ db: store.db, channels: [channel(s)], clock, batchSize: 5, claim: { holder: s, leaseMs: 10_000 } }));
    const pending = async () => (await Promise.all(streams.map((s) => streamAlerts(store.db, s)))).flat().filter((r) => r.status === 'pending').length;
    while ((await pending()) > 0) await Promise.all(senders.map((s) => s.runOnce()));
    expect(got).toHaveLength(36);
    for (const stream of streams) {
      const texts = got.filter((g) => g.text.startsWith(`${stream} `)).map((g) => g.text);
      expect(texts).toEqual(Array.from({ length: 12 }, (_, k) => `${stream} #${k + 1}`));
      expect((await streamAlerts(store.db, stream)).every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    }
  });
});

describe.runIf(pgDialect)('two servers on one PostgreSQL (in process)', () => {
  let loc: Awaited<ReturnType<NonNullable<typeof pgDialect>['fresh']>>;
  let store: Store;
  const servers: { srv: Server; base: string }[] = [];

  beforeAll(async () => {
    loc = await pgDialect!.fresh();
    store = await loc.open();
    for (let i = 0; i < 2; i++) {
      // Each server its own pool, as two processes would have.
      const own = i === 0 ? store : await loc.open();
      const srv = await buildServer({
        store: own,
        clock,
        logger: pino({ level: 'silent' }),
        publicUrl: 'http://127.0.0.1:8080',
        box: new SecretBox('test-key-'.repeat(5)),
        monitor: { loop: false },
        live: { tickMs: 60_000 },
        fleet: { url: loc.url!, leaseTtlMs: 2_000 },
      });
      servers.push({ srv, base: await srv.app.listen({ host: '127.0.0.1', port: 0 }) });
    }
  });
  afterAll(async () => {
    for (const { srv } of servers) await srv.app.close();
    await store?.close();
    await loc?.drop();
  });

  it('pushes a signal through server A to that user\'s stream on server B, and to no other user\'s', async () => {
    const [a, b] = servers;
    const alice = await createUser(store.db, 'alice', 'both', clock.now());
    const bob = await createUser(store.db, 'bob', 'both', clock.now());
    const rec = await createRecorder(store.db, { userId: alice.user.id, name: 'alice stream', targets: [] }, clock.now());
    const open = async (token: string) => {
      const ctl = new AbortController();
      const res = await fetch(`${b!.base}/api/stream`, { headers: { authorization: `Bearer ${token}` }, signal: ctl.signal });
      const reader = res.body!.getReader();
      let text = '';
      const pump = (async () => {
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            text += Buffer.from(value).toString('utf8');
          }
        } catch {
          // aborted
        }
      })();
      return { read: () => text, close: async () => void (ctl.abort(), await pump) };
    };
    const aliceStream = await open(alice.token);
    const bobStream = await open(bob.token);
    while (!aliceStream.read().includes('event: marks') || !bobStream.read().includes('event: marks')) await sleep(20);
    const res = await fetch(`${a!.base}/hooks/signals/${rec.secret}`, { method: 'POST', body: JSON.stringify({ ticker: 'BTCUSDT', action: 'buy', quantity: 1, price: 64_321.5 }) });
    expect(res.status).toBe(200);
    // B's own look at the database is a minute away: only the NOTIFY from A can bring this.
    const deadline = Date.now() + 10_000;
    while (!(aliceStream.read().includes('64321.5') && aliceStream.read().includes('event: changed')) && Date.now() < deadline) await sleep(20);
    expect(aliceStream.read()).toContain('"BTCUSDT":{"price":64321.5');
    expect(aliceStream.read()).toContain('event: changed');
    expect(servers[1]!.srv.marks.get(alice.user.id, 'BTCUSDT')?.price).toBe(64_321.5);
    await sleep(200);
    expect(bobStream.read()).not.toContain('64321.5');
    expect(bobStream.read()).not.toContain('event: changed');
    expect(servers[1]!.srv.marks.all(bob.user.id)).toEqual({});
    const marks = await fetch(`${b!.base}/api/marks`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(await marks.json()).toMatchObject({ BTCUSDT: { price: 64_321.5 } });
    await aliceStream.close();
    await bobStream.close();
  });
});
