import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/db.ts';
import { DIALECTS } from './db.ts';
import { postSignal, startServer, userWithRecorder, type Running } from './server-helpers.ts';

/** The value of one sample line `name{labels} value` of a Prometheus text answer (undefined when absent). */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

for (const d of DIALECTS) {
  describe(`/metrics and /readyz on ${d.name}`, () => {
    let store: Store;
    let server: Running;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const f = await d.fresh();
      drop = f.drop;
      store = await f.open();
      server = await startServer(store, {}, undefined, { metricsToken: 'scrape-token-0123456789' });
    });
    afterAll(async () => {
      await server.stop();
      await store.close();
      await drop();
    });

    it('answers readiness with the database checked', async () => {
      const r = await fetch(`${server.base}/readyz`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ ok: true, database: d.name });
    });

    it('refuses a scraper without the token in one sentence, and counts what the rows hold for one with it', async () => {
      const refused = await fetch(`${server.base}/metrics`);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe('send the METRICS_TOKEN as a bearer token');
      expect((await fetch(`${server.base}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(403);

      const { secret } = await userWithRecorder(store, 'metrics-user');
      const accepted = [
        { ticker: 'BTCUSDT', action: 'buy', quantity: 0.01, price: 30_000 },
        { ticker: 'BTCUSDT', action: 'sell', quantity: 0.01, price: 30_100 },
        { ticker: 'ETHUSDT', action: 'buy', quantity: 0.1, price: 2_000 },
      ];
      for (const b of accepted) expect((await postSignal(server.base, secret, JSON.stringify(b))).status).toBe(200);
      expect((await postSignal(server.base, secret, '{"ticker":')).status).toBe(400);
      expect((await postSignal(server.base, 'no-such-secret', JSON.stringify(accepted[0]))).status).toBe(404);

      const r = await fetch(`${server.base}/metrics`, { headers: { authorization: 'Bearer scrape-token-0123456789' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      const text = await r.text();
      expect(sample(text, 'halyard_http_requests_total', 'route="signal_webhook",status="2xx"')).toBe(3);
      expect(sample(text, 'halyard_http_requests_total', 'route="signal_webhook",status="4xx"')).toBe(2);
      expect(sample(text, 'halyard_http_request_duration_seconds_count', 'route="signal_webhook"')).toBe(5);
      // Gauges equal the rows they count.
      const byStatus = await store.db.selectFrom('order_intents').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
      expect(byStatus.length).toBeGreaterThan(0);
      for (const row of byStatus) expect(sample(text, 'halyard_order_intents', `status="${row.status}"`)).toBe(Number(row.n));
      expect(sample(text, 'halyard_outbox_backlog', 'queue="engine_events"')).toBe(0);
      expect(sample(text, 'halyard_outbox_backlog', 'queue="alerts"')).toBe(0);
      const issues = await store.db.selectFrom('reconciliation_issues').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'open').executeTakeFirstOrThrow();
      expect(sample(text, 'halyard_reconciliation_issues_open')).toBe(Number(issues.n));
      expect(sample(text, 'halyard_job_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(text).toContain('halyard_process_cpu_seconds_total');
      // Operator figures only: nothing names a user, a recorder or a symbol.
      expect(text).not.toContain('metrics-user');
      expect(text).not.toContain(secret);
      expect(text).not.toContain('BTCUSDT');
    });
  });
}

describe('/metrics without METRICS_TOKEN', () => {
  it('answers loopback clients only', async () => {
    const d = DIALECTS[0]!;
    const f = await d.fresh();
    const store = await f.open();
    const server = await startServer(store);
    try {
      const r = await fetch(`${server.base}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('halyard_jobs_queued 0');
    } finally {
      await server.stop();
      await store.close();
      await f.drop();
    }
  });
});
