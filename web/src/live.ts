import { reportUnauthorized, type Marks } from './api.ts';

/** What the server pushes on GET /api/stream. */
export type LiveEvent =
  | { readonly kind: 'hello'; readonly user: string }
  | { readonly kind: 'marks'; readonly marks: Marks }
  | { readonly kind: 'changed'; readonly topics: readonly string[] };

/** State of the push connection, shown in the header. */
export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'offline';

type Listener = (e: LiveEvent) => void;

/**
 * The server's live push (server-sent events read through fetch, so the bearer token goes in a header,
 * never in a URL). Reconnects with backoff (1 s doubling to 15 s) and tells listeners `changed` with every
 * topic after a reconnect, so pages reload what they may have missed.
 */
export class Live {
  private readonly listeners = new Set<Listener>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private abort: AbortController | null = null;
  private stopped = false;
  private retryMs = 1000;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Latest marks by ticker (kept across pages). */
  readonly marks = new Map<string, { price: number; ts: number }>();
  state: LiveState = 'connecting';

  constructor(private readonly token: string) {}

  /** Opens the stream (and keeps it open until stop()). */
  start(): void {
    this.stopped = false;
    void this.connect(false);
  }

  /** Closes the stream for good (sign-out). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort();
    this.setState('offline');
  }

  /** Listens to pushed events; returns the function that stops listening. */
  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Listens to connection state changes; returns the function that stops listening. */
  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    fn(this.state);
    return () => this.stateListeners.delete(fn);
  }

  private setState(s: LiveState): void {
    if (s === this.state) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private emit(e: LiveEvent): void {
    if (e.kind === 'marks') for (const [k, v] of Object.entries(e.marks)) this.marks.set(k, v);
    for (const fn of this.listeners) fn(e);
  }

  private async connect(reconnect: boolean): Promise<void> {
    if (this.stopped) return;
    this.abort = new AbortController();
    try {
      const res = await fetch('/api/stream', { headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' }, signal: this.abort.signal });
      // A revoked or expired token: reconnecting cannot help, the shell signs out instead.
      if (res.status === 401) return this.unauthorized(res);
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      this.setState('live');
      this.retryMs = 1000;
      // After a gap, everything may have changed.
      if (reconnect) this.emit({ kind: 'changed', topics: ['*'] });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          this.dispatch(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
        }
      }
      throw new Error('stream ended');
    } catch {
      if (this.stopped) return;
      this.setState('reconnecting');
      this.timer = setTimeout(() => void this.connect(true), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15_000);
    }
  }

  private async unauthorized(res: Response): Promise<void> {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    this.stop();
    reportUnauthorized(body?.error?.message ?? 'the server no longer knows this token');
  }

  private dispatch(block: string): void {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (!data) return;
    try {
      const payload = JSON.parse(data) as Record<string, unknown>;
      if (event === 'marks') this.emit({ kind: 'marks', marks: payload as Marks });
      else if (event === 'changed') this.emit({ kind: 'changed', topics: (payload.topics as string[] | undefined) ?? ['*'] });
      else if (event === 'hello') this.emit({ kind: 'hello', user: String(payload.user ?? '') });
    } catch {
      // A malformed event is skipped; the next one may be fine.
    }
  }
}

/** True when a `changed` event concerns one of `topics` ('*' concerns all). */
export function touches(e: LiveEvent, ...topics: string[]): boolean {
  return e.kind === 'changed' && e.topics.some((t) => t === '*' || topics.includes(t));
}
