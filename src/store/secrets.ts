import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { HalyardError } from '../core/errors.ts';

/** A new API token (shown once; only its hash is stored). */
export function newApiToken(): string {
  return `hly_${randomBytes(24).toString('base64url')}`;
}

/** A new recorder webhook secret (the capability in the webhook URL). */
export function newWebhookSecret(): string {
  return randomBytes(18).toString('base64url');
}

/** SHA-256 of a token, hex. Tokens are 192-bit random, so a fast hash is enough (no guessing to slow down). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Encrypts and decrypts account credentials with AES-256-GCM under a key derived from ENCRYPTION_KEY. */
export class SecretBox {
  private readonly key: Buffer;

  /** `secret`: at least 32 characters (e.g. `openssl rand -hex 32`); the AES key is derived with HKDF-SHA256. */
  constructor(secret: string) {
    if (secret.length < 32) throw new HalyardError('invalid_config', 'ENCRYPTION_KEY must be at least 32 characters (try: openssl rand -hex 32)');
    this.key = Buffer.from(hkdfSync('sha256', secret, 'halyard', 'accounts-v1', 32));
  }

  /** `v1:<iv>:<tag>:<ciphertext>`, base64 parts. */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  /** The plaintext; a wrong key or tampered text is an error, never garbage. */
  decrypt(sealed: string): string {
    const [v, iv, tag, body] = sealed.split(':');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw new HalyardError('data_corrupt', 'sealed credentials are not in the v1 format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
    } catch (e) {
      throw new HalyardError('data_corrupt', 'cannot decrypt credentials: wrong ENCRYPTION_KEY or tampered data', {}, e);
    }
  }
}
