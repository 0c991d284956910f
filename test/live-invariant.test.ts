import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sideSign, type Side } from '../src/core/types.ts';
import { SimVenue } from '../src/exchange/sim/index.ts';
import { venueSymbol } from '../src/exchange/symbols.ts';
import type { Store } from '../src/store/db.ts';
import { ledgerRows } from '../src/store/reconciliation.ts';
import { createRecorder } from '../src/store/recorders.ts';
import { createUser } from '../src/store/users.ts';
import { DIALECTS } from './db.ts';
import { api, NOW, postSignal, startServer, type Running } from './server-helpers.ts';

/**
 * The live path's invariant (docs/architecture.md), as a property: over random sequences of signals (some
 * with their own stop-loss / take-profit),
 * ticket orders (market, limit, stop; with and without a bracket), price moves, closes of a chosen row and
 * cancels on the simulated exchange, in one-way and hedge mode, after every step the venue's net position
 * per symbol and leg equals the sum of the open ledger positions attributed to the target; a close acts on
 * exactly its row (order size = row size = booked quantity) and moves no other position.
 */

const TARGET = 'sim:paper';
const TICKER = 'ETHUSDT';
const SYMBOL = venueSymbol(TICKER, 'sim');
const RUNS = Number(process.env.HALYARD_PROPERTY_RUNS ?? 12);

type Leg = Side;
type Act =
  | { readonly k: 'signal'; readonly action: 'buy' | 'sell' | 'close' | 'add'; readonly qty: number; readonly leg: Leg; readonly bracket: boolean }
  | { readonly k: 'move'; readonly pct: number }
  | { readonly k: 'market'; readonly side: 'buy' | 'sell'; readonly qty: number; readonly leg: Leg; readonly bracket: boolean }
  | { readonly k: 'limit'; readonly side: 'buy' | 'sell'; readonly qty: number; readonly leg: Leg; readonly off: number; readonly bracket: boolean }
  | { readonly k: 'stop'; readonly side: 'buy' | 'sell'; readonly qty: number; readonly leg: Leg; readonly off: number }
  | { readonly k: 'close'; readonly pick: number }
  | { readonly k: 'cancel'; readonly pick: number };

const qty = fc.integer({ min: 1, max: 10 }).map((n) => n / 100);
const side = fc.constantFrom('buy' as const, 'sell' as const);
const leg = fc.constantFrom('long' as const, 'short' as const);
const act: fc.Arbitrary<Act> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('signal' as const), action: fc.constantFrom('buy' as const, 'sell' as const, 'close' as const, 'add' as const), qty, leg, bracket: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('move' as const), pct: fc.integer({ min: -30, max: 30 }).map((n) => n / 1000) }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('market' as const), side, qty, leg, bracket: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('limit' as const), side, qty, leg, off: fc.integer({ min: 2, max: 25 }).map((n) => n / 1000), bracket: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('stop' as const), side, qty, leg, off: fc.integer({ min: 2, max: 25 }).map((n) => n / 1000) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('close' as const), pick: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }), weight: 1 },
);

interface Row {
  id: string;
  kind: string;
  source: string;
  side: Side;
  position_side: Side | null;
  size: number;
  status: string;
  closable: boolean;
  symbol: string;
}
interface Order {
  id: number;
  status: string;
  qty: number;
  filled_qty: number;
  side: string;
  error: string | null;
}

for (const d of DIALECTS) {
  describe(`the live path's invariant (${d.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let srv: Running;
    let seq = 0;

    beforeAll(async () => {
      const fresh = await d.fresh();
      store = await fresh.open();
      drop = async () => {
        await store.close();
        await fresh.drop();
      };
      // Settling runs when a step asks for it: the property sees every state in between.
      srv = await startServer(store, { perIpPerMinute: 1_000_000, perRecorderPerMinute: 1_000_000 }, undefined, { settleEveryMs: 3_600_000 });
    });
    afterAll(async () => {
      await srv.stop();
      await drop();
    });

    it('holds after every signal, ticket order, fill, close and cancel, one-way and hedge', async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('oneway' as const, 'hedge' as const), fc.constantFrom(1, 2, 0.5), fc.array(act, { minLength: 6, maxLength: 22 }), async (mode, multiplier, acts) => {
          seq += 1;
          const { user, token } = await createUser(store.db, `prop${seq}`, 'both', NOW);
          const rec = await createRecorder(store.db, { userId: user.id, name: 'tv', positionMode: mode, targets: [{ key: TARGET, multiplier }] }, NOW);
          const sim = (await srv.venues.get(user.id, TARGET)) as SimVenue;
          let price = 2_000;
          await sim.setPrice(SYMBOL, price);
          const hedge = mode === 'hedge';
          const log: string[] = [];

          const settle = async () => {
            await srv.dispatcher.drain();
            await srv.dispatcher.settle(user.id, TARGET);
            await srv.dispatcher.drain();
          };
          const positions = async () =>
            store.db.selectFrom('positions').select(['id', 'status', 'qty', 'side']).where('user_id', '=', user.id).orderBy('id').execute();
          const check = async (what: string) => {
            const venue = new Map<string, number>();
            for (const p of await sim.fetchPositions()) venue.set(`${p.symbol}|${p.positionSide ?? ''}`, (venue.get(`${p.symbol}|${p.positionSide ?? ''}`) ?? 0) + sideSign(p.side) * p.qty);
            const ours = new Map<string, number>();
            for (const r of await ledgerRows(store.db, user.id, TARGET)) {
              const k = `${venueSymbol(r.symbol, 'sim')}|${r.position_side ?? ''}`;
              ours.set(k, (ours.get(k) ?? 0) + sideSign(r.side as Side) * r.qty);
            }
            // Every open dashboard position with levels has them resting at the venue (or refused, visibly).
            const guarded = await store.db.selectFrom('positions').selectAll().where('user_id', '=', user.id).where('source', '=', 'webapp').where('status', '=', 'open').execute();
            for (const p of guarded) {
              for (const [role, level] of [['stop_loss', p.stop_loss], ['take_profit', p.take_profit]] as const) {
                if (level === null) continue;
                const last = await store.db.selectFrom('order_intents').select(['status', 'qty', 'trigger_price']).where('position_id', '=', p.id).where('role', '=', role).where('action', '=', 'place').orderBy('id', 'desc').executeTakeFirst();
                expect(last?.status, `after ${what}: ${role} of ${p.id}\n${log.join('\n')}`).toMatch(/^(open|rejected|failed)$/);
                if (last?.status === 'open') expect([last.qty, last.trigger_price]).toEqual([p.qty, level]);
              }
            }
            for (const k of new Set([...venue.keys(), ...ours.keys()])) {
              const v = venue.get(k) ?? 0;
              const o = ours.get(k) ?? 0;
              // The sim reports whole lots (0.001 ETH) and the ledger float sums: equal up to binary noise.
              if (Math.abs(v - o) >= 1e-6) {
                // Say what the orders did, to read a counterexample.
                const orders = await store.db.selectFrom('order_intents').select(['id', 'source', 'action', 'role', 'side', 'type', 'qty', 'trigger_price', 'position_side', 'reduce_only', 'status', 'filled_qty', 'last_error']).where('user_id', '=', user.id).orderBy('id').execute();
                log.push(...orders.map((x) => `  order ${JSON.stringify(x)}`));
              }
              expect(Math.abs(v - o), `after ${what}: venue ${v} vs ledger ${o} on ${k}\n${log.join('\n')}`).toBeLessThan(1e-6);
            }
          };
          const order = (body: Record<string, unknown>) =>
            api<Order & { error?: { message: string } }>(srv.base, token, '/api/orders', { method: 'POST', body: JSON.stringify({ target: TARGET, symbol: TICKER, ...body }) });

          for (const [n, a] of acts.entries()) {
            srv.clock.set(srv.clock.now() + 1_000);
            log.push(`${n}: ${JSON.stringify(a)}`);
            const legField = (l: Leg) => (hedge ? { position_side: l } : {});
            switch (a.k) {
              case 'signal': {
                // A signal may carry its own stop-loss / take-profit (for the side it buys or sells into).
                const up = a.action === 'buy' || (a.action === 'add' && a.leg === 'long');
                const levels = a.bracket && a.action !== 'close' ? { stop_loss: round2(up ? price * 0.98 : price * 1.02), take_profit: round2(up ? price * 1.03 : price * 0.97) } : {};
                const body = a.action === 'close' ? { ticker: TICKER, action: 'exit', price, ...legField(a.leg) } : { ticker: TICKER, action: a.action, quantity: a.qty, price, ...levels, ...legField(a.leg) };
                const res = await postSignal(srv.base, rec.secret, JSON.stringify(body));
                expect([200, 422], JSON.stringify(res.json)).toContain(res.status);
                break;
              }
              case 'move': {
                price = Math.round(price * (1 + a.pct) * 100) / 100;
                await sim.setPrice(SYMBOL, price);
                srv.marks.set(user.id, TICKER, price, srv.clock.now());
                break;
              }
              case 'market':
              case 'limit':
              case 'stop': {
                const long = hedge ? a.leg === 'long' : a.side === 'buy';
                const opening = !hedge || (a.leg === 'long') === (a.side === 'buy');
                const ref = a.k === 'limit' ? price * (a.side === 'buy' ? 1 - a.off : 1 + a.off) : price;
                const bracket = a.k !== 'stop' && a.bracket && opening ? { stop_loss: round2(long ? ref * 0.97 : ref * 1.03), take_profit: round2(long ? ref * 1.04 : ref * 0.96) } : {};
                const typed =
                  a.k === 'limit'
                    ? { type: 'limit', price: round2(ref) }
                    : a.k === 'stop'
                      ? { type: 'stop', trigger_price: round2(a.side === 'buy' ? price * (1 + a.off) : price * (1 - a.off)) }
                      : { type: 'market' };
                const before = await positions();
                const res = await order({ side: a.side, qty: a.qty, ...typed, ...bracket, ...legField(a.leg) });
                expect([200, 201, 202, 400, 422], JSON.stringify(res.json)).toContain(res.status);
                if (res.status >= 400 && !/filled, but/.test(res.json.error?.message ?? '')) {
                  // A refusal changes no position.
                  expect(await positions()).toEqual(before);
                }
                break;
              }
              case 'close': {
                await settle();
                const t = (await api<{ rows: Row[] }>(srv.base, token, `/api/terminal?target=${TARGET}`)).json;
                const closable = t.rows.filter((r) => r.kind === 'tracked' && r.status === 'open' && r.closable);
                const row = closable[a.pick % Math.max(1, closable.length)];
                if (!row) break;
                const before = await positions();
                const res = await api<Order>(srv.base, token, '/api/positions/close', { method: 'POST', body: JSON.stringify({ target: TARGET, position_id: row.id }) });
                expect(res.status, `${JSON.stringify(res.json)}\n${log.join('\n')}`).toBe(201);
                // The order, the row and the ledger say the same quantity.
                expect(res.json.status).toBe('filled');
                expect(res.json.qty).toBeCloseTo(row.size, 9);
                expect(res.json.filled_qty).toBeCloseTo(row.size, 9);
                await settle();
                const after = await positions();
                for (const p of before) {
                  const now = after.find((x) => x.id === p.id);
                  if (p.id === row.id) expect(now?.status, `closed row ${row.id}\n${log.join('\n')}`).toBe('closed');
                  else expect(now, `untouched ${p.id} by closing ${row.id}\n${log.join('\n')}`).toEqual(p);
                }
                break;
              }
              case 'cancel': {
                const open = (await api<{ items: Order[] }>(srv.base, token, `/api/orders?target=${TARGET}&status=open`)).json.items;
                const victim = open[a.pick % Math.max(1, open.length)];
                if (!victim) break;
                const res = await api<Order>(srv.base, token, `/api/orders/${victim.id}`, { method: 'DELETE' });
                expect([200, 409], JSON.stringify(res.json)).toContain(res.status);
                break;
              }
            }
            await settle();
            await check(`step ${n} ${a.k}`);
          }
        }),
        { numRuns: RUNS, seed: Number(process.env.HALYARD_PROPERTY_SEED ?? 20261203) },
      );
    }, 600_000);
  });
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
