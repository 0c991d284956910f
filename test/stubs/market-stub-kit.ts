// Shared parts of the market-data stub servers: a deterministic candle series with taker-buy volume,
// request logging, fault injection and a tiny HTTP router on 127.0.0.1.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CandleColumns } from '../../src/core/candles.ts';
import { SeededRandom } from '../../src/core/rng.ts';
import { syntheticCandles } from '../../src/data/synthetic.ts';

/** A candle series a stub serves: synthetic candles plus taker-buy base volume per candle. */
export interface StubSeries {
  readonly candles: CandleColumns;
  /** Taker-buy base volume per candle (0.001 steps, at most the candle's volume). */
  readonly takerBuy: Float64Array;
  /** Candle length, ms. */
  readonly step: number;
}

/** A deterministic 1m series of `count` candles from `from` (epoch ms) for `seed`. */
export function stubSeries(count: number, from: number, seed = 11): StubSeries {
  const candles = syntheticCandles({ seed, count, from });
  const rng = new SeededRandom(seed * 7919);
  const takerBuy = candles.volume.map((v) => Math.round(v * rng.next() * 1000) / 1000);
  return { candles, takerBuy, step: 60_000 };
}

/** An injected failure for one request: an HTTP error status with a body (and Retry-After), or a delay. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly body: unknown; readonly retryAfter?: number }
  | { readonly kind: 'delay'; readonly ms: number };

/** One request the stub received. */
export interface StubRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** Rows the stub answered with (for list endpoints), -1 for faults. */
  rows: number;
}

/** What a route answers: a JSON body (status 200 unless given) plus rows served, for the request log. */
export interface RouteAnswer {
  readonly body: unknown;
  readonly status?: number;
  readonly rows?: number;
}

/** A route handler: query parameters (and the parsed JSON body of a POST) in, an answer out. */
export type Route = (query: Record<string, string>, body: unknown) => RouteAnswer;

/** The HTTP half of a stub: routes by `METHOD path`, a request log and per-path fault queues. */
export class HttpStub {
  readonly server: Server;
  readonly requests: StubRequest[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly routes: Readonly<Record<string, Route>>) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on 127.0.0.1 on a free port; resolves the base URL. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Queues faults for the next requests to `path` (one fault per request, in order). */
  inject(path: string, ...faults: Fault[]): void {
    this.faults.set(path, [...(this.faults.get(path) ?? []), ...faults]);
  }

  /** Requests made to `path` so far. */
  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  /** Forgets the request log and any faults still queued. */
  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
  }

  /** Stops listening and drops every connection and pending delayed answer. */
  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://stub');
    const query = Object.fromEntries(url.searchParams);
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const entry: StubRequest = { method: req.method ?? 'GET', path: url.pathname, query, rows: -1 };
    this.requests.push(entry);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fault = this.faults.get(url.pathname)?.shift();
    if (fault?.kind === 'status') return send(fault.status, fault.body, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
    if (fault?.kind === 'delay') await new Promise<void>((resolve) => this.timers.add(setTimeout(resolve, fault.ms)));
    const route = this.routes[`${entry.method} ${url.pathname}`];
    if (!route) return send(404, { code: -1, msg: `stub: no route ${entry.method} ${url.pathname}` });
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      return send(400, { code: -1, msg: 'stub: body is not JSON' });
    }
    const answer = route(query, body);
    entry.rows = answer.rows ?? -1;
    send(answer.status ?? 200, answer.body);
  }
}

/** Formats a number as an exchange does in JSON strings (shortest round-trip form). */
export const str = (x: number): string => String(x);
