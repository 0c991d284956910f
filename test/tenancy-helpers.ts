// Helpers of test/tenancy.test.ts: the routes from the server's OpenAPI document, request bodies from
// their schemas, a server-sent-events reader, and a fingerprint of everything one user owns in the store.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../src/store/schema.ts';

/** A JSON schema as @fastify/swagger writes it (the part the body generator reads). */
export interface JsonSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly properties?: Record<string, JsonSchema>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly default?: unknown;
}

interface OpenApiParameter {
  readonly in: string;
  readonly name: string;
  readonly required?: boolean;
}

interface OpenApiOperation {
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: JsonSchema }> };
  readonly security?: unknown;
}

/** One route × method of the OpenAPI document. */
export interface Route {
  readonly method: string;
  /** The OpenAPI path, e.g. `/api/recorders/{id}`. */
  readonly path: string;
  /** Its path parameters, each with the path segment before it (`recorders/{id}`): what the id table is keyed by. */
  readonly pathParams: readonly { readonly name: string; readonly key: string }[];
  readonly query: readonly { readonly name: string; readonly required: boolean }[];
  readonly body: JsonSchema | null;
}

/** Every route and method the server documents (GET /docs/json), in document order. */
export async function documentedRoutes(base: string): Promise<Route[]> {
  const doc = (await (await fetch(`${base}/docs/json`)).json()) as { paths: Record<string, Record<string, OpenApiOperation>> };
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const params = op.parameters ?? [];
      const pathParams = params
        .filter((p) => p.in === 'path')
        .map((p) => {
          const m = new RegExp(`([^/]+)/\\{${p.name}\\}`).exec(path);
          return { name: p.name, key: `${m?.[1] ?? ''}/{${p.name}}` };
        });
      const query = params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: p.required === true }));
      out.push({ method: method.toUpperCase(), path, pathParams, query, body: op.requestBody?.content?.['application/json']?.schema ?? null });
    }
  }
  return out;
}

/** Values of body fields by name: one value, or several (one request per value). */
export type FieldValues = Record<string, unknown>;

/**
 * Bodies for a schema: every field named in `values` takes its value (a field with a list of values gives
 * one body per value, the others at their first), every other required field a plausible value of its type.
 */
export function bodiesFor(schema: JsonSchema, values: FieldValues, lists: Record<string, readonly unknown[]> = {}): Record<string, unknown>[] {
  const base: Record<string, unknown> = {};
  const props = schema.properties ?? {};
  for (const [name, s] of Object.entries(props)) {
    if (name in lists) base[name] = lists[name]?.[0];
    else if (name in values) base[name] = values[name];
    else if (schema.required?.includes(name)) base[name] = plausible(s);
  }
  const out = [base];
  for (const [name, list] of Object.entries(lists)) if (name in props) for (const v of list.slice(1)) out.push({ ...base, [name]: v });
  return out;
}

function plausible(s: JsonSchema): unknown {
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  if (s.anyOf?.[0]) return plausible(s.anyOf[0]);
  switch (s.type) {
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      return bodiesFor(s, {})[0];
    default:
      return 'tenancy-b';
  }
}

/** An answer as text (a server-sent-events answer: its first `events` events, then the stream is closed). */
export async function call(url: string, init: RequestInit, events = 2): Promise<{ status: number; text: string }> {
  const ctl = new AbortController();
  const res = await fetch(url, { ...init, signal: ctl.signal });
  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) return { status: res.status, text: await res.text() };
  const s = await sse(res, ctl);
  while (s.events.length < events) await s.next();
  await s.close();
  return { status: res.status, text: s.events.map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}`).join('\n\n') };
}

/** One server-sent event. */
export interface SseEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
}

/** Moves the whole events at the head of `buf` (server-sent-events text) onto `events`; returns the rest (an event not yet whole). */
function takeEvents(buf: string, events: SseEvent[]): string {
  let cut: number;
  while ((cut = buf.indexOf('\n\n')) >= 0) {
    const block = buf.slice(0, cut);
    buf = buf.slice(cut + 2);
    const ev = /^event: (.*)$/m.exec(block)?.[1];
    const data = /^data: (.*)$/m.exec(block)?.[1];
    if (ev && data) events.push({ event: ev, data: JSON.parse(data) as Record<string, unknown> });
  }
  return buf;
}

/**
 * Reads a server-sent-events answer in the background until it ends: `state` holds its raw `text`, its
 * `events` as they come and whether it `ended`; `done` settles when it ends (abort the request to end it).
 */
export function pumpSse(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const state = { text: '', events: [] as SseEvent[], ended: false };
  let buf = '';
  const done = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return void (state.ended = true);
      state.text += value;
      buf = takeEvents(buf + value, state.events);
    }
  })();
  return { state, done, cancel: () => reader.cancel().catch(() => {}) };
}

/** Reads a server-sent-events answer: `next()` waits for the next event; `until(pred)` for one that matches. */
export async function sse(res: Response, ctl: AbortController) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buf = '';
  const next = async (): Promise<void> => {
    const before = events.length;
    while (events.length === before) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buf = takeEvents(buf + value, events);
    }
  };
  const until = async (pred: (e: SseEvent) => boolean): Promise<SseEvent> => {
    for (;;) {
      const hit = events.find(pred);
      if (hit) return hit;
      await next();
    }
  };
  const close = async (): Promise<void> => {
    ctl.abort();
    await reader.cancel().catch(() => undefined);
  };
  return { events, next, until, close };
}

/**
 * Everything `userId` owns in the store, as sorted JSON lines: the rows of every table with a `user_id`
 * column, and of every table keyed by one of the user's recorders or positions. A table added later is
 * covered by the same rule.
 */
export async function ownedRows(db: Kysely<Database>, userId: number): Promise<string[]> {
  const tables = await db.introspection.getTables();
  const loose = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const recorders = (await db.selectFrom('recorders').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
  const positions = (await db.selectFrom('positions').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
  const out: string[] = [JSON.stringify(await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst())];
  for (const t of tables) {
    const cols = new Set(t.columns.map((c) => c.name));
    const by = cols.has('user_id') ? { col: 'user_id', ids: [userId] } : cols.has('recorder_id') ? { col: 'recorder_id', ids: recorders } : cols.has('position_id') && t.name !== 'run_positions' && t.name !== 'run_trades' ? { col: 'position_id', ids: positions } : null;
    if (!by || by.ids.length === 0) continue;
    const rows = await loose.selectFrom(t.name).selectAll().where(sql.ref(by.col), 'in', by.ids).execute();
    for (const r of rows) out.push(`${t.name} ${JSON.stringify(r)}`);
  }
  return out.sort();
}
