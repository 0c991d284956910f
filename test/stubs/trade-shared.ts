import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isHalyardError } from '../../src/core/errors.ts';
import { ManualClock } from '../../src/core/ports.ts';
import { SimVenue, type SimInstrument } from '../../src/exchange/sim/index.ts';

/** One request as the stub received it; `params` merges the query string and the (form or JSON) body. */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, unknown>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a route answers: an HTTP status, a JSON body (or raw text) and extra headers. */
export interface StubResponse {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send `body` as is (not JSON-encoded). */
  readonly raw?: boolean;
}

/** Faults the next requests get: a rate limit, a server error, or a lost answer (the request is processed). */
export type FaultKind = '429' | '500' | 'timeout';

/** A running exchange stub: real HTTP on loopback, a SimVenue behind it. */
export interface TradeStub {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: readonly StubRequest[];
  /** The matching engine behind the wire format. */
  readonly sim: SimVenue;
  /** Requests received so far. */
  requestCount(): number;
  /** Moves the market (quote); resting orders it reaches execute. */
  setPrice(symbol: string, price: number): Promise<void>;
  /**
   * The next `n` requests (to `path` only, when given) fail with `kind`; a `timeout` request is still
   * processed, its answer never comes.
   */
  failNext(n: number, kind: FaultKind, path?: string): void;
  /** Drops the faults not yet served (the exchange is back). */
  clearFaults(): void;
  close(): Promise<void>;
}

/** The exchange-specific parts of a stub. */
export interface StubRoutes {
  /** Answers one request (exchange wire format). */
  handle(req: StubRequest): Promise<StubResponse>;
  /** The exchange's answer to a rate-limit or server-error fault. */
  fault(kind: '429' | '500'): StubResponse;
}

/** Settings shared by the three stubs. */
export interface StubOptions {
  /** Starting balance (quote, default 10,000). */
  readonly balance?: number;
  /** The key the stub accepts (Binance, Bybit); anything else gets the exchange's auth error. */
  readonly apiKey?: string;
  /** Taker fee (bps, default 5). */
  readonly takerFeeBps?: number;
}

/** Why the sim refused (its HalyardError code and message), read into a small set of reasons stubs translate. */
export type SimRefusal = 'duplicate' | 'not_found' | 'reduce_only' | 'would_trigger' | 'margin' | 'min_qty' | 'unknown_symbol' | 'mode_locked' | 'position_side' | 'invalid';

/** Reads a SimVenue HalyardError into a reason and the sim's message. Rethrows anything else. */
export function simRefusal(err: unknown): { readonly reason: SimRefusal; readonly message: string } {
  if (!isHalyardError(err)) throw err;
  const m = err.message;
  const reason: SimRefusal =
    err.code === 'conflict'
      ? 'duplicate'
      : err.code === 'not_found'
        ? 'not_found'
        : /reduce-only/.test(m)
          ? 'reduce_only'
          : /trigger immediately/.test(m)
            ? 'would_trigger'
            : /margin is insufficient/.test(m)
              ? 'margin'
              : /below the minimum/.test(m)
                ? 'min_qty'
                : /unknown symbol/.test(m)
                  ? 'unknown_symbol'
                  : /position mode cannot change/.test(m)
                    ? 'mode_locked'
                    : /positionSide|hedge mode/.test(m)
                      ? 'position_side'
                      : 'invalid';
  return { reason, message: m };
}

/** A fresh SimVenue for a stub: fixed clock, given balance, currency and instruments. */
export function stubSim(options: StubOptions, currency: string, instruments?: Readonly<Record<string, SimInstrument>>): SimVenue {
  return new SimVenue({
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    balance: options.balance ?? 10_000,
    takerFeeBps: options.takerFeeBps ?? 5,
    currency,
    ...(instruments ? { instruments } : {}),
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseParams(url: URL, body: string, contentType: string | undefined): Record<string, unknown> {
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams.entries());
  if (body === '') return params;
  if ((contentType ?? '').includes('json') || body.startsWith('{') || body.startsWith('[')) {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) Object.assign(params, parsed);
    return params;
  }
  for (const [k, v] of new URLSearchParams(body)) params[k] = v;
  return params;
}

/** Starts a stub on 127.0.0.1 (port 0) serving `routes`, with request log and fault injection. */
export async function startStub(sim: SimVenue, routes: StubRoutes): Promise<TradeStub> {
  const requests: StubRequest[] = [];
  const faults: { readonly kind: FaultKind; readonly path: string | undefined }[] = [];
  const send = (res: ServerResponse, r: StubResponse): void => {
    const text = r.raw === true ? String(r.body) : JSON.stringify(r.body);
    res.writeHead(r.status, { 'Content-Type': r.raw === true ? 'text/html' : 'application/json', ...r.headers });
    res.end(text);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stub');
      const body = await readBody(req);
      const entry: StubRequest = { method: req.method ?? 'GET', path: url.pathname, params: parseParams(url, body, req.headers['content-type']), headers: req.headers };
      requests.push(entry);
      const at = faults.findIndex((f) => f.path === undefined || f.path === entry.path);
      const fault = at < 0 ? undefined : faults.splice(at, 1)[0]?.kind;
      if (fault === '429' || fault === '500') return send(res, routes.fault(fault));
      const answer = await routes.handle(entry);
      if (fault === 'timeout') return; // processed, but the answer is lost: the client times out
      send(res, answer);
    })().catch((e: unknown) => send(res, { status: 500, body: `stub error: ${e instanceof Error ? e.stack : String(e)}`, raw: true }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    sim,
    requestCount: () => requests.length,
    setPrice: (symbol, price) => sim.setPrice(symbol, price),
    failNext(n: number, kind: FaultKind, path?: string): void {
      for (let i = 0; i < n; i++) faults.push({ kind, path });
    },
    clearFaults(): void {
      faults.length = 0;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Decimal text of a number as exchanges print it (no exponent). */
export function dec(x: number | null | undefined, digits = 8): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '0';
  return String(Number(x.toFixed(digits)));
}
