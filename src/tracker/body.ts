import { errorMessage } from '../core/errors.ts';
import { jsonTooDeep, tooDeepMessage } from '../core/json-depth.ts';
import { isObject, KNOWN_KEYS } from './formats.ts';
import { reject } from './parse-values.ts';

/** A webhook body decoded into its container, before any field is read. */
export type DecodedBody =
  | { readonly kind: 'json'; readonly fields: Readonly<Record<string, unknown>> }
  | { readonly kind: 'form'; readonly fields: Readonly<Record<string, string>> }
  | { readonly kind: 'text'; readonly parts: readonly string[] };

/**
 * Decodes a body by its content: a JSON object, form fields, or comma-separated text. `contentType` only
 * helps name a JSON scalar; it never decides the format (TradingView sends text/plain for JSON).
 * Throws a `Rejection` for an empty or undecodable body.
 */
export function decodeBody(raw: string, contentType?: string): DecodedBody {
  const body = raw.replace(/^\uFEFF/, '').trim();
  if (body === '') reject('empty body');
  const first = body[0];
  // Counted on the text before JSON.parse: a body 4,000 levels deep must cost one scan, not a deep walk.
  if (jsonTooDeep(body)) reject(tooDeepMessage());
  if (first === '{' || first === '[') return { kind: 'json', fields: jsonObject(parseJson(body)) };
  if (first === '"' || /\bjson\b/i.test(contentType ?? '')) {
    const value = tryJson(body);
    if (value !== undefined) return { kind: 'json', fields: jsonObject(value) };
  }
  if (looksLikeForm(body)) return { kind: 'form', fields: formFields(body) };
  if (/[\r\n]/.test(body)) reject('one signal per body: the text has several lines');
  return { kind: 'text', parts: splitCommas(body) };
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    const placeholder = /\{\{[^{}]*\}\}/.exec(body)?.[0];
    const hint = placeholder === undefined ? '' : ` (the body still holds the placeholder ${placeholder}: TradingView did not expand it)`;
    return reject(`invalid JSON: ${errorMessage(err)}${hint}`);
  }
}

function tryJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function jsonObject(value: unknown): Readonly<Record<string, unknown>> {
  if (isObject(value)) return value;
  const kind = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
  return reject(`the JSON body is ${kind}: a signal is one JSON object`);
}

const FORM_PAIR = /^[A-Za-z_%][\w.%[\]-]*=[^&]*$/;

/** `a=b&c=d`, or a lone `key=value` whose key a format reads (so `buy,BTCUSDT,qty=1` stays comma text). */
function looksLikeForm(body: string): boolean {
  if (/[\r\n]/.test(body)) return false;
  const pairs = body.split('&').filter((pair) => pair !== '');
  if (pairs.length === 0 || !pairs.every((pair) => FORM_PAIR.test(pair))) return false;
  return pairs.length > 1 || KNOWN_KEYS.has(body.slice(0, body.indexOf('=')));
}

function formFields(body: string): Readonly<Record<string, string>> {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    const earlier = fields.get(key);
    if (earlier !== undefined && earlier !== value) reject(`form field ${key} is given twice with different values`);
    fields.set(key, value);
  }
  return Object.fromEntries(fields);
}

/** Splits at commas outside double quotes (PineConnector quotes a comment that has commas), trimming each part. */
function splitCommas(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  return parts;
}
