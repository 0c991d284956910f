import type { Kysely } from 'kysely';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { VenuePosition } from '../core/venue.ts';
import { saveVenuePositions } from '../store/order-intents.ts';
import type { Database } from '../store/schema.ts';
import { insertSnapshot, type SnapshotRow } from '../store/snapshots.ts';
import type { RefreshTrigger } from './refresh-port.ts';
import type { VenueRegistry } from './venue-registry.ts';

/** What one successful read of an exchange account gave. */
export interface VenueReading {
  readonly positions: readonly VenuePosition[];
  /** Sum of the settlement currencies' totals (quote; wallet plus unrealized PnL where the venue says so). */
  readonly equity: number;
  /** Sum of the positions' unrealized PnL (quote; positions that do not say count 0). */
  readonly unrealized: number;
  /** Equity minus unrealized PnL (quote). */
  readonly balance: number;
}

/** The outcome of a snapshot: the reading (stored), or the error (stored as a failed row, never read as flat). */
export type SnapshotOutcome =
  | { readonly ok: true; readonly ts: number; readonly reading: VenueReading; readonly row: SnapshotRow | null }
  | { readonly ok: false; readonly ts: number; readonly error: unknown; readonly row: SnapshotRow };

/** Runs `p`, failing with `venue_unavailable` when it takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HalyardError('venue_unavailable', `${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads positions and balances of a target's account; throws on any failure (an error is not "flat"). */
export async function readVenue(venues: VenueRegistry, userId: number, targetKey: string, timeoutMs: number): Promise<VenueReading> {
  const venue = await venues.get(userId, targetKey);
  const positions = await within(venue.fetchPositions(), timeoutMs, `${targetKey} fetchPositions`);
  const balances = await within(venue.fetchBalance(), timeoutMs, `${targetKey} fetchBalance`);
  if (!Array.isArray(positions) || !Array.isArray(balances)) throw new HalyardError('venue_error', `${targetKey}: the venue gave no position or balance list`);
  let equity = 0;
  for (const b of balances) equity += b.total;
  let unrealized = 0;
  for (const p of positions) unrealized += p.unrealizedPnl ?? 0;
  return { positions, equity, unrealized, balance: equity - unrealized };
}

/**
 * Takes a snapshot of one user's target at `now` (epoch ms): on success the venue's positions replace the
 * latest ones (`venue_positions`, as the dispatcher's snapshots do) and, when `record`, a `snapshots` row
 * (an equity point) is stored in the same transaction; a failure always stores a failed row with the error.
 */
export async function takeSnapshot(
  db: Kysely<Database>,
  venues: VenueRegistry,
  userId: number,
  targetKey: string,
  trigger: RefreshTrigger,
  now: number,
  opts: { readonly record: boolean; readonly timeoutMs: number },
): Promise<SnapshotOutcome> {
  let reading: VenueReading;
  try {
    reading = await readVenue(venues, userId, targetKey, opts.timeoutMs);
  } catch (error) {
    const row = await insertSnapshot(db, { user_id: userId, target_key: targetKey, ts: now, trigger, status: 'failed', balance: null, equity: null, unrealized_pnl: null, positions: null, error: errorMessage(error) });
    return { ok: false, ts: now, error, row };
  }
  const row = await db.transaction().execute(async (trx) => {
    await saveVenuePositions(trx, userId, targetKey, reading.positions, now);
    if (!opts.record) return null;
    return insertSnapshot(trx, {
      user_id: userId,
      target_key: targetKey,
      ts: now,
      trigger,
      status: 'ok',
      balance: reading.balance,
      equity: reading.equity,
      unrealized_pnl: reading.unrealized,
      positions: reading.positions.length,
      error: null,
    });
  });
  return { ok: true, ts: now, reading, row };
}
