import { createHash } from 'node:crypto';
import type { NormalizedSignal } from './signal.ts';

/**
 * The dedupe key of a delivery: recorder, ticker, action, leg, target size, quantity, price, the signal's own
 * stop-loss / take-profit when it carries them (keys of signals without them are unchanged), and its own time and
 * order id. TradingView sends no delivery id, so a body with neither time nor order id is keyed by the
 * second it was received: a repeat within that second is a duplicate, a later identical alert is not.
 */
export function dedupeKey(recorderId: number, s: NormalizedSignal, receivedAt: number): string {
  const when = s.time !== null || s.orderId !== null ? `t${s.time ?? ''}|o${s.orderId ?? ''}` : `r${Math.floor(receivedAt / 1000)}`;
  const parts: (string | number)[] = [recorderId, s.ticker, s.action, s.positionSide ?? '', s.targetSize ?? '', s.qty ?? '', s.price ?? '', when];
  if (s.stopLoss !== null || s.takeProfit !== null) parts.push(`sl${s.stopLoss ?? ''}|tp${s.takeProfit ?? ''}`);
  return createHash('sha256').update(parts.join('\u001f')).digest('base64url').slice(0, 32);
}
