import type { Kysely } from 'kysely';
import { z } from 'zod';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { insertEngineEvent } from '../store/engine-events.ts';
import { engineSourceById, quietPollableSources, touchLastPoll, type EngineSource } from '../store/engine-sources.ts';
import { hasActiveJob } from '../store/jobs.ts';
import type { Database } from '../store/schema.ts';
import type { SecretBox } from '../store/secrets.ts';
import { completeData, EnginePositionDataSchema } from './engine-intake.ts';
import { applyEngineEvent, enginePositionId, positionChanged, rowOfEvent, type EngineEvent } from './engine-positions.ts';
import { enqueue, type JobLog, type JobWorker } from './jobs.ts';
import type { TargetRefresher } from './refresh-port.ts';

/** Job kind of one poll of one source (payload `{ sourceId }`). */
export const ENGINE_POLL_JOB = 'engine_poll';

/** What an engine's `/positions/active` and `/positions/history` answer. */
export const EnginePositionsAnswerSchema = z.object({
  run_id: z.string().nullable().optional(),
  /** Target key of the run (`exchange:env`); the source's default when absent. */
  target: z.string().nullable().optional(),
  strategy: z.string().min(1).max(100).nullable().optional(),
  positions: z.array(EnginePositionDataSchema),
});
type Answer = z.infer<typeof EnginePositionsAnswerSchema>;

/** What one poll found and did. */
export interface PollReport {
  /** Positions the engine listed. */
  readonly seen: number;
  /** Positions that differed from the ledger and were applied. */
  readonly applied: number;
}

/**
 * The fallback when events stop arriving: every interval, each source with a poll URL whose last event is
 * older than the interval gets an `engine_poll` job, which reads the engine's open positions and recent
 * history and applies every position that differs from the ledger through the same path as an event
 * (stored in engine_events as `poll:<time>:<id>`, the poll time as the event time).
 */
export class EnginePoller {
  private timer: NodeJS.Timeout | null = null;
  /** Whether this server queues the polls now (a fleet of servers gives the ticks to one at a time). */
  gate: () => boolean = () => true;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly box: SecretBox | undefined,
    /** Seconds between ticks, and how long a source must be quiet before it is polled. */
    private readonly intervalS: number,
    private readonly jobs: JobWorker,
    private readonly refresher?: TargetRefresher,
    private readonly log?: JobLog,
    /** Timeout of each request to an engine (ms). */
    private readonly fetchTimeoutMs = 10_000,
  ) {}

  /** Registers the `engine_poll` job kind on the worker. */
  register(): void {
    this.jobs.register(ENGINE_POLL_JOB, async (payload) => {
      const id = (payload as { sourceId?: unknown } | null)?.sourceId;
      if (typeof id !== 'string') throw new HalyardError('data_corrupt', 'engine_poll job without a sourceId');
      await this.poll(id);
    });
  }

  /** Ticks now and then every interval. */
  start(): void {
    const tick = (): void => {
      this.tick().catch((e: unknown) => this.log?.warn({ err: errorMessage(e) }, 'engine poll scheduling failed'));
    };
    tick();
    this.timer = setInterval(tick, this.intervalS * 1000);
    this.timer.unref();
  }

  /** Stops ticking (jobs already queued stay queued). */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Queues a poll for every quiet source that has none queued or running (while the gate is open); returns how many were queued. */
  async tick(): Promise<number> {
    if (!this.gate()) return 0;
    const now = this.clock.now();
    let queued = 0;
    for (const s of await quietPollableSources(this.db, now - this.intervalS * 1000)) {
      const payload = { sourceId: s.id };
      if (await hasActiveJob(this.db, ENGINE_POLL_JOB, payload)) continue;
      await enqueue(this.db, ENGINE_POLL_JOB, payload, now);
      queued += 1;
    }
    if (queued > 0) this.jobs.wake();
    return queued;
  }

  /** Polls one source now and heals the ledger from what the engine lists. */
  async poll(sourceId: string): Promise<PollReport> {
    const src = await engineSourceById(this.db, sourceId);
    if (!src?.poll_url || src.deleted_at !== null) return { seen: 0, applied: 0 };
    const token = this.tokenOf(src);
    const active = await this.fetchList(`${src.poll_url}/positions/active`, token);
    const history = await this.fetchList(`${src.poll_url}/positions/history?limit=100`, token);
    const at = this.clock.now();
    const touched = new Set<string>();
    let applied = 0;
    const listed = [...active.positions.map((p) => ({ p, a: active })), ...history.positions.map((p) => ({ p, a: history }))];
    for (const { p, a } of listed) {
      const ev = this.eventOf(src, p, a, at);
      if (!ev) continue;
      const id = enginePositionId(src.user_id, src.id, ev.positionId);
      const stored = await this.db.selectFrom('positions').selectAll().where('id', '=', id).executeTakeFirst();
      if (stored && (stored.status === 'closed' || !positionChanged(stored, rowOfEvent(ev, stored)))) continue;
      const out = await this.db.transaction().execute(async (trx) => {
        const eventId = await insertEngineEvent(trx, {
          user_id: src.user_id,
          source_id: src.id,
          webhook_id: `poll:${at}:${ev.positionId}`,
          event_type: ev.type,
          position_id: ev.positionId,
          target_key: ev.targetKey,
          symbol: ev.symbol,
          strategy: ev.strategy,
          event_ts: at,
          received_at: at,
          raw_body: JSON.stringify({ event_type: ev.type, position_id: ev.positionId, target: ev.targetKey, symbol: ev.symbol, timestamp: new Date(at).toISOString(), strategy: ev.strategy, run_id: ev.runId, via: 'poll', data: ev.data }),
          status: 'received',
          error: null,
          processed_at: null,
        });
        return applyEngineEvent(trx, { userId: src.user_id, sourceId: src.id, eventId, via: 'poll', receivedAt: at }, ev, at);
      });
      if (out.status === 'processed' && out.action !== 'unchanged') {
        applied += 1;
        touched.add(out.targetKey);
      }
    }
    await touchLastPoll(this.db, src.id, at);
    for (const t of touched) {
      try {
        await this.refresher?.refresh(src.user_id, t, 'poll');
      } catch (e) {
        this.log?.warn({ userId: src.user_id, target: t, err: errorMessage(e) }, 'snapshot after an engine poll failed');
      }
    }
    return { seen: listed.length, applied };
  }

  /** The event a polled position means, or null (logged) when it lacks an id, a symbol or a target. */
  private eventOf(src: EngineSource, p: z.infer<typeof EnginePositionDataSchema>, a: Answer, at: number): EngineEvent | null {
    const targetKey = a.target ? parseTargetKey(a.target).key : src.target_key;
    if (!p.id || !p.symbol || !targetKey) {
      this.log?.warn({ source: src.id, position: p.id ?? null }, 'polled position without id, symbol or target: skipped');
      return null;
    }
    const data = completeData(p, { id: p.id, symbol: p.symbol, ts: at, closed: p.status === 'closed' });
    return {
      type: data.status === 'closed' ? 'position_closed' : 'position_updated',
      positionId: p.id,
      targetKey,
      symbol: p.symbol,
      ts: at,
      strategy: a.strategy ?? null,
      runId: a.run_id ?? null,
      sequence: null,
      data,
    };
  }

  private tokenOf(src: EngineSource): string | null {
    if (!src.poll_token_enc) return null;
    if (!this.box) throw new HalyardError('invalid_config', `engine source ${src.id} has a poll token but the server has no ENCRYPTION_KEY to read it`);
    return this.box.decrypt(src.poll_token_enc);
  }

  private async fetchList(url: string, token: string | null): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(this.fetchTimeoutMs) });
    } catch (e) {
      throw new HalyardError('venue_unavailable', `engine positions API ${url} did not answer: ${errorMessage(e)}`, { url }, e);
    }
    if (!res.ok) throw new HalyardError('venue_unavailable', `engine positions API ${url} answered HTTP ${res.status}`, { url, status: res.status });
    let body: unknown;
    try {
      body = await res.json();
    } catch (e) {
      throw new HalyardError('data_corrupt', `engine positions API ${url} sent no JSON`, { url }, e);
    }
    const r = EnginePositionsAnswerSchema.safeParse(body);
    if (!r.success) throw new HalyardError('data_corrupt', `engine positions API ${url}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { url });
    return r.data;
  }
}
