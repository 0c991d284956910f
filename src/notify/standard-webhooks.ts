import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HalyardError } from '../core/errors.ts';

/** Default tolerance between `webhook-timestamp` and the receiver's clock (seconds). */
export const WEBHOOK_TOLERANCE_S = 300;

/** The three Standard Webhooks headers (a type alias, not an interface, so it passes as a header record to fetch). */
export type WebhookHeaders = {
  readonly 'webhook-id': string;
  /** Epoch seconds, as a decimal string. */
  readonly 'webhook-timestamp': string;
  /** Space-separated `v1,<base64>` signatures. */
  readonly 'webhook-signature': string;
};

/** A new signing secret, `whsec_` + 32 random bytes in base64. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

function keyOf(secret: string): Buffer {
  const b64 = secret.startsWith('whsec_') ? secret.slice(6) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new HalyardError('invalid_config', 'webhook secret is empty or not base64');
  return key;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`. */
export function webhookSignature(secret: string, id: string, timestampS: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestampS}.${body}`).digest('base64')}`;
}

/** The headers that sign `body` with `secret` at `nowMs`. */
export function signWebhook(secret: string, id: string, nowMs: number, body: string): WebhookHeaders {
  const ts = Math.floor(nowMs / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': webhookSignature(secret, id, ts, body) };
}

/** Why a delivery was refused. */
export type WebhookRefusal = 'missing_headers' | 'bad_timestamp' | 'stale' | 'bad_signature';

/**
 * Verifies Standard Webhooks headers against the raw body: the timestamp must be within `toleranceS` of
 * `nowMs` (either way), and one of the `v1` signatures must match (compared in constant time).
 * Returns null when valid, else the reason.
 */
export function verifyWebhook(
  secret: string,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  body: string,
  nowMs: number,
  toleranceS = WEBHOOK_TOLERANCE_S,
): WebhookRefusal | null {
  const one = (k: string): string | undefined => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const tsRaw = one('webhook-timestamp');
  const sigs = one('webhook-signature');
  if (!id || !tsRaw || !sigs) return 'missing_headers';
  if (!/^\d{1,12}$/.test(tsRaw)) return 'bad_timestamp';
  const ts = Number(tsRaw);
  if (Math.abs(nowMs / 1000 - ts) > toleranceS) return 'stale';
  const expected = Buffer.from(webhookSignature(secret, id, ts, body).slice(3), 'base64');
  for (const s of sigs.split(' ')) {
    const [version, value] = s.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const got = Buffer.from(value, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return null;
  }
  return 'bad_signature';
}
