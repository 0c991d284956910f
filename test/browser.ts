import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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
    const timer = setTimeout(() => reject(new Error(`the demo server did not print its URL and token in 30 s:\n${out}`)), 30_000);
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

/** Signs in through the form with `token` and waits for the shell (the user's name in the header). */
export async function signIn(page: Page, base: string, token: string, hash = '#/terminal?target=sim:paper'): Promise<void> {
  await page.goto(`${base}/${hash}`);
  await page.fill('#token', token);
  await page.click('[data-testid=sign-in]');
  await page.waitForSelector('[data-testid=user-name]', { state: 'attached' });
}

/** Goes to a hash route of the signed-in shell (no reload) and waits until the page has nothing loading. */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
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
