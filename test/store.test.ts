import { createHash } from 'node:crypto';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HalyardError } from '../src/core/errors.ts';
import { ManualClock } from '../src/core/ports.ts';
import { createAccount, credentialsFor, deleteAccount, listAccounts } from '../src/store/accounts.ts';
import type { Store } from '../src/store/db.ts';
import { migrationProvider } from '../src/store/migrations/index.ts';
import { listPositionViews } from '../src/store/position-views.ts';
import { loadRecorderSnapshot } from '../src/store/positions.ts';
import { createRecorder, deleteRecorder, getRecorder, listRecorders, recorderBySecret } from '../src/store/recorders.ts';
import { SecretBox } from '../src/store/secrets.ts';
import { acceptedByKey, insertSignal, listSignals, type NewSignalRow } from '../src/store/signals.ts';
import { createUser, userByName, userByToken } from '../src/store/users.ts';
import { SignalIntake } from '../src/tracker/intake.ts';
import { DIALECTS } from './db.ts';

/** 2026-11-21T10:00Z, the "now" of every row below. */
const NOW = Date.UTC(2026, 10, 21, 10);

/** The code of the HalyardError `p` rejects with ('resolved' when it does not reject). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HalyardError) return e.code;
    throw e;
  }
  return 'resolved';
}

/** A stored delivery with everything optional left empty. */
function signalRow(recorderId: number, userId: number, o: Partial<NewSignalRow> = {}): NewSignalRow {
  return {
    recorder_id: recorderId,
    user_id: userId,
    received_at: NOW,
    format: 'native',
    action: 'BUY',
    ticker: 'BTCUSDT',
    qty: 1,
    price: 100,
    signal_time: null,
    order_id: null,
    target_size: null,
    position_side: null,
    stop_loss: null,
    take_profit: null,
    dedupe_key: 'k',
    outcome: 'accepted',
    reason: null,
    raw_body: '{}',
    content_type: 'application/json',
    ...o,
  };
}

for (const d of DIALECTS) {
  describe(`store on ${d.name}`, () => {
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

    describe('migrations', () => {
      it('seeds the 8 targets with their account types', async () => {
        const rows = await store.db.selectFrom('targets').selectAll().orderBy('key').execute();
        expect(rows.map((r) => [r.key, r.exchange, r.env, r.account_type])).toEqual([
          ['binance:live', 'binance', 'live', 'live'],
          ['binance:paper', 'binance', 'paper', 'demo'],
          ['bybit:live', 'bybit', 'live', 'real'],
          ['bybit:paper', 'bybit', 'paper', 'demo'],
          ['hyperliquid:live', 'hyperliquid', 'live', 'mainnet'],
          ['hyperliquid:paper', 'hyperliquid', 'paper', 'testnet'],
          ['sim:live', 'sim', 'live', 'live'],
          ['sim:paper', 'sim', 'paper', 'paper'],
        ]);
      });

      it('opening the same location again runs nothing new and keeps the data', async () => {
        await createUser(store.db, 'migrant', 'both', NOW);
        const again = await loc.open();
        try {
          const migrator = new Migrator({ db: again.db, provider: migrationProvider(again.dialect) });
          const { error, results } = await migrator.migrateToLatest();
          expect(error).toBeUndefined();
          expect(results).toEqual([]);
          const infos = await migrator.getMigrations();
          expect(infos.map((m) => [m.name, m.executedAt instanceof Date])).toEqual([
            ['001-tracker', true],
            ['002-execution', true],
            ['003-engine', true],
            ['004-live-path', true],
            ['005-alerts', true],
            ['006-target-settings', true],
            ['007-tokens-secrets', true],
            ['008-server-address', true],
            ['009-fleet', true],
          ]);
          expect((await userByName(again.db, 'migrant')).trading_mode).toBe('both');
          const n = await again.db.selectFrom('targets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
          expect(Number(n.n)).toBe(8);
        } finally {
          await again.close();
        }
      });
    });

    describe('users', () => {
      it('stores the SHA-256 of the token, never the token, and finds the user by token', async () => {
        const { user, token } = await createUser(store.db, 'alice', 'paper', NOW);
        expect(token).toMatch(/^hly_[A-Za-z0-9_-]{32}$/); // 24 random bytes → 32 base64url characters
        expect([user.name, user.trading_mode, user.created_at]).toEqual(['alice', 'paper', NOW]);
        const rows = await store.db.selectFrom('api_tokens').selectAll().where('user_id', '=', user.id).execute();
        expect(rows).toHaveLength(1);
        expect(rows[0]?.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
        expect(rows[0]?.prefix).toBe(token.slice(0, 8));
        expect(JSON.stringify(rows)).not.toContain(token);
        expect((await userByToken(store.db, token))?.id).toBe(user.id);
        expect(await userByToken(store.db, `${token}x`)).toBeUndefined();
        expect(await userByToken(store.db, rows[0]?.token_hash ?? '')).toBeUndefined();
      });

      it('refuses a second user of the same name (conflict) and a bad name (invalid_input)', async () => {
        expect(await codeOf(createUser(store.db, 'alice', 'live', NOW))).toBe('conflict');
        expect(await codeOf(createUser(store.db, 'bad name', 'paper', NOW))).toBe('invalid_input');
        expect(await codeOf(createUser(store.db, '-dash', 'paper', NOW))).toBe('invalid_input');
        expect(await codeOf(createUser(store.db, '', 'paper', NOW))).toBe('invalid_input');
        const n = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('name', '=', 'alice').executeTakeFirstOrThrow();
        expect(Number(n.n)).toBe(1);
      });
    });

    describe('recorders', () => {
      let alice: number;
      let bob: number;
      beforeAll(async () => {
        alice = (await createUser(store.db, 'rec-alice', 'paper', NOW)).user.id;
        bob = (await createUser(store.db, 'rec-bob', 'paper', NOW)).user.id;
      });

      it('creates a recorder with a secret and the default target sim:paper × 1', async () => {
        const r = await createRecorder(store.db, { userId: alice, name: '  plain  ' }, NOW);
        expect(r.secret.length).toBeGreaterThanOrEqual(20);
        expect([r.name, r.position_mode, r.max_lag_ms, r.default_qty, r.deleted_at]).toEqual(['plain', 'oneway', 300_000, 1, null]);
        expect(r.targets).toEqual([{ target_key: 'sim:paper', multiplier: 1 }]);
        const stored = await getRecorder(store.db, alice, r.id);
        expect(stored.targets).toEqual([{ target_key: 'sim:paper', multiplier: 1 }]);
        expect((await recorderBySecret(store.db, r.secret))?.id).toBe(r.id);
      });

      it('links explicit targets with multipliers; the legacy key bybit:demo is bybit:paper', async () => {
        const r = await createRecorder(store.db, { userId: alice, name: 'multi', positionMode: 'hedge', targets: [{ key: 'bybit:demo', multiplier: 2 }, { key: 'hyperliquid:mainnet', multiplier: 0.5 }] }, NOW);
        const stored = await getRecorder(store.db, alice, r.id);
        expect(stored.position_mode).toBe('hedge');
        expect(stored.targets).toEqual([
          { target_key: 'bybit:paper', multiplier: 2 },
          { target_key: 'hyperliquid:live', multiplier: 0.5 },
        ]);
      });

      it('refuses an unknown target and creates nothing', async () => {
        const before = (await listRecorders(store.db, alice)).length;
        expect(await codeOf(createRecorder(store.db, { userId: alice, name: 'x', targets: [{ key: 'kraken:paper' }] }, NOW))).toBe('invalid_input');
        expect(await codeOf(createRecorder(store.db, { userId: alice, name: 'x', targets: [{ key: 'bybit:sandbox' }] }, NOW))).toBe('invalid_input');
        expect(await codeOf(createRecorder(store.db, { userId: alice, name: 'x', targets: [{ key: 'bybit:demo' }, { key: 'bybit:paper' }] }, NOW))).toBe('invalid_input');
        expect(await listRecorders(store.db, alice)).toHaveLength(before);
      });

      it("answers not_found for another user's recorder", async () => {
        const r = await createRecorder(store.db, { userId: alice, name: 'mine' }, NOW);
        expect(await codeOf(getRecorder(store.db, bob, r.id))).toBe('not_found');
        expect(await codeOf(deleteRecorder(store.db, bob, r.id, NOW))).toBe('not_found');
        expect((await getRecorder(store.db, alice, r.id)).name).toBe('mine');
        expect(await listRecorders(store.db, bob)).toEqual([]);
      });

      it('deleteRecorder hides it from the webhook and the list, and a second delete is not_found', async () => {
        const r = await createRecorder(store.db, { userId: alice, name: 'doomed' }, NOW);
        expect((await listRecorders(store.db, alice)).map((x) => x.id)).toContain(r.id);
        await deleteRecorder(store.db, alice, r.id, NOW + 1);
        expect(await recorderBySecret(store.db, r.secret)).toBeUndefined();
        expect((await listRecorders(store.db, alice)).map((x) => x.id)).not.toContain(r.id);
        expect(await codeOf(getRecorder(store.db, alice, r.id))).toBe('not_found');
        expect(await codeOf(deleteRecorder(store.db, alice, r.id, NOW + 2))).toBe('not_found');
        // soft delete: the row stays, stamped
        const row = await store.db.selectFrom('recorders').select('deleted_at').where('id', '=', r.id).executeTakeFirstOrThrow();
        expect(row.deleted_at).toBe(NOW + 1);
      });
    });

    describe('signals', () => {
      let user: number;
      let rec: number;
      let other: number;
      beforeAll(async () => {
        user = (await createUser(store.db, 'sig-user', 'paper', NOW)).user.id;
        rec = (await createRecorder(store.db, { userId: user, name: 'sig' }, NOW)).id;
        other = (await createRecorder(store.db, { userId: user, name: 'sig-other' }, NOW)).id;
      });

      it('finds the accepted signal by dedupe key; the index refuses a second accepted one but keeps duplicates', async () => {
        const id = await insertSignal(store.db, signalRow(rec, user, { dedupe_key: 'k1' }));
        expect(await acceptedByKey(store.db, rec, 'k1')).toBe(id);
        expect(await acceptedByKey(store.db, rec, 'k2')).toBeUndefined();
        expect(await acceptedByKey(store.db, other, 'k1')).toBeUndefined();
        await expect(insertSignal(store.db, signalRow(rec, user, { dedupe_key: 'k1' }))).rejects.toThrow(/unique/i);
        const dup1 = await insertSignal(store.db, signalRow(rec, user, { dedupe_key: 'k1', outcome: 'duplicate', reason: `duplicate of signal ${id}` }));
        const dup2 = await insertSignal(store.db, signalRow(rec, user, { dedupe_key: 'k1', outcome: 'duplicate' }));
        const rejected = await insertSignal(store.db, signalRow(rec, user, { dedupe_key: 'k1', outcome: 'rejected' }));
        const elsewhere = await insertSignal(store.db, signalRow(other, user, { dedupe_key: 'k1' }));
        expect(new Set([id, dup1, dup2, rejected, elsewhere]).size).toBe(5);
        expect(await acceptedByKey(store.db, rec, 'k1')).toBe(id);
        expect(await acceptedByKey(store.db, other, 'k1')).toBe(elsewhere);
      });

      it('pages newest first with the next cursor and filters by outcome and ticker', async () => {
        const pager = (await createRecorder(store.db, { userId: user, name: 'pager' }, NOW)).id;
        const ids: number[] = [];
        const rows: [string, string][] = [
          ['BTCUSDT', 'accepted'],
          ['ETHUSDT', 'rejected'],
          ['BTCUSDT', 'duplicate'],
          ['ETHUSDT', 'accepted'],
          ['BTCUSDT', 'rejected'],
        ];
        for (const [i, [ticker, outcome]] of rows.entries()) ids.push(await insertSignal(store.db, signalRow(pager, user, { ticker, outcome, dedupe_key: `p${i}` })));
        const [s1, s2, s3, s4, s5] = ids;
        const page = (before?: number, limit = 2) => listSignals(store.db, { userId: user, recorderId: pager, limit, ...(before === undefined ? {} : { before }) });

        const p1 = await page();
        expect(p1.items.map((r) => r.id)).toEqual([s5, s4]);
        expect(p1.next).toBe(s4);
        const p2 = await page(p1.next ?? undefined);
        expect(p2.items.map((r) => r.id)).toEqual([s3, s2]);
        expect(p2.next).toBe(s2);
        const p3 = await page(p2.next ?? undefined);
        expect(p3.items.map((r) => r.id)).toEqual([s1]);
        expect(p3.next).toBeNull();
        // exactly the rest on one page: no next cursor
        expect((await page(s2, 1)).next).toBeNull();

        const rejected = await listSignals(store.db, { userId: user, recorderId: pager, outcome: 'rejected', limit: 10 });
        expect(rejected.items.map((r) => r.id)).toEqual([s5, s2]);
        const eth = await listSignals(store.db, { userId: user, recorderId: pager, ticker: 'ETHUSDT', limit: 10 });
        expect(eth.items.map((r) => r.id)).toEqual([s4, s2]);
        const both = await listSignals(store.db, { userId: user, recorderId: pager, ticker: 'BTCUSDT', outcome: 'accepted', limit: 10 });
        expect(both.items.map((r) => r.id)).toEqual([s1]);
        // the user's log without a recorder filter holds these five and the earlier ones
        const all = await listSignals(store.db, { userId: user, limit: 100 });
        expect(all.items.length).toBe(5 + 5);
      });
    });

    describe('accounts', () => {
      const box = new SecretBox('x'.repeat(40));
      const creds = { apiKey: 'AK-visible-key-1234', secret: 'SK-visible-secret-5678' };
      let user: number;
      let other: number;
      beforeAll(async () => {
        user = (await createUser(store.db, 'acct-user', 'both', NOW)).user.id;
        other = (await createUser(store.db, 'acct-other', 'paper', NOW)).user.id;
      });

      it('encrypts the credentials at rest and decrypts them with the same key only', async () => {
        const view = await createAccount(store.db, box, user, 'bybit:demo', 'main', creds, NOW);
        expect(view).toEqual({ id: view.id, target: 'bybit:paper', label: 'main', created_at: NOW });
        const row = await store.db.selectFrom('accounts').selectAll().where('id', '=', view.id).executeTakeFirstOrThrow();
        expect(row.credentials_enc).toMatch(/^v1:/);
        expect(row.credentials_enc).not.toContain(creds.apiKey);
        expect(row.credentials_enc).not.toContain(creds.secret);
        expect(JSON.stringify(row)).not.toContain('visible');
        expect(await credentialsFor(store.db, box, user, 'bybit:paper')).toEqual(creds);
        expect(await credentialsFor(store.db, box, other, 'bybit:paper')).toBeUndefined();
        expect(await codeOf(credentialsFor(store.db, new SecretBox('y'.repeat(40)), user, 'bybit:paper'))).toBe('data_corrupt');
      });

      it('refuses a second account for the same target, by any name of it', async () => {
        expect(await codeOf(createAccount(store.db, box, user, 'bybit:paper', 'again', creds, NOW))).toBe('conflict');
        expect(await codeOf(createAccount(store.db, box, user, 'bybit:demo', 'again', creds, NOW))).toBe('conflict');
        // another user may have one on the same target
        expect((await createAccount(store.db, box, other, 'bybit:paper', '', creds, NOW)).label).toBe('bybit:paper');
      });

      it('lists accounts without any credential field', async () => {
        await createAccount(store.db, box, user, 'hyperliquid:testnet', 'hl', { ...creds, password: '0xwallet' }, NOW);
        const list = await listAccounts(store.db, user);
        expect(list.map((a) => [a.target, a.label])).toEqual([
          ['bybit:paper', 'main'],
          ['hyperliquid:paper', 'hl'],
        ]);
        for (const a of list) expect(Object.keys(a).sort()).toEqual(['created_at', 'id', 'label', 'target']);
        expect(JSON.stringify(list)).not.toMatch(/visible|0xwallet|v1:/);
        expect(await credentialsFor(store.db, box, user, 'hyperliquid:paper')).toEqual({ ...creds, password: '0xwallet' });
      });

      it("deletes one's own account only: another user's id is not_found", async () => {
        const [first] = await listAccounts(store.db, user);
        if (!first) throw new Error('expected an account');
        expect(await codeOf(deleteAccount(store.db, other, first.id))).toBe('not_found');
        expect(await listAccounts(store.db, user)).toHaveLength(2);
        await deleteAccount(store.db, user, first.id);
        expect((await listAccounts(store.db, user)).map((a) => a.target)).toEqual(['hyperliquid:paper']);
        expect(await credentialsFor(store.db, box, user, 'bybit:paper')).toBeUndefined();
        expect(await codeOf(deleteAccount(store.db, user, first.id))).toBe('not_found');
      });
    });

    describe('signal positions', () => {
      const clock = new ManualClock(NOW);
      let user: number;
      let rec: { id: number; secret: string };
      const post = async (intake: SignalIntake, body: Record<string, unknown>) => {
        clock.set(clock.now() + 1000);
        return intake.receive(rec.secret, JSON.stringify(body), 'application/json');
      };
      const views = (targetKey?: string) => listPositionViews(store.db, { userId: user, recorderId: rec.id, ...(targetKey ? { targetKey } : {}) });

      beforeAll(async () => {
        user = (await createUser(store.db, 'pos-user', 'paper', NOW)).user.id;
        rec = await createRecorder(store.db, { userId: user, name: 'seed', targets: [{ key: 'hyperliquid:testnet' }, { key: 'bybit:demo', multiplier: 2 }] }, NOW);
      });

      it('stores the seed BUY/BUY/SELL as one long 1 @ 25605 with realized 15, per linked target', async () => {
        const intake = new SignalIntake(store.db, clock);
        for (const [action, price] of [['buy', 25600], ['buy', 25610], ['sell', 25620]] as const) {
          const a = await post(intake, { ticker: 'NQ', action, qty: 1, price });
          expect(a.status).toBe('accepted');
        }
        const hl = await views('hyperliquid:paper');
        expect(hl).toHaveLength(1);
        // mark = last signal price 25620: pnl (25620 − 25605) × 1 = 15
        expect(hl[0]).toMatchObject({ id: `r${rec.id}-000001`, symbol: 'NQ', side: 'long', size: 1, entry_price: 25605, mark_price: 25620, pnl: 15, realized_pnl: 15, exchange: 'hyperliquid', env: 'paper', account_type: 'testnet', target: 'hyperliquid:paper', source: 'signal', status: 'open' });
        // × 2 on bybit: size 2, pnl (25620 − 25605) × 2 = 30, realized 15 × 2 = 30
        const by = await views('bybit:paper');
        expect(by).toHaveLength(1);
        expect(by[0]).toMatchObject({ id: `r${rec.id}-000001`, size: 2, entry_price: 25605, pnl: 30, realized_pnl: 30, exchange: 'bybit', env: 'paper', account_type: 'demo' });
        expect((await views()).map((v) => v.target).sort()).toEqual(['bybit:paper', 'hyperliquid:paper']);
        expect(await views('sim:paper')).toEqual([]);
      });

      it('loads the snapshot a restart needs: the open position with its 2 entries, 1 id issued, realized 15', async () => {
        const snap = await loadRecorderSnapshot(store.db, rec.id);
        expect(snap.issued).toBe(1);
        expect(snap.realized).toBe(15);
        expect(snap.lastPrice.get('NQ')).toBe(25620);
        expect(snap.open).toHaveLength(1);
        const p = snap.open[0];
        expect([p?.id, p?.side, p?.positionSide, p?.qty, p?.maxQty, p?.entryPrice, p?.realizedPnl]).toEqual([`r${rec.id}-000001`, 'long', null, 1, 2, 25605, 15]);
        // the clock moved 1 s before each delivery
        expect(p?.entries).toEqual([
          { price: 25600, qty: 1, ts: NOW + 1000 },
          { price: 25610, qty: 1, ts: NOW + 2000 },
        ]);
      });

      it('continues after a restart: BUY 1 @ 25630 makes long 2 @ 25617.5 under the same id', async () => {
        const restarted = new SignalIntake(store.db, clock);
        const a = await post(restarted, { ticker: 'NQ', action: 'buy', qty: 1, price: 25630 });
        // (25605 × 1 + 25630 × 1) / 2 = 25617.5
        expect(a).toMatchObject({ status: 'accepted', positions: [{ id: `r${rec.id}-000001`, side: 'long', size: 2, entry_price: 25617.5 }] });
        expect((await views('bybit:paper'))[0]).toMatchObject({ id: `r${rec.id}-000001`, size: 4, entry_price: 25617.5 });

        // close it: (25640 − 25617.5) × 2 = 45, 15 + 45 = 60 for the round trip
        const closed = await post(restarted, { ticker: 'NQ', action: 'close', price: 25640 });
        expect(closed).toMatchObject({ status: 'accepted', positions: [] });
        const trades = await store.db.selectFrom('trades').selectAll().where('recorder_id', '=', rec.id).execute();
        expect(trades.map((t) => [t.position_id, t.qty, t.realized_pnl])).toEqual([[`r${rec.id}-000001`, 2, 60]]);

        // one more restart: the next position gets the next id, not 000001 again
        const again = new SignalIntake(store.db, clock);
        const next = await post(again, { ticker: 'NQ', action: 'sell', qty: 1, price: 25650 });
        expect(next).toMatchObject({ status: 'accepted', positions: [{ id: `r${rec.id}-000002`, side: 'short', size: 1, entry_price: 25650 }] });
        const snap = await loadRecorderSnapshot(store.db, rec.id);
        expect([snap.issued, snap.realized]).toEqual([2, 60]);
      });
    });
  });
}
