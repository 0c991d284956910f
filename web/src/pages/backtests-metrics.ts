import { h, num, pnl } from '../ui.ts';

/** `2024-01-01T00:00:00.000Z` → `2024-01-01` (the day is what tells runs apart). */
export function isoDay(iso: string): string {
  return iso.slice(0, 10) || '—';
}

type Kind = 'money' | 'signedMoney' | 'frac' | 'signedFrac' | 'negFrac' | 'ratio' | 'int' | 'duration';

/** Summary fields (src/core/results.ts Summary) in the order a trader reads them; ratios are fractions. */
const METRICS: readonly (readonly [key: string, label: string, kind: Kind])[] = [
  ['totalReturn', 'Return', 'signedFrac'],
  ['maxDrawdown', 'Max drawdown', 'negFrac'],
  ['winRate', 'Win rate', 'frac'],
  ['trades', 'Trades', 'int'],
  ['profitFactor', 'Profit factor', 'ratio'],
  ['sharpe', 'Sharpe', 'ratio'],
  ['fees', 'Fees', 'money'],
  ['funding', 'Funding', 'signedMoney'],
  ['ambiguousCandles', 'Ambiguous candles', 'int'],
  ['finalEquity', 'Final equity', 'money'],
  ['initialBalance', 'Initial balance', 'money'],
  ['cagr', 'CAGR', 'signedFrac'],
  ['sortino', 'Sortino', 'ratio'],
  ['calmar', 'Calmar', 'ratio'],
  ['expectancy', 'Expectancy / trade', 'signedMoney'],
  ['avgWin', 'Avg win', 'signedMoney'],
  ['avgLoss', 'Avg loss', 'signedMoney'],
  ['exposure', 'Exposure', 'frac'],
  ['maxDrawdownDuration', 'Longest drawdown', 'duration'],
  ['liquidations', 'Liquidations', 'int'],
  ['rejectedOrders', 'Rejected orders', 'int'],
  ['drilledDownCandles', 'Drilled-down candles', 'int'],
];

/** A duration in ms as `3d 4h`, `5h 12m` or `40m`. */
export function duration(ms: number): string {
  const m = Math.round(ms / 60_000);
  const d = Math.floor(m / 1440);
  const hr = Math.floor((m % 1440) / 60);
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m % 60}m`;
  return `${m}m`;
}

function value(v: unknown, kind: Kind): Node | string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return v === null || v === undefined ? '—' : String(v);
  switch (kind) {
    case 'money':
      return num(v);
    case 'signedMoney':
      return pnl(v);
    case 'frac':
      return `${num(v * 100)} %`;
    case 'signedFrac':
      return h('span', { class: `pnl ${v > 0 ? 'pos' : v < 0 ? 'neg' : 'flat'}` }, `${v > 0 ? '+' : ''}${num(v * 100)} %`);
    case 'negFrac':
      return h('span', { class: v > 0 ? 'pnl neg' : 'pnl flat' }, `${num(-Math.abs(v) * 100)} %`);
    case 'ratio':
      return num(v);
    case 'int':
      return num(v, 0);
    case 'duration':
      return duration(v);
  }
}

function metric(label: string, v: Node | string, attrs: Record<string, string> = {}): HTMLElement {
  return h('div', { class: 'stat', ...attrs }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, v));
}

/**
 * The metrics grid of a run: net profit first, then the known summary fields in reading order, then any
 * field this page does not know yet (so a new metric still shows).
 */
export function metricsGrid(summary: Readonly<Record<string, unknown>>, netProfit: number): HTMLElement {
  const known = new Set(METRICS.map(([k]) => k));
  const cells = [metric('Net profit', pnl(netProfit), { 'data-metric': 'netProfit' })];
  for (const [key, label, kind] of METRICS) {
    if (!(key in summary)) continue;
    const warn = (key === 'ambiguousCandles' || key === 'liquidations') && typeof summary[key] === 'number' && (summary[key] as number) > 0;
    cells.push(metric(label, value(summary[key], kind), { 'data-metric': key, class: warn ? 'stat warn' : 'stat' }));
  }
  for (const [key, v] of Object.entries(summary)) {
    if (known.has(key) || (typeof v === 'object' && v !== null)) continue;
    cells.push(metric(key, typeof v === 'number' ? num(v) : String(v), { 'data-metric': key }));
  }
  return h('div', { class: 'stats bt-metrics', 'data-testid': 'backtest-metrics' }, cells);
}

const CONFIG_LABELS: Record<string, string> = {
  strategy: 'Strategy',
  exchange: 'Exchange',
  symbol: 'Symbol',
  timeframe: 'Timeframe',
  timeframes: 'Timeframes',
  fromIso: 'From',
  toIso: 'To',
  initialBalance: 'Initial balance',
  leverage: 'Leverage',
  fill: 'Fill model',
  makerFeeBps: 'Maker fee (bps)',
  takerFeeBps: 'Taker fee (bps)',
  slippageBps: 'Slippage (bps)',
  funding: 'Funding',
  slTpPolicy: 'SL/TP same bar',
  positionMode: 'Position mode',
  maintenanceMarginRate: 'Maintenance margin',
  drillDown: 'Drill-down',
  seed: 'Seed',
};
/** Epoch-ms twins of the ISO times: shown once, as ISO. */
const HIDDEN_CONFIG = new Set(['from', 'to', 'params']);

function show(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (Array.isArray(v)) return v.length ? v.map(show).join(', ') : '—';
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) return `${v.slice(0, 16).replace('T', ' ')} UTC`;
  return String(v);
}

/** The run's configuration: parameters as chips, then the settings (known ones labelled, in order). */
export function configView(config: Readonly<Record<string, unknown>>): HTMLElement {
  const params = config.params && typeof config.params === 'object' ? Object.entries(config.params as Record<string, unknown>) : [];
  const keys = [...Object.keys(CONFIG_LABELS).filter((k) => k in config), ...Object.keys(config).filter((k) => !(k in CONFIG_LABELS) && !HIDDEN_CONFIG.has(k))];
  return h(
    'div',
    { class: 'bt-config', 'data-testid': 'backtest-config' },
    h('div', { class: 'bt-params' }, h('span', { class: 'muted' }, 'Params'), params.length ? params.map(([k, v]) => h('span', { class: 'badge' }, `${k} = ${show(v)}`)) : h('span', { class: 'muted' }, 'none')),
    h('dl', {}, keys.map((k) => h('div', { class: 'bt-config-item' }, h('dt', {}, CONFIG_LABELS[k] ?? k), h('dd', {}, show(config[k]))))),
  );
}
