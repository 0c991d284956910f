import type {} from '@fastify/rate-limit';
import type {} from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { HalyardError } from '../../core/errors.ts';
import type { SignalIntake } from '../../tracker/intake.ts';
import { errorBody } from '../errors.ts';
import { acceptAnyContentType, sentContentType } from '../json-body.ts';

/** Options of the signal webhook. */
export interface HookOptions {
  readonly intake: SignalIntake;
  /** Largest accepted body (bytes). */
  readonly bodyLimit: number;
  /** Deliveries per minute and recorder before 429. */
  readonly perRecorderPerMinute: number;
}

/**
 * `POST /hooks/signals/:secret`: the body is read as text whatever the content-type says (TradingView sends
 * JSON as text/plain), stored, applied, and answered once durable.
 */
export async function hookRoutes(app: FastifyInstance, opts: HookOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  acceptAnyContentType(app);
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit }, (_req, body, done) => done(null, body));
  // The per-IP limit runs on every route; this second one counts deliveries per recorder (the secret).
  const perRecorder = app.createRateLimit({ max: opts.perRecorderPerMinute, timeWindow: 60_000, keyGenerator: (req) => `rec:${(req.params as { secret?: string }).secret ?? ''}` });
  app.post<{ Params: { secret: string }; Body: string | undefined }>(
    '/hooks/signals/:secret',
    {
      bodyLimit: opts.bodyLimit,
      preHandler: async (req, reply) => {
        const r = await perRecorder(req);
        if (r.isAllowed || !r.isExceeded) return;
        reply.header('retry-after', r.ttlInSeconds);
        throw new HalyardError('rate_limited', `more than ${opts.perRecorderPerMinute} signals a minute for this recorder; retry in ${r.ttlInSeconds} s`);
      },
      schema: {
        summary: 'Receive one external signal (TradingView, TradersPost, 3Commas, OKX, PineConnector, form)',
        description: 'See docs/signals.md for every accepted body. 200 accepted or duplicate; 422 rejected (stored with the reason); 400 not a signal (nothing stored); 404 unknown secret.',
        tags: ['webhooks'],
      },
    },
    async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const answer = await opts.intake.receive(req.params.secret, raw, sentContentType(req));
      if (answer.status === 'rejected') return reply.code(422).send({ ...answer, ...errorBody('signal_rejected', answer.reason) });
      return reply.code(200).send(answer);
    },
  );
}
