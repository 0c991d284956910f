import { denoise } from '../core/round.ts';
import { errorMessage } from '../core/errors.ts';
import type { Ledger } from '../core/ledger.ts';
import { sideSign, type OrderSide, type Side } from '../core/types.ts';
import { clientOrderId } from '../exchange/client-id.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import type { NewIntent } from '../store/order-intents.ts';

/** A leg of a ticker in a signal book: signed size (+ long, − short; base units) and its bracket prices. */
export interface LegState {
  readonly signed: number;
  readonly stopLoss: number | null;
  readonly takeProfit: number | null;
}

/** Legs of `ticker` keyed `net` (one-way) or `long` / `short` (hedge). Flat legs are absent. */
export function legsOf(ledger: Ledger, ticker: string): Map<string, LegState> {
  const legs = new Map<string, LegState>();
  for (const p of ledger.open) {
    if (p.symbol !== ticker) continue;
    legs.set(p.positionSide ?? 'net', { signed: sideSign(p.side) * p.qty, stopLoss: p.stopLoss, takeProfit: p.takeProfit });
  }
  return legs;
}

/** A target a recorder executes on, with its size multiplier. */
export interface ExecutionLink {
  readonly targetKey: string;
  readonly multiplier: number;
}

/** What one applied signal needs to become orders. */
export interface SignalOrderInput {
  readonly userId: number;
  readonly recorderId: number;
  readonly signalId: number;
  readonly ticker: string;
  readonly before: ReadonlyMap<string, LegState>;
  readonly after: ReadonlyMap<string, LegState>;
  readonly links: readonly ExecutionLink[];
  /**
   * A target whose venue already made (part of) this change: a signal's bracket filled there for `signed`
   * base units (+ bought, − sold). It gets an order only for what the bracket did not fill, and its bracket canceled.
   */
  readonly doneOn?: { readonly targetKey: string; readonly leg: Side | null; readonly signed: number };
}

const EPS = 1e-12;

/**
 * The orders that move each linked target the way the signal moved the recorder's book: per changed leg a
 * market order for the size change × multiplier (reduce-only when it only reduces), then — when the leg's
 * size or its stop-loss / take-profit changed — a cancel of the leg's previous bracket and, if the leg is
 * still open with SL/TP, a new reduce-only stop and take-profit for the whole leg. Client ids derive from
 * (user, target, signal, leg, role), so the same signal always yields the same orders.
 */
export function planSignalOrders(input: SignalOrderInput): NewIntent[] {
  const intents: NewIntent[] = [];
  const legKeys = new Set([...input.before.keys(), ...input.after.keys()]);
  for (const link of input.links) {
    let symbol: string;
    try {
      symbol = symbolOn(input.ticker, link.targetKey);
    } catch (e) {
      intents.push(refusal(input, link.targetKey, input.ticker, errorMessage(e)));
      continue;
    }
    for (const leg of [...legKeys].sort()) {
      const was = input.before.get(leg) ?? { signed: 0, stopLoss: null, takeProfit: null };
      const now = input.after.get(leg) ?? { signed: 0, stopLoss: null, takeProfit: null };
      const m = link.multiplier;
      const positionSide = leg === 'net' ? null : (leg as Side);
      const done = input.doneOn && input.doneOn.targetKey === link.targetKey && input.doneOn.leg === positionSide ? input.doneOn.signed : 0;
      const delta = (now.signed - was.signed) * m - done;
      const leg0: IntentLeg = { userId: input.userId, targetKey: link.targetKey, recorderId: input.recorderId, signalId: input.signalId, symbol, leg, positionSide };
      if (Math.abs(delta) > 1e-9) {
        const onlyReduces = Math.abs(now.signed) < Math.abs(was.signed) - EPS && now.signed * was.signed >= 0;
        const role = onlyReduces ? 'exit' : 'entry';
        intents.push(intentOf(leg0, 'place', role, role, delta > 0 ? 'buy' : 'sell', 'market', denoise(Math.abs(delta)), null, onlyReduces && positionSide === null ? 1 : 0));
      }
      const sizeChanged = Math.abs(delta) > EPS;
      const bracketChanged = was.stopLoss !== now.stopLoss || was.takeProfit !== now.takeProfit;
      const hadBracket = was.signed !== 0 && (was.stopLoss !== null || was.takeProfit !== null);
      const wantsBracket = now.signed !== 0 && (now.stopLoss !== null || now.takeProfit !== null);
      if (!(sizeChanged || bracketChanged) || !(hadBracket || wantsBracket)) continue;
      if (hadBracket) {
        intents.push(intentOf(leg0, 'cancel', 'bracket', 'cancel_bracket', 'buy', 'market', 0, null, 0));
      }
      if (!wantsBracket) continue;
      const closeSide: OrderSide = now.signed > 0 ? 'sell' : 'buy';
      const qty = denoise(Math.abs(now.signed) * m);
      const reduce = positionSide === null ? 1 : 0;
      if (now.stopLoss !== null) {
        intents.push(intentOf(leg0, 'place', 'stop_loss', 'stop_loss', closeSide, 'stop', qty, now.stopLoss, reduce));
      }
      if (now.takeProfit !== null) {
        intents.push(intentOf(leg0, 'place', 'take_profit', 'take_profit', closeSide, 'take_profit', qty, now.takeProfit, reduce));
      }
    }
  }
  return intents;
}

/** Venue symbols by target and ticker: the same few are mapped for every signal (bounded: started anew past 1,000). */
let symbols = new Map<string, string>();

/** The venue symbol of `ticker` on the target `targetKey` (throws for a ticker no perpetual maps to, never cached). */
function symbolOn(ticker: string, targetKey: string): string {
  const key = `${targetKey}|${ticker}`;
  let symbol = symbols.get(key);
  if (symbol === undefined) {
    symbol = venueSymbol(ticker, parseTargetKey(targetKey).exchange);
    if (symbols.size >= 1000) symbols = new Map();
    symbols.set(key, symbol);
  }
  return symbol;
}

/** The leg of a target an intent acts on. */
interface IntentLeg {
  readonly userId: number;
  readonly targetKey: string;
  readonly recorderId: number;
  readonly signalId: number;
  /** The venue's symbol. */
  readonly symbol: string;
  /** `net`, `long` or `short`. */
  readonly leg: string;
  readonly positionSide: Side | null;
}

/**
 * One intent of a leg, written out whole: V8 (Node 20) builds `{ ...base, more }` literals many times
 * slower than plain ones, and this runs for every signal. The client id hashes (user, target, signal, leg, `idRole`).
 */
function intentOf(l: IntentLeg, action: string, role: string, idRole: string, side: OrderSide, type: string, qty: number, triggerPrice: number | null, reduceOnly: number): NewIntent {
  return {
    user_id: l.userId,
    target_key: l.targetKey,
    recorder_id: l.recorderId,
    signal_id: l.signalId,
    group_key: `${l.targetKey}|r${l.recorderId}|${l.symbol}|${l.leg}`,
    symbol: l.symbol,
    position_side: l.positionSide,
    source: 'signal',
    opened_by: 'signal',
    cancels_intent_id: null,
    price: null,
    action,
    role,
    client_id: clientOrderId([l.userId, l.targetKey, l.signalId, l.leg, idRole]),
    side,
    type,
    qty,
    trigger_price: triggerPrice,
    reduce_only: reduceOnly,
  };
}

/** A visible failure for a target whose ticker cannot be mapped: stored as rejected, never sent. */
function refusal(input: SignalOrderInput, targetKey: string, ticker: string, reason: string): NewIntent {
  return {
    user_id: input.userId,
    target_key: targetKey,
    recorder_id: input.recorderId,
    signal_id: input.signalId,
    group_key: `${targetKey}|r${input.recorderId}|${ticker}|?`,
    action: 'place',
    role: 'entry',
    cancels_intent_id: null,
    client_id: clientOrderId([input.userId, targetKey, input.signalId, 'unmapped']),
    symbol: ticker,
    side: 'buy',
    type: 'market',
    qty: 0,
    price: null,
    trigger_price: null,
    position_side: null,
    reduce_only: 0,
    source: 'signal',
    opened_by: 'signal',
    status: 'rejected',
    last_error: reason,
    last_error_code: 'invalid_input',
  };
}
