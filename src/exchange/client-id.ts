import { createHash } from 'node:crypto';

/**
 * A deterministic client order id: `h` + 32 hex characters of SHA-256 over the parts (33 characters,
 * within Binance's and Bybit's 36 and mappable to Hyperliquid's 128-bit cloid). The same facts (user,
 * target, signal, leg, role) always give the same id, so a retry or a restart cannot place an order twice.
 */
export function clientOrderId(parts: readonly (string | number)[]): string {
  return `h${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32)}`;
}
