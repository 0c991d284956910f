import type { Kysely } from 'kysely';
import type { PositionMode, Side } from '../core/types.ts';
import { allRecorders } from '../store/recorders.ts';
import type { Database } from '../store/schema.ts';
import { acceptedSignalsPage } from '../store/signals.ts';
import type { SignalAction } from './signal.ts';
import { SignalBook } from './signal-ledger.ts';
import { bookIdPrefix, writeSignalEffect } from './book-writes.ts';

/** What a rebuild did. */
export interface RebuildReport {
  readonly recorders: number;
  readonly signals: number;
  readonly positions: number;
  readonly openPositions: number;
  readonly trades: number;
  /** Accepted signals the ledger refused on replay (should be none: each names signal id and reason). */
  readonly refused: readonly { readonly signalId: number; readonly reason: string }[];
}

const PAGE = 5_000;

/**
 * Recomputes every signal-based position, entry, trade and equity point from the signal log, in one
 * transaction: the projection is dropped and replayed through the same book the live intake uses.
 * Stop the server first (or restart it after), since a running server caches its books.
 */
export async function rebuildSignalPositions(db: Kysely<Database>): Promise<RebuildReport> {
  return db.transaction().execute(async (trx) => {
    const signalPositions = trx.selectFrom('positions').select('id').where('source', '=', 'signal');
    await trx.deleteFrom('position_entries').where('position_id', 'in', signalPositions).execute();
    await trx.deleteFrom('trades').where('source', '=', 'signal').execute();
    await trx.deleteFrom('equity_points').where('recorder_id', 'is not', null).execute();
    await trx.deleteFrom('positions').where('source', '=', 'signal').execute();
    let signals = 0;
    const refused: { signalId: number; reason: string }[] = [];
    const recs = await allRecorders(trx);
    for (const rec of recs) {
      const book = new SignalBook(rec.position_mode as PositionMode, bookIdPrefix(rec.id));
      let after = 0;
      for (;;) {
        const page = await acceptedSignalsPage(trx, rec.id, after, PAGE);
        for (const row of page) {
          signals++;
          after = row.id;
          if (row.price === null) continue; // accepted without a price: nothing moved (CANCEL, CLOSE while flat)
          const effect = book.apply({
            action: row.action as SignalAction,
            ticker: row.ticker,
            qty: row.qty ?? rec.default_qty,
            price: row.price,
            ts: row.received_at,
            targetSize: row.target_size,
            positionSide: row.position_side as Side | null,
            stopLoss: row.stop_loss,
            takeProfit: row.take_profit,
          });
          if (effect.kind === 'refused') {
            refused.push({ signalId: row.id, reason: effect.reason });
            continue;
          }
          await writeSignalEffect(trx, rec, book, effect, row.received_at, row.id);
        }
        if (page.length < PAGE) break;
      }
    }
    const count = async (status?: string): Promise<number> => {
      let q = trx.selectFrom('positions').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'signal');
      if (status) q = q.where('status', '=', status);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    const trades = Number((await trx.selectFrom('trades').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'signal').executeTakeFirstOrThrow()).n);
    return { recorders: recs.length, signals, positions: await count(), openPositions: await count('open'), trades, refused };
  });
}
