const DAY = 86_400_000;

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON safe to place inside an inline `<script>`: `<`, `>`, `&` and the JS line separators are written as
 * unicode escapes so no value can close the script element or open an HTML comment.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** ISO 8601 UTC string of an epoch-ms time, or '' when it is not a valid time. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

/** Compact UTC time for tables: `2024-01-31 13:45` (seconds dropped). */
export function shortTime(ms: number): string {
  const iso = isoTime(ms);
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : '';
}

/** Groups the integer part of a decimal string in thousands: `1234567.5` → `1,234,567.5`. */
function groupThousands(s: string): string {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  const frac = dot < 0 ? '' : body.slice(dot);
  return (neg ? '-' : '') + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + frac;
}

/** A fixed-decimals number with thousands separators; '—' for NaN / Infinity. */
export function fmtNumber(x: number, decimals = 2): string {
  if (!Number.isFinite(x)) return '—';
  const s = x.toFixed(decimals);
  // Avoid "-0.00" for tiny negatives.
  return groupThousands(/^-0\.?0*$/.test(s) ? s.slice(1) : s);
}

/** Money in quote currency with two decimals: `12,345.67`. */
export function fmtMoney(x: number): string {
  return fmtNumber(x, 2);
}

/** Money with an explicit sign, for PnL: `+12.30`, `-4.00`. */
export function fmtSigned(x: number, decimals = 2): string {
  const s = fmtNumber(x, decimals);
  return x > 0 && s !== '0' && !/^0\.0*$/.test(s) ? `+${s}` : s;
}

/** A fraction as a percentage: `0.1234` → `12.34 %`. */
export function fmtPercent(fraction: number, decimals = 2): string {
  return Number.isFinite(fraction) ? `${fmtNumber(fraction * 100, decimals)} %` : '—';
}

/** A duration in ms as days: `12.3 d`. */
export function fmtDays(ms: number): string {
  return Number.isFinite(ms) ? `${fmtNumber(ms / DAY, 1)} d` : '—';
}

/** A count with thousands separators. */
export function fmtCount(n: number): string {
  return fmtNumber(n, 0);
}

/** A price with sensible precision: more decimals for small prices. */
export function fmtPrice(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  const decimals = a >= 1000 ? 2 : a >= 1 ? 4 : a >= 0.01 ? 6 : 8;
  return fmtNumber(x, decimals);
}

/** Rounds to `digits` significant digits (keeps inline chart data short). */
export function sig(x: number, digits: number): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}
