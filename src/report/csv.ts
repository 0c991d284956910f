import type { TradeRecord } from '../core/results.ts';
import { isoTime } from './format.ts';

/** Columns of trades.csv, in order. */
export const TRADES_CSV_COLUMNS = [
  'id', 'symbol', 'side', 'position_side', 'qty', 'entry_time', 'entry_price', 'exit_time', 'exit_price',
  'gross_pnl', 'fees', 'funding', 'pnl', 'pnl_percent', 'max_adverse', 'exit_reason', 'entries',
] as const;

/** One CSV field, quoted per RFC 4180 when it holds a comma, a double quote, CR or LF. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Fields of one trade in TRADES_CSV_COLUMNS order (times as ISO 8601 UTC). */
function tradeRow(t: TradeRecord): (string | number | null)[] {
  return [
    t.id, t.symbol, t.side, t.positionSide, t.qty, isoTime(t.entryTime), t.entryPrice, isoTime(t.exitTime),
    t.exitPrice, t.grossPnl, t.fees, t.funding, t.pnl, t.pnlPercent, t.maxAdverse, t.exitReason, t.entries,
  ];
}

/** trades.csv text: a header row then one row per trade, CRLF line endings (RFC 4180), numbers as JS prints them. */
export function tradesCsv(trades: readonly TradeRecord[]): string {
  const lines = [TRADES_CSV_COLUMNS.join(',')];
  for (const t of trades) lines.push(tradeRow(t).map(csvField).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
