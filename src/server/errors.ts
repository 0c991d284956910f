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
