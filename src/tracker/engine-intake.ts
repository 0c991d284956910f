import type { Kysely } from 'kysely';
import { z } from 'zod';
import { ENGINE_EVENT_TYPES, type EnginePositionData } from '../core/engine-event.ts';
import { HalyardError, errorMessage } from '../core/errors.ts';
import { jsonTooDeep, tooDeepMessage } from '../core/json-depth.ts';
import { asciiSymbol, MAX_MONEY, MAX_PRICE, MAX_QTY, symbolRefusal } from '../core/instrument.ts';
import type { Clock } from '../core/ports.ts';
import { parseTargetKey, resolveTarget } from '../exchange/targets.ts';
import { verifyWebhook, WEBHOOK_TOLERANCE_S, type WebhookRefusal } from '../notify/standard-webhooks.ts';
import { engineEventById, eventByWebhookId, insertEngineEvent, markEngineEvent } from '../store/engine-events.ts';
import { acceptedSecrets, engineSourceById, liveEngineSource } from '../store/engine-sources.ts';
import type { Database } from '../store/schema.ts';
import { applyEngineEvent, type ApplyOutcome, type EngineEvent } from './engine-positions.ts';
import { enqueue, type JobLog, type JobWorker } from './jobs.ts';
import type { TargetRefresher } from './refresh-port.ts';

/** Job kind of a received engine event (payload `{ eventId }`). */
export const ENGINE_EVENT_JOB = 'engine_event';

/** Epoch ms of an ISO-8601 string or of epoch seconds / milliseconds (a number below 1e11 is seconds); null if neither. */
export function epochMs(v: number | string): number | null {
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return epochMs(Number(v));
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? Math.round(v < 1e11 ? v * 1000 : v) : null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : null;
}

/** Latest time an event may carry (epoch ms of 9999-12-31T23:59:59.999Z): a later one could not be shown as a date. */
const MAX_TIME_MS = 253_402_300_799_999;
const timeField = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = epochMs(v);
  if (ms === null || ms < 0 || ms > MAX_TIME_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 time or epoch seconds / milliseconds (year 1970 to 9999)' });
    return z.NEVER;
  }
  return ms;
});
const idField = z.union([z.string().min(1).max(200), z.number().int()]).transform(String);
const side = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(['long', 'short']));
const level = z.number().positive().max(MAX_PRICE).nullable().optional();
const price = z.number().nonnegative().max(MAX_PRICE);
// An entry of 0 would be replayed as a fill at 0 into the target's simulated venue and refuse every later order there.
const entryPrice = z.number().positive().max(MAX_PRICE);
const qtyField = z.number().min(-MAX_QTY).max(MAX_QTY);
const money = z.number().min(-MAX_MONEY).max(MAX_MONEY);
/** A symbol: plain ASCII in NFKC form, never case-folded into another (docs/signals.md, Limits). */
const symbolField = z
  .string()
  .min(1)
  .max(100)
  .transform((raw, ctx) => {
    const ascii = asciiSymbol(raw);
    if (ascii === null) ctx.addIssue({ code: 'custom', message: symbolRefusal('symbol', raw) });
    return ascii ?? z.NEVER;
  });

/** The position in an event's `data` (and in a polled positions list); only side, qty and entry_price are required. */
export const EnginePositionDataSchema = z.object({
  id: idField.optional(),
  symbol: symbolField.optional(),
  side,
  position_side: side.nullable().optional(),
  status: z.enum(['open', 'closed']).optional(),
  qty: qtyField,
  max_qty: qtyField.nonnegative().optional(),
  entry_price: entryPrice,
  entries: z.array(z.object({ price: entryPrice, qty: qtyField, ts: z.number().nonnegative().max(MAX_TIME_MS) })).max(10_000).optional(),
  realized_pnl: money.optional(),
  fees: money.optional(),
  funding: money.optional(),
  stop_loss: level,
  take_profit: level,
  opened_at: timeField.nullable().optional(),
  closed_at: timeField.nullable().optional(),
  exit_price: price.nullable().optional(),
  exit_reason: z.string().max(100).nullable().optional(),
});

/** The body of `POST /hooks/engine` (the seed's shape; the target as `target`, or `exchange` + `env` / `account_type`). */
export const EngineEventBodySchema = z.object({
  event_type: z.enum(ENGINE_EVENT_TYPES),
  position_id: idField,
  target: z.string().optional(),
  exchange: z.string().optional(),
  env: z.string().optional(),
  account_type: z.string().optional(),
  symbol: symbolField,
  timestamp: timeField,
  strategy: z.string().min(1).max(100).nullable().optional(),
  run_id: z.string().max(200).nullable().optional(),
  sequence: z.number().int().nonnegative().nullable().optional(),
  data: EnginePositionDataSchema,
});

/** Completes a validated position with defaults: the id, symbol and times of its event, zero PnL, no levels. */
export function completeData(d: z.infer<typeof EnginePositionDataSchema>, fallback: { id: string; symbol: string; ts: number; closed: boolean }): EnginePositionData {
  const closed = fallback.closed || d.status === 'closed';
  const qty = Math.abs(d.qty);
  return {
    id: d.id ?? fallback.id,
    symbol: d.symbol ?? fallback.symbol,
    side: d.side,
    position_side: d.position_side ?? null,
    status: closed ? 'closed' : 'open',
    qty: closed ? 0 : qty,
    max_qty: Math.max(d.max_qty ?? 0, qty),
    entry_price: d.entry_price,
    entries: d.entries ?? [],
    realized_pnl: d.realized_pnl ?? 0,
    fees: d.fees ?? 0,
    funding: d.funding ?? 0,
    stop_loss: d.stop_loss ?? null,
    take_profit: d.take_profit ?? null,
    opened_at: d.opened_at ?? fallback.ts,
    closed_at: closed ? (d.closed_at ?? fallback.ts) : null,
    exit_price: d.exit_price ?? null,
    exit_reason: closed ? (d.exit_reason ?? null) : null,
  };
}

/** The target key an event names, else the source's default; invalid_input when neither says. */
function targetOf(b: z.infer<typeof EngineEventBodySchema>, fallback: string | null): string {
  if (b.target) return parseTargetKey(b.target).key;
  if (b.exchange) {
    const t = resolveTarget(b.exchange.toLowerCase(), b.env, b.account_type);
    if (!t) throw new HalyardError('invalid_input', `say which ${b.exchange} account: env (paper or live) or account_type`);
    return t.key;
  }
  if (fallback) return fallback;
  throw new HalyardError('invalid_input', 'the event names no target (send target, e.g. "bybit:paper", or exchange with env) and its source has no default target');
}

/** Validates a raw event body; invalid_input with every problem named. */
export function parseEngineEvent(raw: string, defaultTarget: string | null): EngineEvent {
  // Counted on the text before JSON.parse: a body 4,000 levels deep costs one scan (see docs/signals.md, Limits).
  if (jsonTooDeep(raw)) throw new HalyardError('invalid_input', tooDeepMessage());
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new HalyardError('invalid_input', `the body is not JSON: ${errorMessage(e)}`);
  }
  const r = EngineEventBodySchema.safeParse(json);
  if (!r.success) throw new HalyardError('invalid_input', `not an engine event: ${r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
  const b = r.data;
  const closed = b.event_type === 'position_closed';
  return {
    type: b.event_type,
    positionId: b.position_id,
    targetKey: targetOf(b, defaultTarget),
    symbol: b.symbol,
    ts: b.timestamp,
    strategy: b.strategy ?? null,
    runId: b.run_id ?? null,
    sequence: b.sequence ?? null,
    data: completeData(b.data, { id: b.position_id, symbol: b.symbol, ts: b.timestamp, closed }),
  };
}

/** How a delivery ended. */
export type EngineHookAnswer =
  | { readonly status: 'queued'; readonly event_id: number }
  | { readonly status: 'duplicate'; readonly duplicate: true; readonly event_id: number; readonly event_status: string }
  | { readonly status: 'refused'; readonly reason: WebhookRefusal };

/** Where the intake reports what went wrong after the answer. */
export type EngineLog = JobLog;

/**
 * Engine-event intake: verify the Standard Webhooks signature over the raw body, validate, dedupe on
 * (source, webhook-id), store the event and its job in one transaction, answer at once. The job applies
 * the event to the ledger, then asks the refresher for a snapshot of the target.
 */
export class EngineIntake {
  /** Called after an event and its job were committed (the worker wakes up). */
  onEnqueued: () => void = () => {};

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly refresher?: TargetRefresher,
    private readonly log?: EngineLog,
  ) {}

  /** Handles one delivery. Unknown or deleted source → not_found; a body that is no event → invalid_input (nothing stored). */
  async receive(sourceId: string | undefined, raw: string, headers: Readonly<Record<string, string | string[] | undefined>>): Promise<EngineHookAnswer> {
    const now = this.clock.now();
    const source = sourceId ? await liveEngineSource(this.db, sourceId) : undefined;
    if (!source) throw new HalyardError('not_found', 'no engine source with this id (see halyard engines list <user>)');
    // During a rotation's grace period the old secret still signs; a refusal other than the signature is the same for both.
    let refusal: WebhookRefusal | null = 'bad_signature';
    for (const secret of acceptedSecrets(source, now)) if (refusal === 'bad_signature') refusal = verifyWebhook(secret, headers, raw, now, WEBHOOK_TOLERANCE_S);
    if (refusal) return { status: 'refused', reason: refusal };
    const h = headers['webhook-id'];
    const webhookId = (Array.isArray(h) ? h[0] : h) ?? '';
    if (webhookId.length > 256) throw new HalyardError('invalid_input', 'webhook-id is longer than 256 characters');
    const ev = parseEngineEvent(raw, source.target_key);
    const seen = await eventByWebhookId(this.db, source.id, webhookId);
    if (seen) return { status: 'duplicate', duplicate: true, event_id: seen.id, event_status: seen.status };
    let id: number;
    try {
      id = await this.db.transaction().execute(async (trx) => {
        const eventId = await insertEngineEvent(trx, {
          user_id: source.user_id,
          source_id: source.id,
          webhook_id: webhookId,
          event_type: ev.type,
          position_id: ev.positionId,
          target_key: ev.targetKey,
          symbol: ev.symbol,
          strategy: ev.strategy,
          event_ts: ev.ts,
          received_at: now,
          raw_body: raw,
          status: 'received',
          error: null,
          processed_at: null,
        });
        await enqueue(trx, ENGINE_EVENT_JOB, { eventId }, now);
        return eventId;
      });
    } catch (e) {
      // A concurrent copy of the same delivery won the unique (source, webhook-id) index.
      const twin = await eventByWebhookId(this.db, source.id, webhookId);
      if (twin) return { status: 'duplicate', duplicate: true, event_id: twin.id, event_status: twin.status };
      throw e;
    }
    this.onEnqueued();
    return { status: 'queued', event_id: id };
  }

  /** Registers the `engine_event` job kind on a worker. */
  register(jobs: JobWorker): void {
    jobs.register(
      ENGINE_EVENT_JOB,
      async (payload) => {
        await this.process(eventIdOf(payload));
      },
      async (payload, error) => markEngineEvent(this.db, eventIdOf(payload), 'failed', error, this.clock.now()),
    );
  }

  /** Applies one stored event (once: an event already processed is left alone); null when there was nothing to do. */
  async process(eventId: number): Promise<ApplyOutcome | null> {
    const row = await engineEventById(this.db, eventId);
    if (!row || row.status !== 'received') return null;
    const source = await engineSourceById(this.db, row.source_id);
    let ev: EngineEvent;
    try {
      ev = parseEngineEvent(row.raw_body, row.target_key ?? source?.target_key ?? null);
    } catch (e) {
      await markEngineEvent(this.db, row.id, 'failed', errorMessage(e), this.clock.now());
      return null;
    }
    const now = this.clock.now();
    const out = await this.db.transaction().execute((trx) =>
      applyEngineEvent(trx, { userId: row.user_id, sourceId: row.source_id, eventId: row.id, via: 'webhook', receivedAt: row.received_at }, ev, now),
    );
    if (out.status === 'processed' && out.action !== 'unchanged') await this.refresh(row.user_id, out.targetKey);
    return out;
  }

  private async refresh(userId: number, targetKey: string): Promise<void> {
    if (!this.refresher) return;
    try {
      await this.refresher.refresh(userId, targetKey, 'event');
    } catch (e) {
      // The monitor's schedule is the fallback: a failed snapshot does not undo the event.
      this.log?.warn({ userId, target: targetKey, err: errorMessage(e) }, 'snapshot after an engine event failed');
    }
  }
}

function eventIdOf(payload: unknown): number {
  const id = (payload as { eventId?: unknown } | null)?.eventId;
  if (typeof id !== 'number') throw new HalyardError('data_corrupt', 'engine_event job without an eventId');
  return id;
}
