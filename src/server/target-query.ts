import { HalyardError } from '../core/errors.ts';
import { parseTargetKey, resolveTarget } from '../exchange/targets.ts';

/** How a request names targets: `target` (exchange:env), or `exchange` with `env` / legacy `account_type`. */
export interface TargetQuery {
  readonly target?: string | undefined;
  readonly exchange?: string | undefined;
  readonly env?: string | undefined;
  readonly account_type?: string | undefined;
}

/** Which targets a query means: one target, every target of an exchange (no env given), or all. */
export function targetScope(q: TargetQuery): { targetKey?: string; exchange?: string } {
  if (q.target) return { targetKey: parseTargetKey(q.target).key };
  if (q.exchange) {
    const t = resolveTarget(q.exchange, q.env, q.account_type);
    return t ? { targetKey: t.key } : { exchange: q.exchange };
  }
  if (q.env || q.account_type) throw new HalyardError('invalid_input', 'env / account_type need exchange too (e.g. ?exchange=bybit&env=paper)');
  return {};
}

/** The one target a request acts on; refused when it names none or only an exchange. */
export function requiredTarget(q: TargetQuery): string {
  if (q.target) return parseTargetKey(q.target).key;
  if (!q.exchange) throw new HalyardError('invalid_input', 'say where: target (e.g. binance:paper), or exchange with env');
  const t = resolveTarget(q.exchange, q.env, q.account_type);
  if (!t) throw new HalyardError('invalid_input', `say which ${q.exchange} account: env (paper or live) or account_type`);
  return t.key;
}
