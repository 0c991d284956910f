import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EngineEventPayload } from '../src/core/engine-event.ts';
import { ManualClock } from '../src/core/ports.ts';
import { OutboxSender, outboxSenderFromSettings, type OutboxPolicy } from '../src/notify/outbox-sender.ts';
import { newWebhookSecret, verifyWebhook, webhookSignature } from '../src/notify/standard-webhooks.ts';
import type { Store } from '../src/store/db.ts';
import { dueEvents, enqueueEvents, eventByWebhookId, outboxStats, type NewOutboxEvent } from '../src/store/outbox.ts';
import { DIALECTS } from './db.ts';
import { startEngineReceiver, type EngineReceiver } from './stubs/engine-receiver.ts';

const NOW = Date.UTC(2026, 10, 21, 10, 0, 0);
const SECRET = newWebhookSecret();
/** rng 0.5: every backoff is exactly half its cap (first retry 500 ms, then 1 s, 2 s, …). */
const POLICY: OutboxPolicy = { baseDelayMs: 1_000, maxDelayMs: 60_000, rng: () => 0.5 };

/** One engine event of run `run` with sequence `seq`, as the paper runtime writes it. */
function event(run: string, seq: number, at = NOW): NewOutboxEvent {
  const payload: EngineEventPayload = {
    event_type: seq === 1 ? 'position_opened' : 'position_updated',
    position_id: `${run}-p1`,
    target: 'sim:paper',
    symbol: 'BTC/USDT:USDT',
    timestamp: new Date(at).toISOString(),
    strategy: 'SMA Cross',
    run_id: run,
    sequence: seq,
    data: {
      id: `${run}-p1`, symbol: 'BTC/USDT:USDT', side: 'long', position_side: null, status: 'open', qty: 0.01 * seq, max_qty: 0.01 * seq,
      entry_price: 65_000, entries: [{ price: 65_000, qty: 0.01, ts: at }], realized_pnl: 0, fees: 0.325, funding: 0,
      stop_loss: 64_000, take_profit: null, opened_at: at, closed_at: null, exit_price: null, exit_reason: null,
    },
  };
  return { run_id: run, webhook_id: `msg_${run}_${seq}`, event_type: payload.event_type, payload: JSON.stringify(payload) };
}

for (const d of DIALECTS) {
  describe(`engine events outbox (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;
    let clock: ManualClock;
    let receiver: EngineReceiver;
    const warns: Record<string, unknown>[] = [];
    const logger = { warn: (obj: object) => void warns.push(obj as Record<string, unknown>) };
    const sender = (policy: OutboxPolicy = POLICY) => new OutboxSender({ db: store.db, url: receiver.url, secret: SECRET, clock, logger, policy });
    const enqueue = (rows: NewOutboxEvent[]) => store.db.transaction().execute((trx) => enqueueEvents(trx, rows, clock.now()));
    const delivered = () => receiver.deliveries.map((x) => x.webhookId);
    const row = async (id: string) => {
      const r = await eventByWebhookId(store.db, id);
      if (!r) throw new Error(`no outbox row ${id}`);
      return r;
    };

    beforeAll(async () => {
      clock = new ManualClock(NOW);
      receiver = await startEngineReceiver(SECRET, () => clock.now());
    });
    afterAll(async () => {
      await receiver?.close();
    });
    beforeEach(async () => {
      clock.set(NOW);
      receiver.deliveries.length = 0;
      receiver.refusals.length = 0;
      receiver.setSecret(SECRET);
      await receiver.goUp();
      loc = await d.fresh();
      store = await loc.open();
    });
    afterEach(async () => {
      await store?.close();
      await loc?.drop();
    });

    it('commits events with the caller’s transaction and not without it', async () => {
      await expect(
        store.db.transaction().execute(async (trx) => {
          await enqueueEvents(trx, [event('rb', 1), event('rb', 2)], NOW);
          throw new Error('the candle failed');
        }),
      ).rejects.toThrow('the candle failed');
      expect(await outboxStats(store.db)).toEqual({ pending: 0, delivered: 0, dead: 0 });
      await enqueue([event('ok', 1), event('ok', 2)]);
      expect(await outboxStats(store.db, 'ok')).toEqual({ pending: 2, delivered: 0, dead: 0 });
      expect(await outboxStats(store.db, 'rb')).toEqual({ pending: 0, delivered: 0, dead: 0 });
      expect((await dueEvents(store.db, NOW, 10)).map((r) => r.webhook_id)).toEqual(['msg_ok_1', 'msg_ok_2']);
      expect(await dueEvents(store.db, NOW - 1, 10)).toEqual([]);
    });

    it('delivers events queued while the receiver was down once each, in order, after a restart of sender and store', async () => {
      await receiver.goDown('closed');
      await enqueue([event('A', 1), event('B', 1)]);
      await enqueue([event('A', 2), event('A', 3), event('B', 2)]);
      const first = sender();
      expect(await first.runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
      expect(await row('msg_A_1')).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: NOW + 500, last_error: 'ECONNREFUSED' });
      expect(await row('msg_A_2')).toMatchObject({ status: 'pending', attempts: 0 });

      // A's later events wait behind A1 (not due yet); B's are due, and the next pass stops at B1's failure.
      expect((await dueEvents(store.db, clock.now(), 10)).map((r) => r.webhook_id)).toEqual(['msg_B_1', 'msg_B_2']);
      expect(await first.runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
      clock.set(NOW + 500);
      expect(await first.runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
      expect(await row('msg_A_1')).toMatchObject({ attempts: 2, next_attempt_at: NOW + 500 + 1_000 });
      await receiver.goDown('503');
      clock.set(NOW + 1_500);
      expect(await first.runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
      expect(await row('msg_A_1')).toMatchObject({ attempts: 3, last_error: expect.stringMatching(/^HTTP 503/) });
      await first.stop();

      // The process restarts: a new store connection, a new sender, ten minutes later (beyond the 5-minute
      // signature tolerance: each attempt is signed anew).
      await store.close();
      store = await loc.open();
      await receiver.goUp();
      clock.set(NOW + 600_000);
      const second = sender();
      expect(await second.runOnce()).toEqual({ delivered: 5, retried: 0, dead: 0 });
      expect(delivered()).toEqual(['msg_A_1', 'msg_B_1', 'msg_A_2', 'msg_A_3', 'msg_B_2']);
      expect(receiver.duplicates()).toBe(0);
      expect(receiver.refusals).toEqual([]);
      expect(await outboxStats(store.db)).toEqual({ pending: 0, delivered: 5, dead: 0 });
      expect(await row('msg_A_1')).toMatchObject({ status: 'delivered', attempts: 4, delivered_at: NOW + 600_000 });
      for (const x of receiver.deliveries) expect(x.timestamp).toBe(String((NOW + 600_000) / 1000));

      const requests = receiver.requests.length;
      expect(await second.runOnce()).toEqual({ delivered: 0, retried: 0, dead: 0 });
      expect(receiver.requests.length).toBe(requests);
      expect(JSON.stringify(warns)).not.toContain(SECRET.slice(6));
    });

    it('signs every delivery so the receiver verifies it: exact body, content type, id, timestamp and signature', async () => {
      const rows = [event('S', 1), event('S', 2)];
      await enqueue(rows);
      clock.set(NOW + 1_234);
      await sender().runOnce();
      expect(receiver.deliveries).toHaveLength(2);
      receiver.deliveries.forEach((x, i) => {
        const sent = rows[i];
        expect(x.body).toBe(sent?.payload);
        expect(x.webhookId).toBe(sent?.webhook_id);
        expect(x.contentType).toBe('application/json');
        expect(x.timestamp).toBe(String(Math.floor((NOW + 1_234) / 1000)));
        expect(x.signature).toBe(webhookSignature(SECRET, x.webhookId, Number(x.timestamp), x.body));
        expect(verifyWebhook(SECRET, x.headers, x.body, clock.now())).toBeNull();
        expect(verifyWebhook(SECRET, x.headers, x.body, clock.now() + 301_000)).toBe('stale');
        expect(verifyWebhook(SECRET, x.headers, x.body.replace('65000', '65001'), clock.now())).toBe('bad_signature');
      });
    });

    it('marks an event refused for its signature (401) dead and still delivers the next ones', async () => {
      receiver.setSecret(newWebhookSecret());
      await enqueue([event('D', 1)]);
      const s = sender();
      expect(await s.runOnce()).toEqual({ delivered: 0, retried: 0, dead: 1 });
      expect(receiver.refusals).toEqual([{ webhookId: 'msg_D_1', reason: 'bad_signature' }]);
      expect(await row('msg_D_1')).toMatchObject({ status: 'dead', attempts: 1, last_error: expect.stringMatching(/^HTTP 401/) });

      receiver.setSecret(SECRET);
      await enqueue([event('D', 2), event('D', 3)]);
      expect(await s.runOnce()).toEqual({ delivered: 2, retried: 0, dead: 0 });
      expect(delivered()).toEqual(['msg_D_2', 'msg_D_3']);
      expect(receiver.requests.filter((r) => r.headers['webhook-id'] === 'msg_D_1')).toHaveLength(1);

      // In one pass: a refusal does not stop the events behind it.
      receiver.answerNext(1, { status: 422, body: { error: { code: 'invalid_input', message: 'unknown symbol' } } });
      await enqueue([event('D', 4), event('D', 5)]);
      expect(await s.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 1 });
      expect(delivered()).toEqual(['msg_D_2', 'msg_D_3', 'msg_D_5']);
      expect(await outboxStats(store.db, 'D')).toEqual({ pending: 0, delivered: 3, dead: 2 });
    });

    it('retries 408, 409, 429 and 5xx, and gives up on other 4xx', async () => {
      const s = sender();
      const cases = [[408, 'pending'], [409, 'pending'], [429, 'pending'], [500, 'pending'], [502, 'pending'], [400, 'dead'], [404, 'dead'], [410, 'dead'], [413, 'dead']] as const;
      for (const [status, after] of cases) {
        await enqueue([event(`st${status}`, 1)]);
        receiver.answerNext(1, { status, body: { error: status } });
        await s.runOnce();
        expect({ status, row: (await row(`msg_st${status}_1`)).status }).toEqual({ status, row: after });
      }
      expect(receiver.deliveries).toEqual([]);
    });

    it('honours Retry-After, and nothing of the run overtakes the waiting event', async () => {
      await enqueue([event('R', 1), event('R', 2)]);
      receiver.answerNext(1, { status: 429, body: { error: 'slow down' }, headers: { 'retry-after': '30' } });
      const s = sender();
      expect(await s.runOnce()).toEqual({ delivered: 0, retried: 1, dead: 0 });
      expect(await row('msg_R_1')).toMatchObject({ attempts: 1, next_attempt_at: NOW + 30_000 });
      await enqueue([event('other', 1)]);
      clock.set(NOW + 29_999);
      const requests = receiver.requests.length;
      expect(await s.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0 });
      expect(delivered()).toEqual(['msg_other_1']);
      expect(receiver.requests.length).toBe(requests + 1);
      clock.set(NOW + 30_000);
      expect(await s.runOnce()).toEqual({ delivered: 2, retried: 0, dead: 0 });
      expect(delivered()).toEqual(['msg_other_1', 'msg_R_1', 'msg_R_2']);

      // A Retry-After beyond maxDelayMs is capped.
      await enqueue([event('R', 3)]);
      receiver.answerNext(1, { status: 503, headers: { 'retry-after': '3600' } });
      await s.runOnce();
      expect(await row('msg_R_3')).toMatchObject({ next_attempt_at: NOW + 30_000 + 60_000 });
    });

    it('gives an event up as dead after maxAttempts, then the run goes on', async () => {
      await receiver.goDown('503');
      await enqueue([event('M', 1), event('M', 2)]);
      const s = sender({ ...POLICY, maxAttempts: 3 });
      for (let i = 0; i < 3; i++) {
        await s.runOnce();
        clock.set(clock.now() + 60_000);
      }
      expect(await row('msg_M_1')).toMatchObject({ status: 'dead', attempts: 3, last_error: expect.stringMatching(/^gave up after 3 attempts: HTTP 503/) });
      // The pass that gave M1 up went on to M2 (still down).
      expect(await row('msg_M_2')).toMatchObject({ status: 'pending', attempts: 1 });
      await receiver.goUp();
      clock.set(clock.now() + 60_000);
      expect(await s.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0 });
      expect(delivered()).toEqual(['msg_M_2']);
    });

    it('runs passes on its timer and on wake, and stop waits for the pass in flight', async () => {
      const s = sender();
      s.start(5);
      await enqueue([event('T', 1), event('T', 2)]);
      s.wake();
      await vi.waitFor(() => expect(delivered()).toEqual(['msg_T_1', 'msg_T_2']), { timeout: 10_000, interval: 5 });
      await s.stop();
      await enqueue([event('T', 3)]);
      expect(await s.runOnce()).toEqual({ delivered: 0, retried: 0, dead: 0 });
      expect(await outboxStats(store.db, 'T')).toEqual({ pending: 1, delivered: 2, dead: 0 });
    });

    it('stop waits for the request in flight and ends the pass after it', async () => {
      let release = (): void => undefined;
      const hold = new Promise<void>((resolve) => (release = resolve));
      receiver.answerNext(1, { status: 200, body: { status: 'accepted' }, hold });
      await enqueue([event('H', 1), event('H', 2)]);
      const s = sender();
      const pass = s.runOnce();
      await vi.waitFor(() => expect(receiver.requests.at(-1)?.headers['webhook-id']).toBe('msg_H_1'), { timeout: 10_000, interval: 5 });
      let stopped = false;
      const stopping = s.stop().then(() => (stopped = true));
      await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect(await pass).toEqual({ delivered: 1, retried: 0, dead: 0 });
      expect(await row('msg_H_1')).toMatchObject({ status: 'delivered' });
      expect(await row('msg_H_2')).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('is configured from ENGINE_EVENTS_URL and ENGINE_EVENTS_SECRET', async () => {
      expect(outboxSenderFromSettings({ ENGINE_EVENTS_URL: undefined, ENGINE_EVENTS_SECRET: undefined }, store.db, clock)).toBeUndefined();
      expect(() => outboxSenderFromSettings({ ENGINE_EVENTS_URL: receiver.url, ENGINE_EVENTS_SECRET: undefined }, store.db, clock)).toThrow(/ENGINE_EVENTS_SECRET/);
      const s = outboxSenderFromSettings({ ENGINE_EVENTS_URL: receiver.url, ENGINE_EVENTS_SECRET: SECRET }, store.db, clock);
      await enqueue([event('C', 1)]);
      expect(await s?.runOnce()).toEqual({ delivered: 1, retried: 0, dead: 0 });
    });
  });
}
