/** Every error code Halyard raises; one table below maps each to an HTTP status. */
export const ERROR_CODES = [
  'invalid_input',
  'invalid_config',
  'not_found',
  'conflict',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'payload_too_large',
  'data_missing',
  'data_corrupt',
  'strategy_error',
  'venue_error',
  'venue_rejected',
  'venue_auth',
  'venue_unavailable',
  'unavailable',
  'internal',
] as const;

/** A machine-readable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status for each error code (used by the server layer). */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = Object.freeze({
  invalid_input: 400,
  invalid_config: 400,
  not_found: 404,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  payload_too_large: 413,
  data_missing: 404,
  data_corrupt: 422,
  strategy_error: 422,
  venue_error: 502,
  venue_rejected: 422,
  venue_auth: 502,
  venue_unavailable: 503,
  unavailable: 503,
  internal: 500,
});

/** The one base error of Halyard: a code, a message, optional context fields and the cause passed through. */
export class HalyardError extends Error {
  /** Machine-readable code. */
  readonly code: ErrorCode;
  /** Extra fields that say what was wrong (a path, a value, a range). */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HalyardError';
    this.code = code;
    this.context = context;
  }
}

/** True when `e` is a HalyardError (optionally of the given code). */
export function isHalyardError(e: unknown, code?: ErrorCode): e is HalyardError {
  return e instanceof HalyardError && (code === undefined || e.code === code);
}

/** The message of anything thrown (an Error's message, else its text). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
