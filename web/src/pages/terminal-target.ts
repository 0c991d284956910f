import { h } from '../ui.ts';

/** An exchange of the selector with its two accounts (paper first), in the venue's own words. */
interface ExchangeChoice {
  readonly id: string;
  readonly label: string;
  readonly accounts: readonly { readonly accountType: string; readonly env: 'paper' | 'live'; readonly label: string }[];
}

/** The exchanges and accounts the terminal can show (the account types of docs/tracker.md, Targets). */
const EXCHANGES: readonly ExchangeChoice[] = [
  { id: 'bybit', label: 'Bybit', accounts: [{ accountType: 'demo', env: 'paper', label: 'Demo' }, { accountType: 'real', env: 'live', label: 'Real' }] },
  { id: 'hyperliquid', label: 'Hyperliquid', accounts: [{ accountType: 'testnet', env: 'paper', label: 'Testnet' }, { accountType: 'mainnet', env: 'live', label: 'Mainnet' }] },
  { id: 'binance', label: 'Binance', accounts: [{ accountType: 'demo', env: 'paper', label: 'Demo' }, { accountType: 'live', env: 'live', label: 'Live' }] },
  { id: 'sim', label: 'Sim', accounts: [{ accountType: 'paper', env: 'paper', label: 'Paper' }] },
];

/** The target the terminal shows: `exchange:env` plus what the selectors and the badge need. */
export interface TerminalTarget {
  /** `exchange:env`, e.g. `bybit:paper` (the API's target key). */
  readonly key: string;
  readonly exchange: string;
  readonly env: 'paper' | 'live';
  readonly accountType: string;
  /** e.g. "Bybit Demo". */
  readonly label: string;
}

const STORAGE_KEY = 'halyard.target';
const DEFAULT_TARGET = 'sim:paper';

/** Reads `exchange:env` or `exchange:account_type` (`bybit:demo` is `bybit:paper`); null when unknown. */
export function parseTarget(text: string | null | undefined): TerminalTarget | null {
  if (!text) return null;
  const [exchangeId = '', second = ''] = text.trim().toLowerCase().split(':');
  const ex = EXCHANGES.find((e) => e.id === exchangeId);
  const acc = ex?.accounts.find((a) => a.env === second || a.accountType === second);
  if (!ex || !acc) return null;
  return { key: `${ex.id}:${acc.env}`, exchange: ex.id, env: acc.env, accountType: acc.accountType, label: `${ex.label} ${acc.label}` };
}

/** The target to show: `?target=` of the hash, else the last one chosen in this browser, else sim:paper. */
export function chooseTarget(query: URLSearchParams): TerminalTarget {
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null;
  }
  const t = parseTarget(query.get('target')) ?? parseTarget(stored) ?? (parseTarget(DEFAULT_TARGET) as TerminalTarget);
  try {
    localStorage.setItem(STORAGE_KEY, t.key);
  } catch {
    // Private mode: the choice lasts as long as the hash.
  }
  return t;
}

/** DEMO for paper accounts, REAL for real money (seed 003; the API's own badge replaces it once loaded). */
export function badgeOf(env: string): 'DEMO' | 'REAL' {
  return env === 'live' ? 'REAL' : 'DEMO';
}

/** The selector bar: exchange and account selects and the DEMO / REAL badge; `go` receives the new target key. */
export function targetBar(target: TerminalTarget, go: (key: string) => void): { el: HTMLElement; setBadge: (badge: 'DEMO' | 'REAL') => void } {
  const exchangeSelect = h(
    'select',
    { id: 'exchangeSelect', name: 'exchange', 'aria-label': 'Exchange' },
    EXCHANGES.map((e) => h('option', { value: e.id, selected: e.id === target.exchange }, e.label)),
  );
  const current = EXCHANGES.find((e) => e.id === target.exchange);
  const accountSelect = h(
    'select',
    { id: 'accountSelect', name: 'account', 'aria-label': 'Account' },
    (current?.accounts ?? []).map((a) => h('option', { value: a.accountType, selected: a.accountType === target.accountType }, a.label)),
  );
  exchangeSelect.addEventListener('change', () => {
    const ex = EXCHANGES.find((e) => e.id === exchangeSelect.value);
    // A new exchange opens on its paper account: never land on real money by accident.
    if (ex?.accounts[0]) go(`${ex.id}:${ex.accounts[0].env}`);
  });
  accountSelect.addEventListener('change', () => {
    const acc = current?.accounts.find((a) => a.accountType === accountSelect.value);
    if (current && acc) go(`${current.id}:${acc.env}`);
  });
  const badgeEl = h('span', { class: 'target-badge', 'data-testid': 'target-badge' });
  const setBadge = (b: 'DEMO' | 'REAL'): void => {
    badgeEl.textContent = b;
    badgeEl.dataset.badge = b;
    badgeEl.title = b === 'REAL' ? 'Real money: orders here trade your funds' : 'Paper account: no real money';
  };
  setBadge(badgeOf(target.env));
  const el = h(
    'div',
    { class: 'target-bar' },
    h('label', { class: 'target-field' }, h('span', {}, 'Exchange'), exchangeSelect),
    h('label', { class: 'target-field' }, h('span', {}, 'Account'), accountSelect),
    badgeEl,
  );
  return { el, setBadge };
}

/** What a target without stored keys shows: how to add them (POST /api/accounts), not an error. */
export function noAccountView(target: TerminalTarget): HTMLElement {
  const origin = location.origin;
  const curl = [
    `curl -X POST ${origin}/api/accounts \\`,
    `  -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `  -d '{"target":"${target.key}","label":"${target.accountType}","api_key":"…","api_secret":"…"}'`,
  ].join('\n');
  return h(
    'section',
    { class: 'card no-account', 'data-state': 'empty', 'data-testid': 'no-account' },
    h('h2', {}, `No ${target.label} account yet`),
    h(
      'p',
      { class: 'muted' },
      `To see positions and trade on ${target.label}, store an API key of that account. Halyard keeps it encrypted (the server needs `,
      h('code', {}, 'ENCRYPTION_KEY'),
      ') and never shows it again.',
    ),
    h('pre', { class: 'code-block' }, curl),
    h(
      'p',
      { class: 'muted' },
      'Use a key with trading permission and without withdrawal rights. Until then, ',
      h('a', { href: '#/terminal?target=sim:paper' }, 'Sim Paper'),
      ' trades against the simulated exchange with no keys at all.',
    ),
  );
}
