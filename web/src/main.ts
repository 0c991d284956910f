import './style.css';
import { api, ApiError, saveToken, savedToken, setUnauthorizedHandler, TOKEN_STORAGE_KEY, type Me } from './api.ts';
import { Live, type LiveState } from './live.ts';
import type { Page } from './page.ts';
import { backtestsPage } from './pages/backtests.ts';
import { equityPage } from './pages/equity.ts';
import { reconciliationPage } from './pages/reconciliation.ts';
import { signalsPage } from './pages/signals.ts';
import { strategiesPage } from './pages/strategies.ts';
import { terminalPage } from './pages/terminal.ts';
import { errorText, h, stateView } from './ui.ts';

const PAGES: readonly Page[] = [terminalPage, signalsPage, equityPage, strategiesPage, backtestsPage, reconciliationPage];
const app = document.getElementById('app') as HTMLElement;

let session: { me: Me; live: Live; token: string } | null = null;
let cleanup: (() => void) | null = null;

setUnauthorizedHandler((reason) => signOut(`Signed out: ${reason}`));

// Signing out in another tab forgets the token there: this tab follows instead of going on with it.
window.addEventListener('storage', (e) => {
  if (session && e.key === TOKEN_STORAGE_KEY && e.newValue === null) signOut('Signed out in another tab.');
});

function signOut(message?: string): void {
  session?.live.stop();
  session = null;
  saveToken(null);
  showSignIn(message);
}

function showSignIn(message?: string): void {
  cleanup?.();
  cleanup = null;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', placeholder: 'hly_…', required: true, 'aria-label': 'API token' });
  const err = h('p', { class: 'form-error', 'data-testid': 'sign-in-error', role: 'alert', hidden: !message }, message ?? '');
  const button = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'sign-in' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin card' },
    h('h1', {}, 'Halyard'),
    h('p', { class: 'muted' }, 'Sign in with an API token. Create one with ', h('code', {}, 'halyard users add <name>'), ', or start ', h('code', {}, 'halyard serve --demo'), ', which prints one.'),
    h('label', { for: 'token' }, 'API token'),
    input,
    err,
    button,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (!token) return;
    button.disabled = true;
    button.textContent = 'Signing in…';
    void api<Me>('/api/me', { token })
      .then((me) => {
        saveToken(token);
        startSession(me, token);
      })
      .catch((e: unknown) => {
        err.hidden = false;
        // 401 says why: unknown, revoked or expired (with the command that makes a new one).
        err.textContent = e instanceof ApiError && e.status === 401 ? e.message : errorText(e);
        button.disabled = false;
        button.textContent = 'Sign in';
      });
  });
  app.replaceChildren(h('main', { class: 'signin-wrap' }, form));
  input.focus();
}

const STATE_TEXT: Record<LiveState, string> = { connecting: 'Connecting', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' };

function startSession(me: Me, token: string): void {
  session?.live.stop();
  const live = new Live(token);
  session = { me, live, token };
  live.start();
  const status = h('span', { class: 'live-status', 'data-testid': 'live-status', 'data-state': live.state, title: 'Live updates from the server' }, STATE_TEXT[live.state]);
  live.onState((s) => {
    status.dataset.state = s;
    status.textContent = STATE_TEXT[s];
  });
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Pages' },
    PAGES.map((p) => h('a', { href: `#/${p.id}`, 'data-testid': `nav-${p.id}`, 'data-page': p.id }, p.title)),
  );
  const main = h('main', { class: 'page', id: 'page' });
  app.replaceChildren(
    h(
      'header',
      { class: 'topbar' },
      h('a', { class: 'brand', href: '#/terminal' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '▲'), 'Halyard'),
      nav,
      h('div', { class: 'who' }, status, h('span', { class: 'user', 'data-testid': 'user-name' }, me.name), h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'data-testid': 'sign-out', onclick: () => signOut() }, 'Sign out')),
    ),
    main,
  );
  route();
}

function route(): void {
  if (!session) return;
  const main = document.getElementById('page');
  if (!main) return;
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  const [id = 'terminal', ...params] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const page = PAGES.find((p) => p.id === id);
  cleanup?.();
  cleanup = null;
  for (const a of document.querySelectorAll<HTMLAnchorElement>('.nav a')) a.classList.toggle('active', a.dataset.page === (page?.id ?? ''));
  if (!page) {
    main.replaceChildren(stateView('empty', `No page "${id}".`, { label: 'Open the terminal', run: () => (location.hash = '#/terminal') }));
    return;
  }
  document.title = `${page.title} · Halyard`;
  main.replaceChildren();
  main.dataset.page = page.id;
  const ctx = { me: session.me, live: session.live, params, query: new URLSearchParams(query), navigate: (hash: string) => (location.hash = hash) };
  try {
    cleanup = page.render(main, ctx) ?? null;
  } catch (e) {
    main.replaceChildren(stateView('error', errorText(e)));
  }
}

window.addEventListener('hashchange', route);

// Resume a saved session, else sign in.
const token = savedToken();
if (!token) showSignIn();
else {
  app.replaceChildren(stateView('loading', 'Signing in…'));
  api<Me>('/api/me', { token })
    .then((me) => startSession(me, token))
    .catch((e: unknown) => {
      if (e instanceof ApiError && e.status === 401) signOut(`Your saved token no longer works: ${e.message}`);
      else app.replaceChildren(stateView('error', errorText(e), { label: 'Retry', run: () => location.reload() }));
    });
}
