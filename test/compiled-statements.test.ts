import { sql, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows } from '../src/store/compiled.ts';
import type { Store } from '../src/store/db.ts';
import { GroupCommit } from '../src/store/group-commit.ts';
import { createRecorder, deleteRecorder, rotateRecorderSecret, type RecorderWithTargets } from '../src/store/recorders.ts';
import type { PositionsTable } from '../src/store/schema.ts';
import { acceptedByKey, checkDelivery, insertSignal, type NewSignalRow } from '../src/store/signals.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';

/** A signal row of `rec` with the given dedupe key and outcome. */
function signal(rec: RecorderWithTargets, key: string, outcome: string): NewSignalRow {
  return { recorder_id: rec.id, user_id: rec.user_id, received_at: 1, format: 'native', action: 'BUY', ticker: 'BTCUSDT', qty: 1, price: 100, dedupe_key: key, outcome, raw_body: '{}' };
}

/** A position row of `rec` (every column named, as the intake writes them). */
function position(rec: RecorderWithTargets, id: string, qty: number, openedAt: number): PositionsTable {
  return {
    id,
    user_id: rec.user_id,
    recorder_id: rec.id,
    target_key: null,
    source: 'signal',
    opened_by: 'signal',
    strategy: null,
    symbol: 'BTCUSDT',
    side: 'long',
    position_side: null,
    status: 'open',
    qty,
    max_qty: qty,
    entry_price: 100,
    realized_pnl: 0,
    fees: 0,
    funding: 0,
    max_adverse: 0,
    stop_loss: null,
    take_profit: null,
    last_price: 100,
    opened_at: openedAt,
    closed_at: null,
    exit_price: null,
    avg_exit_price: null,
    exited_qty: 0,
    updated_at: openedAt,
    external_id: null,
    engine_source_id: null,
    close_reason: null,
    strategy_id: null,
  };
}

for (const dialect of DIALECTS) {
  describe(`statements compiled once, on ${dialect.name}`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let rec: RecorderWithTargets;
    let other: RecorderWithTargets;
    beforeAll(async () => {
      const fresh = await dialect.fresh();
      drop = fresh.drop;
      store = await fresh.open();
      const { user } = await createUser(store.db, 'compiled', 'paper', 0);
      rec = await createRecorder(store.db, { userId: user.id, name: 'one' }, 0);
      other = await createRecorder(store.db, { userId: user.id, name: 'two' }, 0);
    });
    afterAll(async () => {
      await store.close();
      await drop();
    });

    it('answers the duplicate check as the query builder does, run after run, inside and outside a transaction', async () => {
      const id = await insertSignal(store.db, signal(rec, 'k1', 'accepted'));
      await insertSignal(store.db, signal(rec, 'k2', 'rejected'));
      for (let i = 0; i < 3; i++) {
        expect(await acceptedByKey(store.db, rec.id, 'k1')).toBe(id);
        expect(await acceptedByKey(store.db, rec.id, 'k2')).toBeUndefined(); // only accepted signals count
        expect(await acceptedByKey(store.db, other.id, 'k1')).toBeUndefined();
      }
      await store.db.transaction().execute(async (trx) => {
        expect(await checkDelivery(trx, rec.id, rec.secret, 10, 'k1')).toEqual({ live: true, duplicateOf: id });
        expect(await checkDelivery(trx, rec.id, rec.secret, 10, 'k3')).toEqual({ live: true, duplicateOf: undefined });
        // Another recorder's secret does not open this one.
        expect((await checkDelivery(trx, rec.id, other.secret, 10, 'k3')).live).toBe(false);
      });
    });

    it('the delivery check follows a rotation (the old secret through its grace) and a delete', async () => {
      const rotated = await rotateRecorderSecret(store.db, other.user_id, other.id, 60, 1_000);
      expect((await checkDelivery(store.db, other.id, other.secret, 1_000 + 59_000, 'x')).live).toBe(true);
      expect((await checkDelivery(store.db, other.id, other.secret, 1_000 + 60_000, 'x')).live).toBe(false);
      expect((await checkDelivery(store.db, other.id, rotated.secret, 1_000 + 60_000, 'x')).live).toBe(true);
      await deleteRecorder(store.db, other.user_id, other.id, 2_000);
      expect((await checkDelivery(store.db, other.id, rotated.secret, 3_000, 'x')).live).toBe(false);
    });

    it('a multi-row upsert inserts new keys and updates only the named columns of existing ones (the last row of a key wins)', async () => {
      await insertRows(store.db, 'positions', [position(rec, 'u-1', 1, 10), position(rec, 'u-2', 2, 20)]);
      await insertRows(store.db, 'positions', [position(rec, 'u-1', 3, 99), position(rec, 'u-3', 4, 30)], { key: 'id', update: ['qty', 'updated_at'] });
      const rows = await store.db.selectFrom('positions').select(['id', 'qty', 'opened_at', 'updated_at']).where('id', 'like', 'u-%').orderBy('id').execute();
      expect(rows).toEqual([
        { id: 'u-1', qty: 3, opened_at: 10, updated_at: 99 }, // opened_at is not an update column: kept
        { id: 'u-2', qty: 2, opened_at: 20, updated_at: 20 },
        { id: 'u-3', qty: 4, opened_at: 30, updated_at: 30 },
      ]);
      // Through a group transaction: two rows for one key, the last one wins; positions go in before their entries.
      const gc = new GroupCommit(store.db);
      await gc.run(async (_trx, ctx) => {
        ctx.insertLater('position_entries', [{ position_id: 'u-4', kind: 'open', qty: 5, price: 100, realized_pnl: 0, ts: 40, signal_id: null }]);
        ctx.insertLater('positions', [position(rec, 'u-4', 5, 40)]);
        ctx.upsertLater('positions', [position(rec, 'u-2', 7, 0), position(rec, 'u-2', 8, 0)], { key: 'id', update: ['qty'] });
      });
      const after = await store.db.selectFrom('positions').select(['id', 'qty']).where('id', 'in', ['u-2', 'u-4']).orderBy('id').execute();
      expect(after).toEqual([
        { id: 'u-2', qty: 8 },
        { id: 'u-4', qty: 5 },
      ]);
    });

    it('rows that leave a column undefined get its default, as the query builder gives it', async () => {
      const base = { user_id: rec.user_id, target_key: 'sim:paper', recorder_id: rec.id, signal_id: null, group_key: 'g', action: 'place', role: 'entry', cancels_intent_id: null, symbol: 'BTC/USDT:USDT', side: 'buy', type: 'market', qty: 1, price: null, trigger_price: null, position_side: null, reduce_only: 0, source: 'signal', opened_by: 'signal', status: 'pending', attempts: 0, filled_qty: 0, created_at: 1, updated_at: 1 };
      await insertRows(store.db, 'order_intents', [
        { ...base, client_id: 'c-1', booked_qty: undefined },
        { ...base, client_id: 'c-2', booked_qty: undefined },
      ]);
      const rows = await store.db.selectFrom('order_intents').select(['client_id', 'booked_qty']).where('client_id', 'in', ['c-1', 'c-2']).orderBy('client_id').execute();
      expect(rows).toEqual([
        { client_id: 'c-1', booked_qty: 0 },
        { client_id: 'c-2', booked_qty: 0 },
      ]);
    });

    it('a store with a Kysely plugin builds each query, so the plugin sees every one', async () => {
      const seen: string[] = [];
      const plugin: KyselyPlugin = {
        transformQuery: (a) => {
          seen.push(a.node.kind);
          return a.node;
        },
        transformResult: async (a) => a.result,
      };
      const db = store.db.withPlugin(plugin);
      expect(await acceptedByKey(db, rec.id, 'k1')).toBeGreaterThan(0);
      await insertSignal(db, signal(rec, 'k9', 'duplicate'));
      expect(seen).toEqual(['SelectQueryNode', 'InsertQueryNode']);
    });

    if (dialect.name === 'postgres') {
      it('runs them as named prepared statements on PostgreSQL', async () => {
        await store.db.transaction().execute(async (trx) => {
          await acceptedByKey(trx, rec.id, 'k1');
          await acceptedByKey(trx, rec.id, 'k1');
          const r = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(trx);
          expect(r.rows.map((x) => x.statement)).toContainEqual(expect.stringContaining(`"dedupe_key" = $2 and "outcome" = 'accepted'`));
        });
      });
    }
  });
}
