import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HalyardError } from '../../core/errors.ts';
import type { Clock } from '../../core/ports.ts';
import { MAX_ENGINE_GRACE_S, rotateEngineSecret } from '../../store/engine-sources.ts';
import { MAX_SECRET_GRACE_S, rotateRecorderSecret } from '../../store/recorders.ts';
import type { Database } from '../../store/schema.ts';
import { expiryInDays, issueToken, listTokens, parseExpiry, revokeToken, type TokenInfo } from '../../store/tokens.ts';
import { requireUser, userOf } from '../auth.ts';
import { ErrorSchema, IdParams, RecorderSchema } from '../schemas.ts';
import { EngineSourceSchema } from '../schemas-engine.ts';
import { recorderView } from './api.ts';
import { engineSourceView } from './engine.ts';

/** What the token and rotation routes need. */
export interface TokenRouteOptions {
  readonly db: Kysely<Database>;
  readonly clock: Clock;
  /** Base of the webhook URLs shown to users. */
  readonly publicUrl: string;
}

const ms = z.number().describe('epoch ms');
const nms = z.number().nullable().describe('epoch ms, or null');

/** An API token as the API lists it: never the token nor its hash. */
export const TokenSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    prefix: z.string().describe('first characters of the token, to tell tokens apart'),
    created_at: ms,
    last_used_at: nms.describe('last request made with it (epoch ms, kept to the minute), null when never used'),
    expires_at: nms.describe('when it stops working (epoch ms), null for never'),
    revoked_at: nms.describe('when it was revoked (epoch ms), null while it works'),
    status: z.enum(['active', 'expired', 'revoked']),
    current: z.boolean().describe('true for the token this request was signed with'),
  })
  .describe('ApiToken');

/** A new token: the token itself is in this answer only. */
export const IssuedTokenSchema = TokenSchema.extend({ token: z.string().describe('the API token (shown once; only its hash is stored)') }).describe('IssuedApiToken');

/** Body of POST /api/tokens. */
export const NewTokenSchema = z.object({
  name: z.string().min(1).max(64).optional().describe('what the token is for, e.g. "laptop" (default: default)'),
  expires_at: z.union([z.string().max(40), z.number().int().positive()]).optional().describe('ISO date or date-time (UTC unless it names a zone), or epoch ms; omit for no expiry'),
  expires_in_days: z.number().positive().max(3650).optional().describe('instead of expires_at: days from now'),
});

/** Body of the rotate-secret routes (may be left out, which Fastify reads as null: the old secret then stops at once). */
const rotateBody = (max: number) =>
  z
    .object({ grace_seconds: z.number().int().min(0).max(max).default(0).describe(`seconds the old secret keeps working (0: it stops at once; at most ${max}, a week)`) })
    .nullish();

const graceEnd = nms.describe('until when the old secret is still accepted (epoch ms), null when it stopped at once');
/** A recorder just given a new webhook secret. */
export const RotatedRecorderSchema = RecorderSchema.extend({ previous_secret_until: graceEnd });
/** An engine source just given a new signing secret (the secret is in this answer only). */
export const RotatedEngineSourceSchema = EngineSourceSchema.extend({ previous_secret_until: graceEnd });

const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };
const auth = [{ bearerAuth: [] }];

const view = (t: TokenInfo, req: FastifyRequest): z.infer<typeof TokenSchema> => ({ ...t, current: t.id === req.tokenId });

/**
 * `/api/tokens` (list, issue, revoke the caller's API tokens) and the rotation of recorder webhook secrets
 * and engine-source signing secrets. Every route sees only the caller's own tokens, recorders and sources.
 */
export async function tokenRoutes(root: FastifyInstance, opts: TokenRouteOptions): Promise<void> {
  const { db, clock, publicUrl } = opts;
  requireUser(root, db);
  const app = root.withTypeProvider<ZodTypeProvider>();
  const tags = ['tokens'];

  app.get(
    '/api/tokens',
    { schema: { tags, security: auth, summary: "The caller's API tokens, revoked and expired ones included", response: { 200: z.array(TokenSchema), ...errors } } },
    async (req) => (await listTokens(db, userOf(req).id, clock.now())).map((t) => view(t, req)),
  );

  app.post(
    '/api/tokens',
    { schema: { tags, security: auth, summary: 'Issue a named API token, optionally expiring; the token is shown in this answer only', body: NewTokenSchema, response: { 201: IssuedTokenSchema, ...errors } } },
    async (req, reply) => {
      const b = req.body;
      const now = clock.now();
      if (b.expires_at !== undefined && b.expires_in_days !== undefined) throw new HalyardError('invalid_input', 'send expires_at or expires_in_days, not both');
      const expiresAt = b.expires_at !== undefined ? parseExpiry(b.expires_at) : b.expires_in_days !== undefined ? expiryInDays(b.expires_in_days, now, 'expires_in_days') : null;
      const issued = await issueToken(db, userOf(req).id, { ...(b.name !== undefined ? { name: b.name } : {}), expiresAt }, now);
      return reply.code(201).send({ ...view(issued.info, req), token: issued.token });
    },
  );

  app.delete(
    '/api/tokens/:id',
    { schema: { tags, security: auth, summary: 'Revoke one of your API tokens: it answers 401 from the next request on', params: IdParams, response: { 200: TokenSchema, ...errors } } },
    async (req) => view(await revokeToken(db, userOf(req).id, req.params.id, clock.now()), req),
  );

  app.post(
    '/api/recorders/:id/rotate-secret',
    {
      schema: {
        tags: ['recorders'],
        security: auth,
        summary: 'Give a recorder a new webhook secret; the old URL works for grace_seconds more, then answers 404',
        params: IdParams,
        body: rotateBody(MAX_SECRET_GRACE_S),
        response: { 200: RotatedRecorderSchema, ...errors },
      },
    },
    async (req) => {
      const rec = await rotateRecorderSecret(db, userOf(req).id, req.params.id, req.body?.grace_seconds ?? 0, clock.now());
      return { ...recorderView(rec, publicUrl), previous_secret_until: rec.previous_secret_until };
    },
  );

  app.post(
    '/api/engine-sources/:id/rotate-secret',
    {
      schema: {
        tags: ['engines'],
        security: auth,
        summary: 'Give an engine source a new signing secret; events signed with the old one are accepted for grace_seconds more',
        params: z.object({ id: z.string().min(1).max(100) }),
        body: rotateBody(MAX_ENGINE_GRACE_S),
        response: { 200: RotatedEngineSourceSchema, ...errors },
      },
    },
    async (req) => {
      const src = await rotateEngineSecret(db, userOf(req).id, req.params.id, req.body?.grace_seconds ?? 0, clock.now());
      return { ...engineSourceView(src, publicUrl, true), previous_secret_until: src.previous_secret_until };
    },
  );
}
