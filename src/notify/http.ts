import { HalyardError, errorMessage, isHalyardError, type ErrorCode } from '../core/errors.ts';
import type { RetryPolicy } from '../exchange/retry.ts';

/** One HTTP answer, its body read as text. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** How long one outgoing notification request may take before it counts as a network failure (ms). */
export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

/**
 * POSTs a JSON `body` and reads the answer. A failure to get an answer at all (refused, reset, timed out)
 * is a HalyardError `venue_unavailable`, which `withRetry` retries. `label` names the service in errors; the
 * URL is never put in a message because webhook URLs and bot URLs carry their secret.
 */
export async function postJson(url: string, body: string, label: string, headers: Readonly<Record<string, string>> = {}, timeoutMs = DEFAULT_HTTP_TIMEOUT_MS): Promise<HttpAnswer> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'halyard', ...headers },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  } catch (e) {
    throw new HalyardError('venue_unavailable', `${label}: no answer (${networkReason(e)})`, { label }, e);
  }
}

/** A short reason for a failed fetch: the socket error code when there is one (ECONNREFUSED), else the message. */
export function networkReason(e: unknown): string {
  const cause = e instanceof Error ? e.cause : undefined;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? (cause as { code: unknown }).code : undefined;
  if (typeof code === 'string') return code;
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timeout';
  return errorMessage(e);
}

/** The error for a non-2xx answer: 429, 408 and 5xx are `venue_unavailable` (retried), 401/403 `venue_auth`, other 4xx `venue_rejected`. */
export function answerError(label: string, answer: HttpAnswer, detail: string, retryAfterMs?: number): HalyardError {
  const s = answer.status;
  const code: ErrorCode = s === 429 || s === 408 || s >= 500 ? 'venue_unavailable' : s === 401 || s === 403 ? 'venue_auth' : 'venue_rejected';
  const context: Record<string, unknown> = { label, status: s };
  if (retryAfterMs !== undefined) context.retryAfterMs = retryAfterMs;
  return new HalyardError(code, `${label}: HTTP ${s}${detail ? ` ${detail}` : ''}`, context);
}

/** The wait a rate-limited answer asked for (ms), carried in the error's context by `answerError`. */
export function retryAfterOf(err: unknown): number | undefined {
  if (!isHalyardError(err)) return undefined;
  const v = err.context.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The body as a JSON object, or undefined when it is not one. */
export function jsonObject(text: string): Readonly<Record<string, unknown>> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A finite number of seconds read from a JSON value or a header, as ms; undefined otherwise. */
export function secondsToMs(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/**
 * Cuts `text` to at most `max` UTF-16 units (which is never more characters than the services count), ending
 * in `…` when it was cut, and never in the middle of a character.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const ch of text) {
    if (out.length + ch.length > max - 1) break;
    out += ch;
  }
  return `${out}…`;
}

/** How a notifier retries: the `RetryPolicy` of exchange/retry.ts (attempts, backoff, cap; sleep and rng injectable). */
export type NotifyRetryPolicy = Omit<RetryPolicy, 'isTransient' | 'retryAfterMs' | 'label'>;

/** Default for alerts: 4 attempts, waits of up to 0.5 s, 1 s, 2 s; a rate limit's wait capped at 30 s. */
export const DEFAULT_NOTIFY_POLICY: NotifyRetryPolicy = Object.freeze({ maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 });
