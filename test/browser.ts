import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { BIN, ROOT, cliEnv } from './cli-run.ts';

/** Debian's Chromium: the only browser the tests drive (never a downloaded one). */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests skip here, or null when they run (under CI they never skip: `.ci/run` installs Chromium). */
export const chromiumSkipReason: string | null = existsSync(CHROMIUM) || process.env.CI ? null : `${CHROMIUM} is missing (apt-get install chromium)`;

/** Starts headless Chromium through playwright-core. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Builds the dashboard into web/dist when it is not there (a checkout whose install skipped the prepare script). */
export function ensureDashboardBuilt(): void {
  if (existsSync(join(ROOT, 'web', 'dist', 'index.html'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts'], { cwd: ROOT, stdio: 'ignore', timeout: 120_000 });
}

/** A running `halyard serve --demo` child process on its own store. */
export interface DemoServer {
  /** e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly base: string;
  /** The demo user's API token. */
  readonly token: string;
  /** The demo folder (its SQLite store is `halyard.db` there). */
  readonly dir: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the server printed (stdout and stderr). */
  output(): string;
  /** SIGTERM, then waits for the exit; removes the folder. Resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts the demo server on a free port (candles every `intervalMs`) and resolves once it printed its URL and token. */
export function startDemoServer(intervalMs: number): Promise<DemoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'halyard-e2e-'));
  const child = spawn(process.execPath, [BIN, 'serve', '--demo', '--demo-dir', dir, '--port', '0', '--demo-interval', String(intervalMs)], { cwd: ROOT, env: cliEnv({}) });
  const exited = new Promise<number | null>((r) => child.on('close', r));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the demo server did not print its URL and token in 30 s:\n${out}`));
    }, 30_000);
    const read = (s: string): void => {
      out += s;
      const base = /^dashboard: (http:\/\/\S+?)\/?$/m.exec(out)?.[1];
      const token = /^demo token: (\S+)$/m.exec(out)?.[1];
      if (!base || !token) return;
      clearTimeout(timer);
      resolve({
        base,
        token,
        dir,
        child,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const code = await exited;
          rmSync(dir, { recursive: true, force: true });
          return code;
        },
      });
    };
    child.stdout.setEncoding('utf8').on('data', read);
    child.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo server exited ${code}:\n${out}`));
    });
  });
}

/** A TCP relay in front of the server that can drop every connection, to test the dashboard's reconnect. */
export interface Relay {
  /** The server's base URL through the relay. */
  readonly base: string;
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  /** Accepts connections again. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a relay on a free loopback port in front of `base`. */
export async function startRelay(base: string): Promise<Relay> {
  const up = new URL(base);
  const sockets = new Set<Socket>();
  let refusing = false;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server: Server = createServer((down) => {
    track(down);
    if (refusing) return void down.destroy();
    const upstream = connect(Number(up.port), up.hostname);
    track(upstream);
    down.pipe(upstream).pipe(down);
    down.on('close', () => upstream.destroy());
    upstream.on('close', () => down.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('relay has no port');
  return {
    base: `http://127.0.0.1:${addr.port}`,
    cut: () => {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      refusing = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** What went wrong inside a page: uncaught errors and server answers of 500 and above. */
export interface PageFaults {
  readonly errors: string[];
  readonly serverErrors: string[];
}

/** Opens a page in a fresh context (its own storage: no session shared between users) and records its faults. */
export async function openPage(browser: Browser, viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page; faults: PageFaults }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const faults: PageFaults = { errors: [], serverErrors: [] };
  page.on('pageerror', (e) => faults.errors.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 500) faults.serverErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return { context, page, faults };
}

/** The page had no uncaught error and the server answered no 5xx. */
export function expectClean(faults: PageFaults): void {
  expect(faults.errors).toEqual([]);
  expect(faults.serverErrors).toEqual([]);
}

/** Signs in through the form with `token` and waits for the shell (the user's name in the header). */
export async function signIn(page: Page, base: string, token: string, hash = '#/terminal?target=sim:paper'): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.fill('#token', token);
  await page.click('[data-testid=sign-in]');
  await page.waitForSelector('[data-testid=user-name]', { state: 'attached' });
}

/** Goes to a hash route of the signed-in shell (no reload) and waits until the page has nothing loading. */
export async function go(page: Page, hash: string): Promise<void> {
  // hashchange fires later: mark what is shown now and wait until the router replaced it.
  await page.evaluate((h) => {
    for (const el of document.querySelectorAll('#page > *')) el.setAttribute('data-e2e-old', '');
    location.hash = h;
  }, hash);
  await page.waitForFunction(() => document.querySelector('#page > [data-e2e-old]') === null);
  await settled(page);
}

/** Waits until the page shows no loading state (charts and tables drawn). */
export async function settled(page: Page, timeout = 15_000): Promise<void> {
  await page.waitForFunction(() => {
    const main = document.getElementById('page');
    return main !== null && main.childElementCount > 0 && main.querySelector('[data-state=loading]') === null;
  }, undefined, { timeout });
}

/** Sets a marker on `window` that a reload would lose (to prove a change arrived without one). */
export async function markNoReload(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as Record<string, unknown>).__e2eNoReload = true));
}

/** True while the marker of markNoReload survives. */
export function stillSamePage(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as Record<string, unknown>).__e2eNoReload === true);
}

/** The laptop viewport of the dashboard checks (CSS px). */
export const LAPTOP = { width: 1400, height: 900 };
/** The phone viewport of the dashboard checks (CSS px). */
export const PHONE = { width: 390, height: 844 };
/** The backtest run the demo writes into its output folder. */
export const DEMO_RUN_ID = 'demo-sma-cross';

/** A recorder as the API shows it, with `hook`: its webhook on the server we started. */
export interface RecorderView {
  readonly id: number;
  readonly name: string;
  readonly webhook_url: string;
}

/** The demo server and the browser of one test file, with what its tests call. */
export interface DemoSuite {
  readonly demo: DemoServer;
  readonly browser: Browser;
  /** Calls the API as the holder of `token` (GET, or POST with `body`); JSON in and out. */
  call<T>(token: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Creates a recorder linked to sim:paper; returns it with `hook`, the webhook URL to post to. */
  newRecorder(token: string, name: string): Promise<RecorderView & { hook: string }>;
  /** Posts a TradingView-style signal body to a webhook; throws unless it is accepted. */
  postSignal(hook: string, body: Record<string, unknown>): Promise<void>;
  /** A page in a fresh context (closed after the file), with its faults recorded. */
  fresh(viewport?: { width: number; height: number }): Promise<{ page: Page; faults: PageFaults }>;
}

/**
 * Registers the file's beforeAll / afterAll: builds the dashboard when missing, starts one demo server (a
 * candle every 250 ms) and Chromium, and waits until the demo's backtest run is listed. The returned
 * object is filled in by beforeAll.
 */
export function demoSuite(): DemoSuite {
  let demo: DemoServer | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the demo suite has not started (beforeAll failed?)');
    return v;
  };
  const call = async <T>(token: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${need(demo).base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as T };
  };
  beforeAll(async () => {
    ensureDashboardBuilt();
    [demo, browser] = await Promise.all([startDemoServer(250), launchChromium()]);
    // The demo writes its backtest run from a child process: wait until the API lists it.
    const until = Date.now() + 60_000;
    while (!(await call<{ id: string }[]>(demo.token, '/api/backtests')).json.some((r) => r.id === DEMO_RUN_ID)) {
      if (Date.now() > until) throw new Error(`the demo backtest run ${DEMO_RUN_ID} is not listed after 60 s:\n${demo.output()}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 120_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    const code = await demo?.stop();
    // SIGTERM is a clean stop.
    if (code !== undefined && code !== 0) throw new Error(`the demo server exited ${code} on SIGTERM:\n${demo?.output()}`);
  });
  return {
    get demo() {
      return need(demo);
    },
    get browser() {
      return need(browser);
    },
    call,
    async newRecorder(token, name) {
      const r = await call<RecorderView>(token, '/api/recorders', { name, position_mode: 'oneway', targets: [{ target: 'sim:paper', multiplier: 1 }] });
      if (r.status !== 201) throw new Error(`POST /api/recorders answered ${r.status}: ${JSON.stringify(r.json)}`);
      // The webhook path is the secret; post it to the server we started (the advertised host may differ).
      return { ...r.json, hook: `${need(demo).base}${new URL(r.json.webhook_url).pathname}` };
    },
    async postSignal(hook, body) {
      const res = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (res.status !== 200 || (JSON.parse(text) as { status?: string }).status !== 'accepted') throw new Error(`signal ${JSON.stringify(body)} not accepted: ${res.status} ${text}`);
    },
    async fresh(viewport = LAPTOP) {
      const o = await openPage(need(browser), viewport);
      contexts.push(o.context);
      return { page: o.page, faults: o.faults };
    },
  };
}

/** The terminal's position rows of `symbol` (plus an extra selector such as `[data-kind=tracked]`). */
export function terminalRows(page: Page, symbol: string, extra = ''): ReturnType<Page['locator']> {
  return page.locator(`[data-testid=positions] tr[data-symbol="${symbol}"]${extra}`);
}
