import type { Kysely } from 'kysely';
import { sideSign, type Side } from '../core/types.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { ledgerRows } from '../store/reconciliation.ts';
import type { Database } from '../store/schema.ts';

/** What the ledger attributes to a target on one venue symbol and leg: the signed size (base units, + long) and the positions. */
export interface Attributed {
  readonly net: number;
  readonly ids: readonly string[];
}

/**
 * The open ledger positions a user's target holds on a venue symbol and leg (`leg` null: one-way), summed
 * signed — the right-hand side of the live path's invariant for that symbol (`ledgerRows`).
 */
export async function attributedOn(db: Kysely<Database>, userId: number, targetKey: string, symbol: string, leg: Side | null): Promise<Attributed> {
  const exchange = parseTargetKey(targetKey).exchange;
  let net = 0;
  const ids: string[] = [];
  for (const r of await ledgerRows(db, userId, targetKey)) {
    if ((r.position_side ?? null) !== leg) continue;
    let s: string;
    try {
      s = venueSymbol(r.symbol, exchange);
    } catch {
      continue;
    }
    if (s !== symbol) continue;
    net += sideSign(r.side as Side) * r.qty;
    ids.push(r.id);
  }
  return { net, ids };
}
