import type { Kysely } from 'kysely';
import { savePositionChanges, type PositionOwner } from '../store/positions.ts';
import type { Recorder } from '../store/recorders.ts';
import type { GroupContext } from '../store/group-commit.ts';
import type { Database } from '../store/schema.ts';
import type { SignalBook, SignalEffect } from './signal-ledger.ts';

/** Position-book id prefix of a recorder: ids are `r<recorder>-000001`, the same in a rebuild. */
export function bookIdPrefix(recorderId: number): string {
  return `r${recorderId}`;
}

/** Signal positions belong to the recorder (targets are linked through recorder_targets). */
export function ownerOf(rec: Recorder): PositionOwner {
  return { userId: rec.user_id, recorderId: rec.id, targetKey: null, openedBy: 'signal', strategy: rec.strategy ?? rec.name };
}

/**
 * Writes what one applied signal did to a recorder's book — positions, entries, trades and an equity
 * point — inside the caller's transaction (with `group`, at its end with the other jobs' rows). The live
 * intake and the rebuild both write through here.
 */
export async function writeSignalEffect(
  trx: Kysely<Database>,
  rec: Recorder,
  book: SignalBook,
  effect: Extract<SignalEffect, { kind: 'applied' }>,
  ts: number,
  signalId: number,
  group?: GroupContext,
): Promise<void> {
  const realized = book.realized;
  const unrealized = book.unrealized();
  await savePositionChanges(trx, ownerOf(rec), effect.changes, effect.touched, (sym) => book.lastPrice.get(sym), ts, signalId, group);
  const point = { user_id: rec.user_id, recorder_id: rec.id, target_key: null, ts, realized, unrealized };
  if (group) group.insertLater('equity_points', [point]);
  else await trx.insertInto('equity_points').values(point).execute();
}
