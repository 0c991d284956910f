import pg from 'pg';
import { errorMessage } from '../core/errors.ts';

/** The PostgreSQL channel the servers of one database tell each other about live changes on. */
export const LIVE_CHANNEL = 'halyard_live';

/** PostgreSQL refuses NOTIFY payloads of 8,000 bytes and more; messages are cut in parts below this. */
const MAX_PAYLOAD = 7_000;

/** What a server does with another server's news (each names one user: only that user's state moves). */
export interface LiveBusHandlers {
  /** A price of `userId`'s ticker, seen at `ts` (epoch ms) by another server. */
  mark(userId: number, ticker: string, price: number, ts: number): void;
  /** `userId`'s data changed on another server (its streams here should look now). */
  changed(userId: number): void;
}

/** Where the bus logs (a pino logger fits). */
export interface LiveBusLog {
  warn(obj: object, msg: string): void;
}

/** One user's news in a message: `[user id, {ticker: [price, ts]}]`. */
type UserNews = [number, Record<string, [number, number]>];

/** A NOTIFY payload: the sending server and its users' news. */
interface Message {
  readonly o: string;
  readonly u: UserNews[];
}

/**
 * The live push across servers on one PostgreSQL database: each server LISTENs on `halyard_live` with one
 * dedicated connection, and NOTIFYs there what moved here (a user's new marks, that a user's data changed),
 * gathered for `flushMs` into one notification. What arrives from another server goes to the handlers,
 * which feed this server's mark book and wake that user's streams: the same per-user paths as local news,
 * so a stream still shows only its own user's data. Lost news (a dropped connection) is not replayed: the
 * hub's own look at the database every second still finds the data changes.
 */
export class PgLiveBus {
  private client: pg.Client | null = null;
  private readonly news = new Map<number, Record<string, [number, number]>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private flushing: Promise<void> = Promise.resolve();
  /** Notifications received from other servers (operators and tests). */
  received = 0;

  constructor(
    private readonly url: string,
    /** This server's name in the messages (its own are ignored when they come back). */
    private readonly origin: string,
    private readonly handlers: LiveBusHandlers,
    private readonly log?: LiveBusLog,
    private readonly flushMs = 20,
  ) {}

  /** Connects and listens (a failure is retried in the background, so a server starts without the bus). */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.log?.warn({ err: errorMessage(e) }, 'live push across servers: LISTEN failed; retrying');
      this.reconnectSoon();
    }
  }

  /** Tells the other servers about a new mark of `userId` (and so that the user's data changed). */
  mark(userId: number, ticker: string, price: number, ts: number): void {
    this.userNews(userId)[ticker] = [price, ts];
    this.schedule();
  }

  /** Tells the other servers that `userId`'s data changed. */
  changed(userId: number): void {
    this.userNews(userId);
    this.schedule();
  }

  /** Sends what is gathered, then closes the connection. */
  async stop(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    await this.flush();
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private userNews(userId: number): Record<string, [number, number]> {
    let n = this.news.get(userId);
    if (!n) this.news.set(userId, (n = {}));
    return n;
  }

  private schedule(): void {
    if (this.flushTimer || this.stopped) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, this.flushMs);
  }

  private flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.news.size === 0) return;
      const all: UserNews[] = [...this.news].map(([u, m]) => [u, m]);
      this.news.clear();
      const c = this.client;
      if (!c) return; // not connected: the other servers' looks at the database find the changes
      for (const payload of payloads(this.origin, all)) {
        try {
          await c.query('select pg_notify($1, $2)', [LIVE_CHANNEL, payload]);
        } catch (e) {
          this.log?.warn({ err: errorMessage(e) }, 'live push across servers: NOTIFY failed');
          return;
        }
      }
    });
    return this.flushing;
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url });
    c.on('error', (e) => this.lost(c, e));
    c.on('end', () => this.lost(c));
    c.on('notification', (n) => {
      if (n.channel === LIVE_CHANNEL && n.payload) this.receive(n.payload);
    });
    await c.connect();
    await c.query(`LISTEN ${LIVE_CHANNEL}`);
    if (this.stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    this.client = c;
  }

  private lost(c: pg.Client, e?: Error): void {
    if (this.client !== c) return;
    this.client = null;
    if (this.stopped) return;
    this.log?.warn({ err: e ? errorMessage(e) : 'connection ended' }, 'live push across servers: connection lost; reconnecting');
    void c.end().catch(() => undefined);
    this.reconnectSoon();
  }

  private reconnectSoon(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch((e: unknown) => {
        this.log?.warn({ err: errorMessage(e) }, 'live push across servers: reconnect failed');
        this.reconnectSoon();
      });
    }, 1_000);
    this.reconnectTimer.unref();
  }

  private receive(payload: string): void {
    let m: Message;
    try {
      m = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (m.o === this.origin || !Array.isArray(m.u)) return;
    this.received += 1;
    for (const [userId, marks] of m.u) {
      if (!Number.isInteger(userId)) continue;
      for (const [ticker, v] of Object.entries(marks ?? {})) {
        if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'number') this.handlers.mark(userId, ticker, v[0], v[1]);
      }
      this.handlers.changed(userId);
    }
  }
}

/** The news as NOTIFY payloads under the size limit (a user's marks go 50 tickers to a part at most). */
function payloads(origin: string, all: readonly UserNews[]): string[] {
  const pieces: string[] = [];
  for (const [u, marks] of all) {
    const entries = Object.entries(marks);
    if (entries.length === 0) pieces.push(JSON.stringify([u, {}]));
    for (let i = 0; i < entries.length; i += 50) pieces.push(JSON.stringify([u, Object.fromEntries(entries.slice(i, i + 50))]));
  }
  const head = `{"o":${JSON.stringify(origin)},"u":[`;
  const out: string[] = [];
  let part: string[] = [];
  let size = head.length + 2;
  for (const p of pieces) {
    if (part.length > 0 && size + p.length + 1 > MAX_PAYLOAD) {
      out.push(`${head}${part.join(',')}]}`);
      part = [];
      size = head.length + 2;
    }
    part.push(p);
    size += p.length + 1;
  }
  if (part.length > 0) out.push(`${head}${part.join(',')}]}`);
  return out;
}
