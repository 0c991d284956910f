import type { FastifyError, FastifyInstance } from 'fastify';
import { ERROR_CODES, HTTP_STATUS, isHalyardError, type ErrorCode } from '../core/errors.ts';

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/** Builds an error body. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** The error code of a status Fastify raised itself (the first code of the table with that status). */
function codeOfStatus(status: number): ErrorCode {
  return ERROR_CODES.find((c) => HTTP_STATUS[c] === status) ?? 'invalid_input';
}

/**
 * One error handler for the whole app: HalyardErrors by the code table, Fastify's own 4xx (validation,
 * bad JSON, body too large, rate limit) kept as 4xx, anything else a 500 that says nothing of internals.
 */
export function installErrorHandling(app: FastifyInstance): void {
  // A number JSON cannot carry would fail the response schema: a 500 on every later read of that row.
  // Most answers hold none: a walk that allocates nothing settles those; only the rest are copied with paths.
  app.addHook('preSerialization', async (req, _reply, payload) => {
    if (allFinite(payload)) return payload;
    const where: string[] = [];
    const out = finiteCopy(payload, '$', where);
    if (where.length > 0) req.log.warn({ url: req.url, paths: where.slice(0, 10) }, 'answer held numbers that are not finite (shown clamped, NaN as 0)');
    return out;
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isHalyardError(err)) {
      const status = HTTP_STATUS[err.code];
      if (status >= 500) req.log.error({ err }, 'request failed');
      return reply.code(status).send(errorBody(err.code, err.message));
    }
    if (err.validation) {
      const where = err.validationContext ?? 'request';
      return reply.code(400).send(errorBody('invalid_input', `invalid ${where}: ${err.message}`));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(codeOfStatus(status), err.message));
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(errorBody('internal', 'internal error (logged on the server)'));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(errorBody('not_found', `no route ${req.method} ${req.url.split('?')[0]}`)));
}

/** True when `value` holds no non-finite number where finiteCopy would look (no allocation, stops at the first). */
function allFinite(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allFinite(value[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return true;
  for (const key in value) if (!allFinite((value as Record<string, unknown>)[key])) return false;
  return true;
}

/**
 * `value` with every non-finite number replaced (±Infinity by ±Number.MAX_VALUE, NaN by 0), the paths of
 * the replaced ones pushed on `where`; the same object when it holds none (nothing is copied then). Stored
 * values are bounded at intake (docs/signals.md, Limits); this is the read side's guard for rows stored
 * before the bounds, or derived from them (a PnL of a huge size times a price).
 */
export function finiteCopy(value: unknown, path: string, where: string[]): unknown {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    where.push(path);
    return Number.isNaN(value) ? 0 : value > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item: unknown, i) => {
      const next = finiteCopy(item, `${path}[${i}]`, where);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value; // Buffers, Dates, streams: left to the serializer
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(value)) {
    const next = finiteCopy(item, `${path}.${key}`, where);
    if (next !== item) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}
