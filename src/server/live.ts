import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/ports.ts';
import type { Database } from '../store/schema.ts';
import { activeTokenIds } from '../store/tokens.ts';
import type { MarkBook } from '../tracker/marks.ts';
import { changedTopics, fingerprint } from './changes.ts';

/** How often the hub looks for changes and new marks (ms), and how often a quiet stream gets a comment. */
export interface LiveTiming {
  readonly tickMs: number;
  readonly heartbeatMs: number;
}

/** How long pokes are gathered before their look (ms): a burst of signals elsewhere makes one look here. */
const POKE_MS = 50;

interface Stream {
  readonly userId: number;
  /** The API token the stream was opened with (null when opened without one, e.g. embedded). */
  readonly tokenId: number | null;
  readonly res: ServerResponse;
  /** The version of the user's marks this stream was last sent. */
  marksVersion: number;
}

/**
 * The server's live push (GET /api/stream, server-sent events): `marks` with the user's own marks when
 * they moved, `changed` with the topics whose data changed for that user. One loop serves every open
 * stream; a user's data is looked at only while that user has a stream open, and nothing of one user's
 * reaches another's stream.
 */
export class LiveHub {
  private readonly streams = new Set<Stream>();
  private readonly prints = new Map<number, Awaited<ReturnType<typeof fingerprint>>>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private busy = false;
  /** Users another server said changed, looked at when `pokeTimer` fires. */
  private readonly poked = new Set<number>();
  private pokeTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly marks: MarkBook,
    private readonly timing: LiveTiming,
    private readonly logger: FastifyBaseLogger,
    private readonly clock: Clock,
  ) {}

  /** Streams open now. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Takes over a response as an event stream of `userId` until the client goes away, or until the token it
   * was opened with (`tokenId`) is revoked or expires: then it gets a `signed_out` event and ends.
   */
  async open(userId: number, userName: string, res: ServerResponse, tokenId: number | null = null): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const s: Stream = { userId, tokenId, res, marksVersion: this.marks.version(userId) };
    this.streams.add(s);
    res.on('close', () => this.streams.delete(s));
    send(res, 'hello', { user: userName });
    send(res, 'marks', this.marks.all(userId));
    if (!this.prints.has(userId)) this.prints.set(userId, await fingerprint(this.db, userId));
    this.start();
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.pokeTimer = null;
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.timer = this.heartbeat = null;
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }

  private start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.timing.tickMs);
    this.heartbeat = setInterval(() => {
      for (const s of this.streams) s.res.write(': ping\n\n');
    }, this.timing.heartbeatMs);
    this.timer.unref();
    this.heartbeat.unref();
  }

  /**
   * Looks at `userId`'s marks and data soon (within `POKE_MS`) instead of at the next tick, when that user has
   * a stream here: another server said they changed. Pokes are gathered, and the look reads only the poked
   * users' own data.
   */
  poke(userId: number): void {
    if (![...this.streams].some((s) => s.userId === userId)) return;
    this.poked.add(userId);
    if (this.pokeTimer) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = null;
      const users = new Set(this.poked);
      this.poked.clear();
      void this.look(users);
    }, POKE_MS);
    this.pokeTimer.unref();
  }

  /** One look: each user's new marks and changed topics to that user's streams. */
  tick(): Promise<void> {
    return this.look(null);
  }

  /** A look at every user with a stream (`only` null: the tick), or at the poked users only. */
  private async look(only: ReadonlySet<number> | null): Promise<void> {
    if (this.streams.size === 0) return;
    if (this.busy) {
      // A poke during a look waits for the next one; a tick simply comes again.
      if (only) for (const u of only) this.poke(u);
      return;
    }
    this.busy = true;
    try {
      if (!only) await this.endSignedOut();
      for (const s of this.streams) {
        if (only && !only.has(s.userId)) continue;
        const v = this.marks.version(s.userId);
        if (v === s.marksVersion) continue;
        s.marksVersion = v;
        send(s.res, 'marks', this.marks.all(s.userId));
      }
      const users = new Set([...this.streams].map((s) => s.userId));
      if (!only) for (const id of [...this.prints.keys()]) if (!users.has(id)) this.prints.delete(id);
      for (const userId of users) {
        if (only && !only.has(userId)) continue;
        const now = await fingerprint(this.db, userId);
        const before = this.prints.get(userId);
        this.prints.set(userId, now);
        const topics = before ? changedTopics(before, now) : [];
        if (topics.length === 0) continue;
        for (const s of this.streams) if (s.userId === userId) send(s.res, 'changed', { topics });
      }
    } catch (e) {
      // A failed look (database busy, closing) is retried on the next tick.
      this.logger.warn({ err: e }, 'live push: looking for changes failed');
    } finally {
      this.busy = false;
    }
  }

  /** Ends the streams whose token was revoked or has expired since they opened (looked at every tick). */
  private async endSignedOut(): Promise<void> {
    const ids = [...new Set([...this.streams].flatMap((s) => (s.tokenId === null ? [] : [s.tokenId])))];
    if (ids.length === 0) return;
    const active = await activeTokenIds(this.db, ids, this.clock.now());
    for (const s of [...this.streams]) {
      if (s.tokenId === null || active.has(s.tokenId)) continue;
      send(s.res, 'signed_out', { reason: 'the API token of this stream was revoked or has expired: sign in again' });
      s.res.end();
      this.streams.delete(s);
    }
  }
}

function send(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
