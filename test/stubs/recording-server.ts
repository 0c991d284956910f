import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a stub received it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query string. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body. */
  readonly body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly json: unknown;
}

/** What a stub answers: status, JSON body (or raw text), extra headers. */
export interface StubAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** The answer is sent only once this settles (a request kept in flight). */
  readonly hold?: Promise<void>;
}

/** A loopback HTTP server that records every request and answers through a handler or scripted answers. */
export interface RecordingServer {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  readonly port: number;
  /** Every request received, in order (scripted answers included). */
  readonly requests: RecordedRequest[];
  /** The next `n` requests get `answer` instead of the handler's (queued after earlier scripts). */
  answerNext(n: number, answer: StubAnswer): void;
  /** Closes the listening socket and every open connection: requests now fail to connect. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

const parse = (body: string): unknown => {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
};

/** Starts a recording server on 127.0.0.1 (a free port). */
export async function startRecordingServer(handle: (req: RecordedRequest) => StubAnswer): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const scripted: StubAnswer[] = [];
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, json: parse(body) };
      requests.push(rec);
      const answer = scripted.shift() ?? handle(rec);
      void (answer.hold ?? Promise.resolve()).then(() => send(res, answer));
    });
  };
  const send = (res: ServerResponse, answer: StubAnswer): void => {
    const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    res.writeHead(answer.status, { ...(text && typeof answer.body !== 'string' ? { 'content-type': 'application/json' } : {}), ...answer.headers });
    res.end(text);
  };
  let server: Server = createServer(serve);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  let listening = true;
  const shut = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    requests,
    answerNext(n, answer) {
      for (let i = 0; i < n; i++) scripted.push(answer);
    },
    down: shut,
    async up() {
      if (listening) return;
      server = createServer(serve);
      await listen(port);
      listening = true;
    },
    close: shut,
  };
}
