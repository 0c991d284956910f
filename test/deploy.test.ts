// The deploy recipe as far as this machine can check it (no images can be pulled here): compose.yaml,
// the Dockerfile's runtime layout (the build without sources, run for real), the Procfile's commands run
// for real (the web process answers /healthz, /readyz and /metrics; the worker runs a forward test against
// the Binance stub), railway.toml names the Procfile's worker, and `halyard db backup` / restore.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, REPO } from './docs-runner.ts';
import { BinanceMarketStub } from './stubs/binance-market.ts';
import { stubSeries } from './stubs/market-stub-kit.ts';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  image?: string;
  build?: string;
}

/** The image's /app as the Dockerfile's runtime stage lays it out: the build, no `src/`. */
let app: string;
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'halyard-deploy-'));
  app = join(tmp, 'app');
  mkdirSync(app);
  const copies = [...readFileSync(join(REPO, 'Dockerfile'), 'utf8').matchAll(/^COPY --from=build \/app\/(\S+) \.\/(\S*)$/gm)].map((m) => m[1]!);
  for (const p of copies) {
    if (p === 'node_modules') symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'));
    else cpSync(join(REPO, p), join(app, p), { recursive: true });
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `halyard …` in the image layout; returns its exit code and output. */
function halyard(args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['bin/halyard.js', ...args], { cwd: app, env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Starts a Procfile line with bash (so `${PORT:-8080}` expands) in the image layout. */
function startLine(line: string, env: Record<string, string>): ChildProcess {
  return spawn('bash', ['-c', `exec ${line}`], { cwd: app, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

async function stop(p: ChildProcess): Promise<number | null> {
  if (p.exitCode !== null) return p.exitCode;
  const done = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
  p.kill('SIGTERM');
  const killer = setTimeout(() => p.kill('SIGKILL'), 15_000);
  return done.finally(() => clearTimeout(killer));
}

async function until<T>(what: string | (() => string), f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const procfile = (): Record<string, string> =>
  Object.fromEntries(
    readFileSync(join(REPO, 'Procfile'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );

describe('the Dockerfile', () => {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
  it('builds in one stage and runs as a non-root user in another, with a health check on /healthz', () => {
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(text).toMatch(/^VOLUME \/data$/m);
  });

  it('lays out an image that runs without sources: a backtest, and the server answering its health check', async () => {
    expect(existsSync(join(app, 'src'))).toBe(false);
    const bt = halyard(['backtest', 'strategies/sma-cross.ts', '--synthetic', '--days', '3', '--json', '--no-report']);
    expect(bt.code, bt.out).toBe(0);
    expect((JSON.parse(bt.out) as { summary: { trades: number } }).summary.trades).toBeGreaterThan(0);
    const cmd = /^CMD \[(.*)\]$/m.exec(text)![1]!.split(',').map((s) => JSON.parse(s.trim()) as string);
    const port = await freePort();
    const data = join(tmp, 'cmd-data');
    const server = spawn(cmd[0] === 'node' ? process.execPath : cmd[0]!, [...cmd.slice(1, -1), String(port)], { cwd: app, env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_PATH: join(data, 'halyard.db'), OUTPUT_PATH: join(data, 'output') }, stdio: 'ignore' });
    try {
      const health = await until('/healthz', async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return r?.ok ? ((await r.json()) as unknown) : undefined;
      });
      expect(health).toEqual({ ok: true, database: 'sqlite' });
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(200); // the dashboard is in the image
    } finally {
      expect(await stop(server)).toBe(0);
    }
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(join(REPO, 'compose.yaml'), 'utf8')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> };
  it('runs the server on PostgreSQL and a paper worker on its own volume, with commands the CLI has', () => {
    const { serve, worker, postgres } = compose.services;
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(serve?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/halyard:\$\{POSTGRES_PASSWORD\}@postgres:5432\/halyard$/);
    expect(serve?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(worker?.environment?.DATABASE_PATH).toBe('/data/trading.db');
    expect(worker?.volumes).toContain('workerdata:/data');
    for (const s of Object.values(compose.services)) {
      for (const v of s.volumes ?? []) expect(Object.keys(compose.volumes)).toContain(v.split(':')[0]);
    }
    for (const name of ['serve', 'worker']) {
      const cmd = compose.services[name]!.command!;
      expect(cmd.slice(0, 2)).toEqual(['node', 'bin/halyard.js']);
      const help = halyard([cmd[2]!, '--help']);
      expect(help.code, help.out).toBe(0);
    }
    // The worker is the Procfile's worker.
    expect(compose.services.worker!.command!.join(' ')).toBe(procfile().worker);
  });
});

describe('Procfile and railway.toml', () => {
  it('railway.toml starts the Procfile worker and restarts it always', () => {
    const toml = readFileSync(join(REPO, 'railway.toml'), 'utf8');
    expect(/^startCommand = "(.*)"$/m.exec(toml)?.[1]).toBe(procfile().worker);
    expect(toml).toMatch(/^restartPolicyType = "ALWAYS"$/m);
    expect(toml).toMatch(/^builder = "DOCKERFILE"$/m);
  });

  it('web: the server on $PORT answers /healthz, /readyz and /metrics', async () => {
    const port = await freePort();
    const data = join(tmp, 'web-data');
    const web = startLine(procfile().web!, { PORT: String(port), DATABASE_PATH: join(data, 'halyard.db'), OUTPUT_PATH: join(data, 'output') });
    try {
      await until('/readyz', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined));
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('halyard_http_requests_total');
    } finally {
      expect(await stop(web)).toBe(0);
    }
  });

  it('worker: the forward test runs on live candles (the Binance stub) and persists its run in DATABASE_PATH', async () => {
    const stub = await BinanceMarketStub.start({ series: stubSeries(200 * 1440, Date.UTC(2024, 0, 1)) });
    const data = join(tmp, 'worker-data');
    const db = join(data, 'trading.db');
    let out = '';
    const worker = startLine(procfile().worker!, { DATABASE_PATH: db, CACHE_PATH: join(data, 'candles'), HALYARD_EXCHANGE_URL_BINANCE: stub.url });
    worker.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    worker.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    try {
      const run = await until(() => `the paper run row (worker output: ${out})`, async () => {
        if (worker.exitCode !== null) throw new Error(`the worker exited ${worker.exitCode}: ${out}`);
        if (!existsSync(db)) return undefined;
        const sqlite = new BetterSqlite3(db, { readonly: true, fileMustExist: true });
        try {
          const table = sqlite.prepare("select name from sqlite_master where name = 'paper_runs'").get();
          return table === undefined ? undefined : (sqlite.prepare("select id, mode, status, target_key from paper_runs where id = 'forward-test'").get() as Record<string, unknown> | undefined);
        } finally {
          sqlite.close();
        }
      }, 80_000);
      expect(run).toEqual({ id: 'forward-test', mode: 'live', status: 'running', target_key: 'sim:paper' });
      expect(worker.exitCode, out).toBeNull();
    } finally {
      await stop(worker);
      await stub.close();
    }
  }, 120_000);
});

describe('halyard db backup', () => {
  it('copies a SQLite store that opens with the same rows, never overwrites, and sends PostgreSQL to pg_dump', () => {
    const data = join(tmp, 'backup');
    const env = { DATABASE_PATH: join(data, 'halyard.db') };
    expect(halyard(['users', 'add', 'alice'], env).code).toBe(0);
    const file = join(data, 'backups', 'halyard-1.db');
    const b = halyard(['db', 'backup', file], env);
    expect(b.code, b.out).toBe(0);
    expect(b.out).toContain(`backed up to ${file}`);
    const copy = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    try {
      expect(copy.prepare('select name from users').all()).toEqual([{ name: 'alice' }]);
    } finally {
      copy.close();
    }
    const again = halyard(['db', 'backup', file], env);
    expect(again.code).not.toBe(0);
    expect(again.out).toContain(`${file} exists already: name a new backup file`);
    expect(again.out).not.toMatch(/\n\s+at /); // one sentence, no stack trace
    // Restore = put the file back while the server is stopped: the store then holds what the backup held.
    expect(halyard(['users', 'add', 'bob'], env).code).toBe(0);
    cpSync(file, env.DATABASE_PATH);
    rmSync(`${env.DATABASE_PATH}-wal`, { force: true });
    rmSync(`${env.DATABASE_PATH}-shm`, { force: true });
    const listed = halyard(['users', 'ls', '--json'], env);
    expect(listed.code, listed.out).toBe(0);
    expect((JSON.parse(listed.out) as { name: string }[]).map((u) => u.name)).toEqual(['alice']);
    const pgb = halyard(['db', 'backup', join(data, 'x.db')], { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/halyard_backup_refusal' });
    expect(pgb.code).not.toBe(0);
    expect(pgb.out).toContain('back it up with pg_dump');
  });
});

describe('halyard db migrate', () => {
  it('brings a store up to date, and refuses one a newer Halyard migrated in one sentence', () => {
    const env = { DATABASE_PATH: join(tmp, 'migrate', 'halyard.db') };
    const first = halyard(['db', 'migrate'], env);
    expect(first.code, first.out).toBe(0);
    expect(first.out).toContain('the store is up to date (sqlite ');
    const sqlite = new BetterSqlite3(env.DATABASE_PATH);
    sqlite.prepare("insert into kysely_migration (name, timestamp) values ('999-from-the-future', '2030-01-01T00:00:00.000Z')").run();
    sqlite.close();
    const refused = halyard(['db', 'migrate'], { ...env, LOG_FORMAT: 'pretty' });
    expect(refused.code).toBe(2);
    expect(refused.out.trim()).toBe(`error [invalid_config]: the store ${env.DATABASE_PATH} was migrated by a newer Halyard (migration 999-from-the-future): run that version, or restore a backup made before the upgrade`);
  });
});
