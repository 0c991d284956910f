import { errors } from 'ccxt';
import { HalyardError, isHalyardError } from '../../core/errors.ts';
import { isTransient } from '../retry.ts';

/**
 * The exchange's own words inside a ccxt error message. ccxt writes `<id> <body>`; the body is the
 * exchange's JSON (`{"code":-2019,"msg":"Margin is insufficient."}`, `{"retCode":110007,"retMsg":...}`,
 * `{"status":"err","response":"..."}`) or text.
 */
export function exchangeMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const start = msg.indexOf('{');
  if (start >= 0) {
    try {
      const body = JSON.parse(msg.slice(start)) as Record<string, unknown>;
      const statuses = (body['response'] as { data?: { statuses?: Array<{ error?: unknown }> } } | undefined)?.data?.statuses;
      const nested = Array.isArray(statuses) ? statuses.find((s) => typeof s?.error === 'string')?.error : undefined;
      for (const v of [body['msg'], body['retMsg'], nested, body['response'], body['error']]) if (typeof v === 'string' && v !== '') return v;
    } catch {
      // not JSON: the message as ccxt wrote it
    }
  }
  return msg;
}

/**
 * Maps anything an adapter call threw to a HalyardError (passed through when it already is one):
 * the profile's exchange-specific reading first, then ccxt's classes — duplicate order id → conflict,
 * authentication / permission → venue_auth, unknown order → not_found, invalid order / insufficient
 * funds / bad request / bad symbol / refused operation → venue_rejected with the exchange's message,
 * network and availability errors → venue_unavailable, missing arguments → invalid_input,
 * anything else from the exchange → venue_error, anything else at all → internal.
 */
export function toHalyardError(err: unknown, where: { readonly target: string; readonly op: string }, classify?: (err: unknown, op: string) => HalyardError | undefined): HalyardError {
  if (isHalyardError(err)) return err;
  const specific = classify?.(err, where.op);
  if (specific) return specific;
  const said = exchangeMessage(err);
  const ctx = { target: where.target, op: where.op, ccxt: err instanceof Error ? err.name : typeof err };
  if (err instanceof errors.DuplicateOrderId) return new HalyardError('conflict', `${where.target}: client order id already used: ${said}`, ctx, err);
  if (err instanceof errors.AuthenticationError) {
    return new HalyardError('venue_auth', `${where.target} refused the API key/secret (${said}): check the credentials, their trading permission and IP whitelist`, ctx, err);
  }
  if (err instanceof errors.OrderNotFound) return new HalyardError('not_found', `${where.target}: ${said}`, ctx, err);
  if (err instanceof errors.ArgumentsRequired || err instanceof errors.NotSupported) return new HalyardError('invalid_input', `${where.target} ${where.op}: ${said}`, ctx, err);
  if (
    err instanceof errors.InvalidOrder ||
    err instanceof errors.InsufficientFunds ||
    err instanceof errors.BadRequest ||
    err instanceof errors.OperationRejected
  ) {
    return new HalyardError('venue_rejected', `${where.target} rejected ${where.op}: ${said}`, ctx, err);
  }
  if (isTransient(err)) return new HalyardError('venue_unavailable', `${where.target} ${where.op}: ${said}`, ctx, err);
  if (err instanceof errors.BaseError) return new HalyardError('venue_error', `${where.target} ${where.op}: ${said}`, ctx, err);
  return new HalyardError('internal', `${where.target} ${where.op}: ${err instanceof Error ? err.message : String(err)}`, ctx, err);
}
