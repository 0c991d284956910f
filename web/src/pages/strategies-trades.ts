import { api, qs, type Target, type Trade } from '../api.ts';
import { badge, card, download, h, loadInto, num, paged, pct, pnl, price, qty, table, tickerOf, time } from '../ui.ts';

/** Trades asked for at once (the API's maximum). */
const LIMIT = 1000;

/** The filters of the trades list (all strings: empty means any). */
export interface TradeFilters {
  strategy: string;
  symbol: string;
  target: string;
  source: string;
  side: string;
  /** YYYY-MM-DD (UTC), on the close time. */
  from: string;
  to: string;
}

const FILTER_KEYS = ['strategy', 'symbol', 'target', 'source', 'side', 'from', 'to'] as const;

/** The filters read from a query (the page's address). */
export function filtersFrom(q: URLSearchParams): TradeFilters {
  const f = { strategy: '', symbol: '', target: '', source: '', side: '', from: '', to: '' };
  for (const k of FILTER_KEYS) f[k] = q.get(k) ?? '';
  return f;
}

/** Epoch ms of the start of a UTC day (`YYYY-MM-DD`), plus `days`; undefined when blank or invalid. */
function dayMs(day: string, days = 0): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) ? t + days * 86_400_000 : undefined;
}

/** A trade's net PnL (quote): realized minus fees. */
export function netPnl(t: Trade): number {
  return t.realized_pnl - t.fees;
}

/** Whether a trade passes the filters (the server filters too; this keeps the list right either way). */
function matches(t: Trade, f: TradeFilters): boolean {
  const from = dayMs(f.from);
  const to = dayMs(f.to, 1);
  return (
    (!f.strategy || t.strategy === f.strategy) &&
    (!f.symbol || tickerOf(t.symbol) === tickerOf(f.symbol)) &&
    (!f.target || t.target === f.target) &&
    (!f.source || t.source === f.source) &&
    (!f.side || t.side === f.side) &&
    (from === undefined || t.closed_at >= from) &&
    (to === undefined || t.closed_at < to)
  );
}

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(v: string | number | null): string {
  // 12 significant digits drop float noise (10.370000000000074 → 10.37) and keep every real digit.
  const s = v === null ? '' : typeof v === 'number' ? String(Number(v.toPrecision(12))) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Trades as CSV: a header row, then one line per trade, times in ISO 8601 (UTC). */
export function tradesCsv(trades: readonly Trade[]): string {
  const head = ['id', 'position_id', 'strategy', 'source', 'target', 'symbol', 'side', 'qty', 'entry_price', 'exit_price', 'realized_pnl', 'fees', 'net_pnl', 'max_adverse', 'opened_at', 'closed_at', 'recorder_id'];
  const lines = trades.map((t) =>
    [t.id, t.position_id, t.strategy, t.source, t.target, t.symbol, t.side, t.qty, t.entry_price, t.exit_price, t.realized_pnl, t.fees, netPnl(t), t.max_adverse, iso(t.opened_at), iso(t.closed_at), t.recorder_id]
      .map(csvField)
      .join(','),
  );
  return `${[head.join(','), ...lines].join('\r\n')}\r\n`;
}

function summary(trades: readonly Trade[]): HTMLElement {
  const net = trades.reduce((a, t) => a + netPnl(t), 0);
  const wins = trades.filter((t) => netPnl(t) > 0).length;
  return h(
    'p',
    { class: 'trade-summary', 'data-testid': 'trade-summary' },
    h('span', {}, h('b', { 'data-testid': 'trade-count' }, String(trades.length)), trades.length === 1 ? ' trade' : ' trades'),
    h('span', { title: 'Σ Net PnL of the trades listed (realized − fees)' }, 'net ', h('span', { 'data-testid': 'trade-net' }, pnl(net))),
    h('span', {}, 'win rate ', h('b', { 'data-testid': 'trade-win-rate' }, trades.length ? pct((wins / trades.length) * 100, 1) : '—')),
    trades.length >= LIMIT ? h('span', { class: 'muted' }, `(the newest ${LIMIT}: narrow the filters to see older ones)`) : null,
  );
}

function tradesTable(trades: readonly Trade[]): HTMLElement {
  return table<Trade>(
    [
      { label: 'Closed (UTC)', field: 'closed', cell: (t) => time(t.closed_at) },
      { label: 'Strategy', field: 'strategy', cell: (t) => t.strategy ?? h('span', { class: 'muted' }, '—') },
      { label: 'Symbol', field: 'symbol', cell: (t) => t.symbol },
      { label: 'Side', field: 'side', cell: (t) => badge(t.side) },
      { label: 'Qty', className: 'num', field: 'qty', cell: (t) => qty(t.qty) },
      { label: 'Entry', className: 'num', field: 'entry', cell: (t) => price(t.entry_price) },
      { label: 'Exit', className: 'num', field: 'exit', cell: (t) => price(t.exit_price) },
      { label: 'Fees', className: 'num', field: 'fees', cell: (t) => num(t.fees) },
      { label: 'Net PnL', className: 'num', field: 'pnl', cell: (t) => pnl(netPnl(t)) },
      { label: 'Target', field: 'target', cell: (t) => h('span', { class: 'mono' }, t.target ?? '—') },
      { label: 'Source', field: 'source', cell: (t) => badge(t.source) },
    ],
    trades,
    (t) => ({ 'data-trade-id': t.id, 'data-side': t.side, 'data-source': t.source }),
    'trades',
  );
}

function select(name: string, label: string, options: readonly (readonly [string, string])[], value: string): HTMLElement {
  const s = h('select', { name, id: `tf-${name}` }, options.map(([v, text]) => h('option', { value: v }, text)));
  s.value = value;
  return h('div', { class: 'tf-field' }, h('label', { for: `tf-${name}` }, label), s);
}

function input(name: string, label: string, type: string, value: string, placeholder = ''): HTMLElement {
  return h('div', { class: 'tf-field' }, h('label', { for: `tf-${name}` }, label), h('input', { name, id: `tf-${name}`, type, value, placeholder }));
}

/**
 * The trades section: a filter form, a summary line, the table and a CSV export of what the filters keep.
 * `onChange` is told the filters whenever they change (the page keeps them in its address). Returns the
 * section and a function that loads the trades again.
 */
export function tradesSection(opts: { initial: TradeFilters; strategies: Promise<readonly string[]>; onChange: (f: TradeFilters) => void }): { el: HTMLElement; reload: () => Promise<void> } {
  let filters = { ...opts.initial };
  let shown: Trade[] = [];
  const anyOf = (label: string, values: readonly string[]): [string, string][] => [['', label], ...values.map((v): [string, string] => [v, v])];
  const kept = (v: string): string[] => (v ? [v] : []);
  const strategyField = select('strategy', 'Strategy', anyOf('Any strategy', kept(filters.strategy)), filters.strategy);
  const targetField = select('target', 'Target', anyOf('Any target', kept(filters.target)), filters.target);
  const form = h(
    'form',
    { class: 'trade-filters', 'data-testid': 'trade-filters', 'aria-label': 'Trade filters' },
    strategyField,
    input('symbol', 'Symbol', 'text', filters.symbol, 'BTCUSDT'),
    targetField,
    select('source', 'Source', anyOf('Any source', ['engine', 'signal', 'webapp', 'exchange']), filters.source),
    select('side', 'Side', [['', 'Both sides'], ['long', 'Long'], ['short', 'Short']], filters.side),
    input('from', 'Closed from', 'date', filters.from),
    input('to', 'Closed to', 'date', filters.to),
    h('div', { class: 'tf-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'), h('button', { type: 'reset', class: 'btn btn-ghost' }, 'Clear')),
  );
  // Options come from the API; the value in the address is kept even before they arrive.
  const fill = (field: HTMLElement, any: string, values: readonly string[]): void => {
    const sel = field.querySelector('select');
    if (!sel) return;
    const v = sel.value;
    sel.replaceChildren(...anyOf(any, [...new Set([...values, ...kept(v)])]).map(([value, text]) => h('option', { value }, text)));
    sel.value = v;
  };
  void api<Target[]>('/api/targets')
    .then((targets) => fill(targetField, 'Any target', targets.map((t) => t.target)))
    .catch(() => {});
  void opts.strategies.then((names) => fill(strategyField, 'Any strategy', names)).catch(() => {});
  const summaryBox = h('div');
  const box = h('div');
  const exportBtn = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'export-csv', disabled: true }, 'Export CSV');
  exportBtn.addEventListener('click', () => download(`trades-${new Date().toISOString().slice(0, 10)}.csv`, tradesCsv(shown)));

  const load = async (): Promise<Trade[]> => {
    const f = filters;
    const end = dayMs(f.to, 1);
    const query = { strategy: f.strategy, symbol: f.symbol, target: f.target, source: f.source, side: f.side, from: dayMs(f.from), to: end === undefined ? undefined : end - 1, limit: LIMIT };
    const rows = await api<Trade[]>(`/api/trades${qs(query)}`);
    shown = rows.filter((t) => matches(t, f));
    exportBtn.disabled = shown.length === 0;
    summaryBox.replaceChildren(summary(shown));
    return shown;
  };
  const reload = loadInto(box, load, (rows) => paged(rows, tradesTable), {
    isEmpty: (rows) => rows.length === 0,
    empty: 'No closed trades match these filters.',
    loading: 'Loading trades…',
  });
  const apply = (): void => {
    const data = new FormData(form);
    const next = { ...filters };
    for (const k of FILTER_KEYS) next[k] = String(data.get(k) ?? '').trim();
    filters = next;
    opts.onChange(filters);
    summaryBox.replaceChildren();
    void reload();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });
  form.addEventListener('reset', () => setTimeout(() => {
    for (const el of form.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.value = '';
    apply();
  }));
  for (const el of form.querySelectorAll('select')) el.addEventListener('change', apply);
  const el = card('Closed trades', h('div', {}, form, summaryBox, box), [exportBtn], { 'data-testid': 'trades-card' });
  return { el, reload };
}
