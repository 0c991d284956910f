import { verifyWebhook, type WebhookRefusal } from '../../src/notify/standard-webhooks.ts';
import { startRecordingServer, type RecordedRequest, type StubAnswer } from './recording-server.ts';

/** One accepted engine event, as received. */
export interface EngineDelivery {
  readonly webhookId: string;
  /** `webhook-timestamp` (epoch seconds, as sent). */
  readonly timestamp: string;
  readonly signature: string;
  readonly contentType: string | undefined;
  /** The raw body. */
  readonly body: string;
  readonly headers: RecordedRequest['headers'];
}

/** A loopback receiver of signed engine events (what the tracker's `/hooks/engine` does, reduced to delivery). */
export interface EngineReceiver {
  readonly url: string;
  /** Every request, accepted or not. */
  readonly requests: readonly RecordedRequest[];
  /** Accepted events, first delivery of each webhook id, in arrival order. */
  readonly deliveries: EngineDelivery[];
  /** Refused deliveries (bad signature, stale timestamp, …). */
  readonly refusals: { readonly webhookId: string; readonly reason: WebhookRefusal }[];
  /** Deliveries of a webhook id already accepted (answered 200, not recorded again). */
  duplicates(): number;
  /** The secret it verifies with (a different one than the sender's makes it refuse with 401). */
  setSecret(secret: string): void;
  /** The next `n` requests get `answer`, unverified (e.g. 429 with Retry-After, 422). */
  answerNext(n: number, answer: StubAnswer): void;
  /** `closed`: the port stops listening; `503`: it listens and answers 503 to everything. */
  goDown(how: 'closed' | '503'): Promise<void>;
  /** Listens again (same port) and accepts. */
  goUp(): Promise<void>;
  close(): Promise<void>;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/** Starts a receiver on 127.0.0.1 that verifies with `secret` against the time `now()` (epoch ms). */
export async function startEngineReceiver(secret: string, now: () => number): Promise<EngineReceiver> {
  let key = secret;
  let unavailable = false;
  let dupes = 0;
  const seen = new Set<string>();
  const deliveries: EngineDelivery[] = [];
  const refusals: { webhookId: string; reason: WebhookRefusal }[] = [];
  const handle = (req: RecordedRequest): StubAnswer => {
    if (unavailable) return { status: 503, body: { error: { code: 'unavailable', message: 'down for maintenance' } } };
    const id = one(req.headers['webhook-id']) ?? '';
    const reason = verifyWebhook(key, req.headers, req.body, now());
    if (reason !== null) {
      refusals.push({ webhookId: id, reason });
      return { status: 401, body: { error: { code: 'unauthorized', message: `webhook ${reason}` } } };
    }
    if (seen.has(id)) {
      dupes++;
      return { status: 200, body: { status: 'duplicate' } };
    }
    seen.add(id);
    deliveries.push({
      webhookId: id,
      timestamp: one(req.headers['webhook-timestamp']) ?? '',
      signature: one(req.headers['webhook-signature']) ?? '',
      contentType: one(req.headers['content-type']),
      body: req.body,
      headers: req.headers,
    });
    return { status: 200, body: { status: 'accepted' } };
  };
  const srv = await startRecordingServer(handle);
  return {
    url: `${srv.base}/hooks/engine?source=es_stub`,
    requests: srv.requests,
    deliveries,
    refusals,
    duplicates: () => dupes,
    setSecret(s) {
      key = s;
    },
    answerNext: (n, answer) => srv.answerNext(n, answer),
    async goDown(how) {
      if (how === 'closed') return srv.down();
      unavailable = true;
      await srv.up();
    },
    async goUp() {
      unavailable = false;
      await srv.up();
    },
    close: () => srv.close(),
  };
}
