// The exchange as source of truth (seed 000): under the `exchange` policy a conflicting position the
// reconciler may adjust takes the venue's size and entry after the grace period, its previous values kept
// in the audit log; under `record` it only records. Every conflict logs a warning with both values. The
// reconciler runs on a real store (both dialects) against what a venue reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VenuePosition } from '../src/core/venue.ts';
import type { Store } from '../src/store/db.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { adjustPosition } from '../src/store/reconciliation.ts';
import { setTargetSettings, targetSettings } from '../src/store/target-settings.ts';
import { createUser } from '../src/store/users.ts';
import { reconcileTarget, type ReconcileLog } from '../src/tracker/reconcile.ts';
import { DIALECTS } from './db.ts';
import { insertEnginePosition, NOW } from './server-helpers.ts';

const BTC = 'BTC/USDT:USDT';
const ETH = 'ETH/USDT:USDT';
const MIN = 60_000;

const venue = (symbol: string, side: 'long' | 'short', qty: number, entryPrice: number): VenuePosition => ({ symbol, side, positionSide: null, qty, entryPrice, markPrice: entryPrice, unrealizedPnl: 0, liquidationPrice: null, raw: {} });

/** A pino-style logger that keeps what it was told. */
function captureLog(): ReconcileLog & { lines: { obj: Record<string, unknown>; msg: string }[] } {
  const lines: { obj: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) };
}

for (const d of DIALECTS) {
  describe(`reconciliation policy per target (${d.name})`, () => {
    let loc: Awaited<ReturnType<typeof d.fresh>>;
    let store: Store;

    beforeAll(async () => {
      loc = await d.fresh();
      store = await loc.open();
    });
    afterAll(async () => {
      await store?.close();
      await loc?.drop();
    });

    const row = (id: string) => store.db.selectFrom('positions').select(['qty', 'entry_price', 'status', 'max_qty']).where('id', '=', id).executeTakeFirstOrThrow();
    const auditOf = async (id: string) =>
      (await store.db.selectFrom('audit_log').select(['source', 'action', 'detail']).where('position_id', '=', id).orderBy('id').execute()).map((r) => ({ source: r.source, action: r.action, detail: JSON.parse(r.detail ?? 'null') as Record<string, unknown> }));
    const issuesOf = (userId: number) => store.db.selectFrom('reconciliation_issues').select(['kind', 'status', 'resolution', 'ledger_qty', 'ledger_price', 'exchange_qty', 'exchange_price']).where('user_id', '=', userId).orderBy('id').execute();

    it('defaults to exchange on ccxt venues and record on sim, per user and target', async () => {
      const { user } = await createUser(store.db, 'defaults', 'both', NOW);
      const other = await createUser(store.db, 'defaults2', 'both', NOW);
      for (const key of ['binance:paper', 'bybit:live', 'hyperliquid:paper']) expect(await targetSettings(store.db, user.id, key)).toMatchObject({ reconcilePolicy: 'exchange', isDefault: true, updatedAt: null });
      expect(await targetSettings(store.db, user.id, 'sim:paper')).toMatchObject({ reconcilePolicy: 'record', isDefault: true });
      await setTargetSettings(store.db, user.id, 'bybit:demo', { reconcilePolicy: 'record' }, NOW);
      await setTargetSettings(store.db, user.id, 'bybit:paper', { reconcilePolicy: 'record' }, NOW + 1); // the same target: updated, not a second row
      expect(await targetSettings(store.db, user.id, 'bybit:paper')).toEqual({ targetKey: 'bybit:paper', reconcilePolicy: 'record', isDefault: false, updatedAt: NOW + 1 });
      expect((await targetSettings(store.db, other.user.id, 'bybit:paper')).reconcilePolicy).toBe('exchange');
      await expect(setTargetSettings(store.db, user.id, 'bybit:paper', { reconcilePolicy: 'trust-me' }, NOW)).rejects.toThrow(/reconcile_policy must be exchange or record, got 'trust-me'/);
    });

    it('seed 000 under exchange: 0.5 @ 25600 against the venue\'s 0.4 @ 25620 becomes 0.4 @ 25620; the audit row keeps both; the warning names both', async () => {
      const { user } = await createUser(store.db, 'truth', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'seed0', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 10 * MIN });
      const log = captureLog();
      const r = await reconcileTarget(store.db, user.id, 'bybit:paper', [venue(BTC, 'long', 0.4, 25_620)], NOW, undefined, { log });

      expect(r.conflictPolicy).toBe('exchange');
      expect(r.adjusted).toEqual([{ positionId: 'seed0', issueId: expect.any(Number), from: { qty: 0.5, entryPrice: 25_600 }, to: { qty: 0.4, entryPrice: 25_620 } }]);
      expect(await row('seed0')).toEqual({ qty: 0.4, entry_price: 25_620, status: 'open', max_qty: 0.5 });
      const trail = await auditOf('seed0');
      expect(trail.map((a) => [a.source, a.action])).toEqual([
        ['reconciler', 'conflict'],
        ['reconciler', 'adjusted'],
      ]);
      expect(trail[1]?.detail).toMatchObject({ policy: 'exchange', before: { qty: 0.5, entry_price: 25_600 }, after: { qty: 0.4, entry_price: 25_620 }, ledger: { side: 'long', qty: 0.5, price: 25_600 }, exchange: { side: 'long', qty: 0.4, price: 25_620 } });
      expect(await issuesOf(user.id)).toEqual([{ kind: 'conflict', status: 'resolved', resolution: 'adjusted', ledger_qty: 0.5, ledger_price: 25_600, exchange_qty: 0.4, exchange_price: 25_620 }]);
      expect(log.lines).toHaveLength(1);
      expect(log.lines[0]?.msg).toContain('ledger long 0.5 @ 25600, exchange long 0.4 @ 25620');
      expect(log.lines[0]?.obj).toMatchObject({ user: user.id, target: 'bybit:paper', symbol: BTC, policy: 'exchange', adjusted: true, ledger: { qty: 0.5, price: 25_600 }, exchange: { qty: 0.4, price: 25_620 } });

      // The ledger now agrees: the next check finds nothing and says nothing.
      const again = await reconcileTarget(store.db, user.id, 'bybit:paper', [venue(BTC, 'long', 0.4, 25_620)], NOW + MIN, undefined, { log });
      expect(again.findings).toEqual([]);
      expect(log.lines).toHaveLength(1);
    });

    it('seed 000 under record: the position keeps 0.5 @ 25600, the conflict stays open with both values, one warning', async () => {
      const { user } = await createUser(store.db, 'recorder-of-truth', 'both', NOW);
      await setTargetSettings(store.db, user.id, 'bybit:paper', { reconcilePolicy: 'record' }, NOW);
      await insertEnginePosition(store.db, { id: 'seed0r', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 10 * MIN });
      const log = captureLog();
      for (const t of [NOW, NOW + MIN, NOW + 2 * MIN]) {
        const r = await reconcileTarget(store.db, user.id, 'bybit:paper', [venue(BTC, 'long', 0.4, 25_620)], t, undefined, { log });
        expect(r).toMatchObject({ conflictPolicy: 'record', adjusted: [] });
      }
      expect(await row('seed0r')).toMatchObject({ qty: 0.5, entry_price: 25_600 });
      expect((await auditOf('seed0r')).map((a) => a.action)).toEqual(['conflict']);
      expect((await auditOf('seed0r'))[0]?.detail).toMatchObject({ ledger: { qty: 0.5, price: 25_600 }, exchange: { qty: 0.4, price: 25_620 } });
      expect(await issuesOf(user.id)).toEqual([{ kind: 'conflict', status: 'open', resolution: null, ledger_qty: 0.5, ledger_price: 25_600, exchange_qty: 0.4, exchange_price: 25_620 }]);
      // A conflict that lasts is one warning, not one a minute.
      expect(log.lines.map((l) => l.msg)).toEqual(['reconciliation conflict on bybit:paper BTC/USDT:USDT: ledger long 0.5 @ 25600, exchange long 0.4 @ 25620; recorded (policy record)']);
    });

    it('waits out the grace period after the position last changed, then adjusts', async () => {
      const { user } = await createUser(store.db, 'graceful', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'young', userId: user.id, target: 'bybit:live', symbol: ETH, side: 'short', qty: 2, price: 3_000, openedAt: NOW - 10 * MIN });
      await store.db.updateTable('positions').set({ updated_at: NOW - 10_000 }).where('id', '=', 'young').execute(); // an engine event 10 s ago
      const log = captureLog();
      const first = await reconcileTarget(store.db, user.id, 'bybit:live', [venue(ETH, 'short', 1.5, 3_010)], NOW, undefined, { log });
      expect(first.adjusted).toEqual([]);
      expect(await row('young')).toMatchObject({ qty: 2, entry_price: 3_000 });
      expect(log.lines[0]?.msg).toMatch(/ledger short 2 @ 3000, exchange short 1.5 @ 3010; kept: a position involved changed within the grace period/);

      const later = await reconcileTarget(store.db, user.id, 'bybit:live', [venue(ETH, 'short', 1.5, 3_010)], NOW + MIN, undefined, { log });
      expect(later.adjusted).toEqual([expect.objectContaining({ positionId: 'young', to: { qty: 1.5, entryPrice: 3_010 } })]);
      expect(await row('young')).toMatchObject({ qty: 1.5, entry_price: 3_010 });
      expect(log.lines).toHaveLength(2);
      expect(await issuesOf(user.id)).toEqual([expect.objectContaining({ status: 'resolved', resolution: 'adjusted' })]);
    });

    it('never changes signal positions: the engine position takes the venue size minus the signals\' share', async () => {
      const { user } = await createUser(store.db, 'mixed', 'both', NOW);
      const rec = await createRecorder(store.db, { userId: user.id, name: 'mixed stream', targets: [{ key: 'bybit:paper', multiplier: 2 }] }, NOW);
      await insertEnginePosition(store.db, { id: 'mixed-sig', userId: user.id, target: 'bybit:paper', symbol: 'BTCUSDT', side: 'long', qty: 0.1, price: 25_500, openedAt: NOW - 10 * MIN, source: 'exchange' });
      // A signal position is the recorder's: no target of its own, counted × the link's multiplier (0.2).
      await store.db.updateTable('positions').set({ source: 'signal', opened_by: 'signal', target_key: null, recorder_id: rec.id }).where('id', '=', 'mixed-sig').execute();
      await insertEnginePosition(store.db, { id: 'mixed-eng', userId: user.id, target: 'bybit:paper', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 10 * MIN });
      const log = captureLog();
      const r = await reconcileTarget(store.db, user.id, 'bybit:paper', [venue(BTC, 'long', 0.6, 25_620)], NOW, undefined, { log });
      expect(r.adjusted).toEqual([expect.objectContaining({ positionId: 'mixed-eng', from: { qty: 0.5, entryPrice: 25_600 }, to: { qty: 0.4, entryPrice: 25_620 } })]);
      expect(await row('mixed-sig')).toMatchObject({ qty: 0.1, entry_price: 25_500 });
      expect((await auditOf('mixed-sig')).map((a) => a.action)).toEqual(['conflict']);
    });

    it('adjusts none when two adjustable positions share the symbol, and says why', async () => {
      const { user } = await createUser(store.db, 'ambiguous', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'amb-1', userId: user.id, target: 'binance:live', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 10 * MIN });
      await insertEnginePosition(store.db, { id: 'amb-2', userId: user.id, target: 'binance:live', symbol: BTC, side: 'long', qty: 0.3, price: 25_600, openedAt: NOW - 10 * MIN, source: 'exchange' });
      const log = captureLog();
      const r = await reconcileTarget(store.db, user.id, 'binance:live', [venue(BTC, 'long', 0.4, 25_620)], NOW, undefined, { log });
      expect(r.adjusted).toEqual([]);
      expect(await row('amb-1')).toMatchObject({ qty: 0.5 });
      expect(await row('amb-2')).toMatchObject({ qty: 0.3 });
      expect(log.lines.map((l) => l.msg)).toEqual([
        'reconciliation conflict on binance:live BTC/USDT:USDT: ledger long 0.8 @ 25600, exchange long 0.4 @ 25620; kept: 2 positions the reconciler may adjust share it (amb-1, amb-2), so which one is off is not known',
      ]);
      expect(await issuesOf(user.id)).toEqual([expect.objectContaining({ status: 'open', ledger_qty: 0.8, exchange_qty: 0.4 })]);
    });

    it('leaves a position that moved meanwhile to the next check', async () => {
      const { user } = await createUser(store.db, 'racer', 'both', NOW);
      await insertEnginePosition(store.db, { id: 'race', userId: user.id, target: 'bybit:live', symbol: BTC, side: 'long', qty: 0.5, price: 25_600, openedAt: NOW - 10 * MIN });
      // Stand-in for a fill booked between the reconciler's read and its write: the store refuses stale values.
      await store.db.updateTable('positions').set({ qty: 0.45 }).where('id', '=', 'race').execute();
      expect(await adjustPosition(store.db, user.id, 'race', { qty: 0.5, entryPrice: 25_600 }, { qty: 0.4, entryPrice: 25_620 }, NOW)).toBe(false);
      expect(await row('race')).toMatchObject({ qty: 0.45, entry_price: 25_600 });
      expect(await adjustPosition(store.db, user.id, 'race', { qty: 0.45, entryPrice: 25_600 }, { qty: 0.4, entryPrice: 25_620 }, NOW)).toBe(true);
      // Never someone else's position.
      const stranger = await createUser(store.db, 'stranger-racer', 'both', NOW);
      expect(await adjustPosition(store.db, stranger.user.id, 'race', { qty: 0.4, entryPrice: 25_620 }, { qty: 1, entryPrice: 1 }, NOW)).toBe(false);
    });
  });
}
