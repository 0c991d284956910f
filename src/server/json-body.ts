import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HalyardError } from '../core/errors.ts';
import { jsonTooDeep, tooDeepMessage } from '../core/json-depth.ts';

type Done = (err: Error | null, body?: unknown) => void;

/** A 415 the error handler keeps as 415 (Fastify's own errors carry their status the same way). */
function unsupportedMediaType(contentType: string): Error {
  const err = new Error(`content-type ${JSON.stringify(contentType)} is not accepted here: send application/json (or no content-type) with a JSON body`);
  return Object.assign(err, { statusCode: 415 });
}

/**
 * Installs the API's JSON body parser in place of Fastify's: the body is read as text up to `bodyLimit`
 * bytes (larger: 413), its nesting counted on the text before anything parses it (deeper than
 * `MAX_JSON_DEPTH`: 400 with a sentence), then parsed by Fastify's own parser, which refuses `__proto__` and
 * `constructor.prototype` keys. A body sent with an empty or no `Content-Type` is read as JSON too: some
 * alert senders send one. Scopes that read raw text (the webhooks) replace these parsers with their own.
 */
export function installJsonBody(app: FastifyInstance, bodyLimit: number): void {
  // Fastify answers 415 to a blank content-type before any parser runs; without the header the catch-all reads it.
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if (type !== undefined && type.trim() === '') delete req.headers['content-type'];
  });
  const parse = app.getDefaultJsonParser('error', 'error');
  const read = (req: FastifyRequest, body: string, done: Done): void => {
    if (jsonTooDeep(body)) {
      done(new HalyardError('invalid_input', tooDeepMessage()));
      return;
    }
    parse(req, body, done);
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (req, body, done) => read(req, body as string, done));
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, (req, body, done) => {
    const type = req.headers['content-type'] ?? '';
    if (type.trim() === '') read(req, body as string, done);
    else done(unsupportedMediaType(type));
  });
}

const sent = new WeakMap<object, string>();

/**
 * For a scope that reads every body as text whatever its type (the webhooks): takes the content-type header
 * off each request, since Fastify refuses one it cannot parse (`;`, `a b`) with 415 before any parser runs,
 * so the scope's catch-all parser reads the body; `sentContentType` gives the header back.
 */
export function acceptAnyContentType(app: FastifyInstance): void {
  app.addHook('onRequest', async (req) => {
    const type = req.headers['content-type'];
    if (type === undefined) return;
    sent.set(req.raw, type);
    delete req.headers['content-type'];
  });
}

/** The content-type header a request came with (null without one), in a scope of `acceptAnyContentType`. */
export function sentContentType(req: FastifyRequest): string | null {
  return sent.get(req.raw) ?? req.headers['content-type'] ?? null;
}
