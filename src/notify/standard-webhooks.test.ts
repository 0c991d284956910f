import { describe, expect, it } from 'vitest';
import { isHalyardError } from '../core/errors.ts';
import { newWebhookSecret, signWebhook, verifyWebhook, webhookSignature } from './standard-webhooks.ts';

// The Standard Webhooks specification's published example (spec/standard-webhooks.md).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TS = 1614265330;
const BODY = '{"test": 2432232314}';
const EXPECTED = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const AT = TS * 1000;

const headers = (signature: string, ts: number | string = TS, id = ID) => ({ 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signature });

describe('Standard Webhooks signing', () => {
  it('signs the spec test vector exactly', () => {
    expect(webhookSignature(SECRET, ID, TS, BODY)).toBe(EXPECTED);
    expect(signWebhook(SECRET, ID, AT + 999, BODY)).toEqual(headers(EXPECTED));
  });

  it('verifies the spec test vector, and refuses a tampered body, id or signature', () => {
    expect(verifyWebhook(SECRET, headers(EXPECTED), BODY, AT)).toBeNull();
    expect(verifyWebhook(SECRET, headers(EXPECTED), '{"test": 2432232315}', AT)).toBe('bad_signature');
    expect(verifyWebhook(SECRET, headers(EXPECTED, TS, 'msg_other'), BODY, AT)).toBe('bad_signature');
    expect(verifyWebhook(SECRET, headers('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA='), BODY, AT)).toBe('bad_signature');
    expect(verifyWebhook('whsec_' + Buffer.from('another key').toString('base64'), headers(EXPECTED), BODY, AT)).toBe('bad_signature');
  });

  it('refuses a stale or future timestamp beyond the 5-minute tolerance, and a signature re-dated without re-signing', () => {
    expect(verifyWebhook(SECRET, headers(EXPECTED), BODY, AT + 300_000)).toBeNull();
    expect(verifyWebhook(SECRET, headers(EXPECTED), BODY, AT + 301_000)).toBe('stale');
    expect(verifyWebhook(SECRET, headers(EXPECTED), BODY, AT - 301_000)).toBe('stale');
    expect(verifyWebhook(SECRET, headers(EXPECTED, TS + 1), BODY, AT)).toBe('bad_signature');
    expect(verifyWebhook(SECRET, headers(EXPECTED, 'soon'), BODY, AT)).toBe('bad_timestamp');
    expect(verifyWebhook(SECRET, { 'webhook-id': ID, 'webhook-timestamp': String(TS) }, BODY, AT)).toBe('missing_headers');
  });

  it('accepts a header with several signatures when one matches (key rotation), and only v1 ones', () => {
    const other = webhookSignature(newWebhookSecret(), ID, TS, BODY);
    expect(verifyWebhook(SECRET, headers(`${other} ${EXPECTED}`), BODY, AT)).toBeNull();
    expect(verifyWebhook(SECRET, headers(`${EXPECTED} ${other}`), BODY, AT)).toBeNull();
    expect(verifyWebhook(SECRET, headers(`${other} v1a,${EXPECTED.slice(3)}`), BODY, AT)).toBe('bad_signature');
    expect(verifyWebhook(SECRET, headers(other), BODY, AT)).toBe('bad_signature');
  });

  it('makes fresh whsec_ secrets of 32 bytes and refuses an empty one', () => {
    const s = newWebhookSecret();
    expect(s).toMatch(/^whsec_/);
    expect(Buffer.from(s.slice(6), 'base64')).toHaveLength(32);
    expect(s).not.toBe(newWebhookSecret());
    let err: unknown;
    try {
      webhookSignature('whsec_', ID, TS, BODY);
    } catch (e) {
      err = e;
    }
    expect(isHalyardError(err, 'invalid_config')).toBe(true);
  });
});
