import { startRecordingServer, type RecordedRequest, type RecordingServer, type StubAnswer } from './recording-server.ts';

/** A Discord webhook stub: `POST /api/webhooks/<id>/<token>` as Discord answers it. */
export interface DiscordStub {
  /** The webhook URL the stub accepts. */
  readonly url: string;
  /** A URL of a webhook that does not exist (Discord: 404 Unknown Webhook). */
  readonly unknownUrl: string;
  /** Every request received. */
  readonly requests: readonly RecordedRequest[];
  /** The content of every message Discord accepted, in order. */
  readonly messages: string[];
  /** The next `n` requests fail with Discord's answer for `status` (500, 401 or 404). */
  failNext(n: number, status: 500 | 401 | 404): void;
  /** The next `n` requests are rate-limited (429) for `retryAfterS` seconds (float, as Discord sends it). */
  rateLimitNext(n: number, retryAfterS: number): void;
  /** The bucket headers of the next successes: `x-ratelimit-remaining` and `x-ratelimit-reset-after` (s). */
  setBucket(remaining: number, resetAfterS: number): void;
  /** Closes the listening socket (nothing answers), `up` listens again. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

const ID = '1234567890';
const TOKEN = 'stub-webhook-token';

const discordError = (status: 500 | 401 | 404): StubAnswer => ({
  status,
  body: status === 500 ? { message: '500: Internal Server Error', code: 0 } : status === 401 ? { message: 'Invalid Webhook Token', code: 50027 } : { message: 'Unknown Webhook', code: 10015 },
});

/** Starts a Discord webhook stub on 127.0.0.1. */
export async function startDiscordStub(): Promise<DiscordStub> {
  const messages: string[] = [];
  let bucket = { remaining: 4, resetAfterS: 1 };
  const handle = (req: RecordedRequest): StubAnswer => {
    const m = /^\/api\/webhooks\/([^/]+)\/([^/?]+)(\?.*)?$/.exec(req.path);
    if (!m || m[1] !== ID) return discordError(404);
    if (m[2] !== TOKEN) return discordError(401);
    if (req.method !== 'POST') return { status: 405, body: { message: '405: Method Not Allowed', code: 0 } };
    const body = req.json;
    if (typeof body !== 'object' || body === null) return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    const content = (body as { content?: unknown }).content;
    if (typeof content !== 'string' || content === '') return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    if ([...content].length > 2000) {
      return { status: 400, body: { code: 50035, message: 'Invalid Form Body', errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } } };
    }
    messages.push(content);
    return { status: 204, headers: { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': String(bucket.remaining), 'x-ratelimit-reset-after': String(bucket.resetAfterS), 'x-ratelimit-bucket': 'stub-bucket' } };
  };
  const srv: RecordingServer = await startRecordingServer(handle);
  return {
    url: `${srv.base}/api/webhooks/${ID}/${TOKEN}`,
    unknownUrl: `${srv.base}/api/webhooks/999/${TOKEN}`,
    requests: srv.requests,
    messages,
    failNext: (n, status) => srv.answerNext(n, discordError(status)),
    rateLimitNext(n, retryAfterS) {
      srv.answerNext(n, {
        status: 429,
        body: { message: 'You are being rate limited.', retry_after: retryAfterS, global: false },
        headers: { 'retry-after': String(Math.ceil(retryAfterS)), 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset-after': String(retryAfterS), 'x-ratelimit-scope': 'user' },
      });
    },
    setBucket(remaining, resetAfterS) {
      bucket = { remaining, resetAfterS };
    },
    down: () => srv.down(),
    up: () => srv.up(),
    close: () => srv.close(),
  };
}
