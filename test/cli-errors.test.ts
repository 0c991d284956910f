// Every failure a sentence: the real `halyard` in child processes meets a busy port, an address that is
// not this machine's, a database URL of another database, a bad `.env` value, a strategy that throws, an
// exchange that is down and an unknown error; each answers ONE line on stderr naming what to fix and
// exits non-zero. And its log lines: JSON when piped, pretty when asked (or on a terminal), never both.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, cliEnv, runHalyard, type Run } from './cli-run.ts';
import { BinanceMarketStub, serverError } from './stubs/binance-market.ts';
import { stubSeries } from './stubs/market-stub-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'halyard-cli-errors-'));
const STRATEGY_API = join(ROOT, 'src', 'strategy', 'index.ts');

/** Runs `halyard <args>` in `cwd` (default: a fresh temp dir, so no `.env` of the repo is read). */
function halyard(args: readonly string[], env: Record<string, string> = {}, cwd = mkdtempSync(join(dir, 'cwd-'))): Promise<Run> {
  return runHalyard(args, { DATABASE_PATH: join(cwd, 'halyard.db'), OUTPUT_PATH: join(cwd, 'output'), ...env }, cwd);
}

/** The failure is one sentence on stderr (no stack lines), exit 2 (1 for internal), and it matches `says`. */
function expectOneLine(r: Run, says: RegExp, code = 2): string {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(lines[0]).toMatch(says);
  return lines[0] as string;
}

/** A listener on 127.0.0.1 holding a port, and a port nobody listens on. */
let busy: Server;
let busyPort: number;
let closedPort: number;

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port }, () => resolve(s));
  });
}
const portOf = (s: Server): number => (s.address() as { port: number }).port;

beforeAll(async () => {
  busy = await listen();
  busyPort = portOf(busy);
  const probe = await listen();
  closedPort = portOf(probe);
  await new Promise((r) => probe.close(r));
});
afterAll(() => new Promise((r) => busy.close(r)));

/** A strategy file in the temp dir: `body` is the class body (it may use `ctx`). */
function strategyFile(name: string, body: string): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, `import { Strategy, type SignalOutput, type StrategyContext } from ${JSON.stringify(STRATEGY_API)};\nexport default class ${name} extends Strategy<Record<string, never>> {\n  static override readonly defaults = {};\n  override readonly timeframes = ['1m'] as const;\n${body}\n}\n`);
  return file;
}

describe('serve: where it cannot listen', { timeout: 60_000 }, () => {
  it('a busy port is one sentence naming the port, and nothing crashes afterwards', async () => {
    const r = await halyard(['serve', '--port', String(busyPort)], { LOG_LEVEL: 'info' });
    expectOneLine(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort}: the port is already in use .*--port`));
    expect(r.stderr).not.toMatch(/destroyed/);
  });

  it('an address not on this machine (10.255.255.1) is one sentence naming it', async () => {
    const r = await halyard(['serve', '--host', '10.255.255.1', '--port', String(closedPort)], { LOG_LEVEL: 'info' });
    expectOneLine(r, /cannot listen on 10\.255\.255\.1:\d+: 10\.255\.255\.1 is not an address of this machine \(use --host 127\.0\.0\.1/);
  });

  it('serve --demo on a busy port says so and leaves the demo folder alone', async () => {
    const demoDir = mkdtempSync(join(dir, 'demo-'));
    writeFileSync(join(demoDir, 'halyard.db'), 'a running demo of someone else');
    const r = await halyard(['serve', '--demo', '--demo-dir', demoDir, '--port', String(busyPort)], { LOG_LEVEL: 'info' });
    expectOneLine(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort}: the port is already in use`));
    expect(readFileSync(join(demoDir, 'halyard.db'), 'utf8')).toBe('a running demo of someone else');
  });
});

describe('settings and the store', { timeout: 60_000 }, () => {
  it('DATABASE_URL=mysql://x is refused as not a postgres:// URL', async () => {
    const r = await halyard(['users', 'ls'], { DATABASE_URL: 'mysql://x' });
    expectOneLine(r, /^error \[invalid_config\]: environment variable DATABASE_URL=mysql:\/\/x is not a postgres:\/\/ \(or postgresql:\/\/\) URL .*DATABASE_PATH/);
  });

  it('a PostgreSQL that refuses the connection is named by host:port (the password is not shown)', async () => {
    const r = await halyard(['users', 'ls'], { DATABASE_URL: `postgres://u:hunter2@127.0.0.1:${closedPort}/halyard` });
    const line = expectOneLine(r, new RegExp(`cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${closedPort}: the connection was refused`));
    expect(line).not.toMatch(/hunter2/);
  });

  it('LEVERAGE=ten in .env names the file, the variable and the value', async () => {
    const cwd = mkdtempSync(join(dir, 'dotenv-'));
    writeFileSync(join(cwd, '.env'), 'SYMBOL=BTC/USDT:USDT\nLEVERAGE=ten\n');
    const r = await halyard(['backtest', join(ROOT, 'strategies', 'sma-cross.ts'), '--synthetic', '--days', '1', '--no-report'], {}, cwd);
    expectOneLine(r, /^error \[invalid_config\]: \.env: LEVERAGE=ten is not a number \(must be >= 1\)$/);
  });

  it('LEVERAGE=ten in the environment says so (and wins over .env)', async () => {
    const cwd = mkdtempSync(join(dir, 'dotenv-'));
    writeFileSync(join(cwd, '.env'), 'LEVERAGE=2\n');
    const r = await halyard(['backtest', join(ROOT, 'strategies', 'sma-cross.ts'), '--synthetic', '--days', '1', '--no-report'], { LEVERAGE: 'ten' }, cwd);
    expectOneLine(r, /^error \[invalid_config\]: environment variable LEVERAGE=ten is not a number \(must be >= 1\)$/);
  });
});

describe('a strategy that throws', { timeout: 60_000 }, () => {
  // Synthetic candles start 2024-01-01T00:00Z, one a minute: the candle opened at 01:39 closes at 01:40.
  const boom = strategyFile('Boom', `  onCandle(ctx: StrategyContext): SignalOutput {\n    if (ctx.time === Date.UTC(2024, 0, 1, 1, 40)) throw new Error('my indicator divided by zero');\n  }`);

  it('backtest: one line with the strategy, the candle time (ISO) and the message; the trace in a file', async () => {
    const r = await halyard(['backtest', boom, '--synthetic', '--days', '1', '--no-report']);
    const line = expectOneLine(r, /^error \[strategy_error\]: strategy Boom threw at the candle of 2024-01-01T01:39:00\.000Z: my indicator divided by zero \(full trace in (\S+); --verbose prints it\)$/);
    const file = /full trace in (\S+);/.exec(line)?.[1] as string;
    expect(readFileSync(file, 'utf8')).toContain(`${boom}:`);
  });

  it('backtest --verbose prints the trace, down to the strategy file', async () => {
    const r = await halyard(['backtest', boom, '--synthetic', '--days', '1', '--no-report', '--verbose']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/^error \[strategy_error\]: strategy Boom threw at the candle of 2024-01-01T01:39:00\.000Z/);
    expect(r.stderr).toMatch(new RegExp(`\\n\\s+at Boom\\.onCandle \\(${boom.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('paper (replay) fails the run with the same sentence', async () => {
    const cwd = mkdtempSync(join(dir, 'paper-'));
    // A cached day for the replay: written by the real `data import` from a CSV of 1,440 one-minute candles.
    const csv = join(cwd, 'candles.csv');
    const rows = Array.from({ length: 1440 }, (_, i) => `${Date.UTC(2024, 0, 1) + i * 60_000},100,101,99,100,1`);
    writeFileSync(csv, `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const cache = { CACHE_PATH: join(cwd, 'candles') };
    const imported = await halyard(['data', 'import', csv, '--exchange', 'binance', '--symbol', 'BTC/USDT:USDT', '--timeframe', '1m'], cache, cwd);
    expect(imported.code, imported.stderr).toBe(0);
    const r = await halyard(['paper', boom, '--replay', '2024-01-01..2024-01-02', '--speed', '0', '--exchange', 'binance'], cache, cwd);
    expectOneLine(r, /^error \[strategy_error\]: strategy Boom threw at the candle of 2024-01-01T01:39:00\.000Z: my indicator divided by zero/);
    expect(r.stdout).toMatch(/failed run .*99 candles/);
  });
});

describe('an exchange that is down', { timeout: 60_000 }, () => {
  it('paper --exchange binance offline: retried, then venue_unavailable naming binance and what to check; nothing created', async () => {
    const cwd = mkdtempSync(join(dir, 'offline-'));
    const url = `http://127.0.0.1:${closedPort}`;
    const r = await halyard(['paper', join(ROOT, 'strategies', 'sma-cross.ts'), '--exchange', 'binance'], { HALYARD_EXCHANGE_URL_BINANCE: url }, cwd);
    expectOneLine(r, new RegExp(`^error \\[venue_unavailable\\]: binance is unreachable after 4 attempts \\(.*ECONNREFUSED.*\\): check the network connection and HALYARD_EXCHANGE_URL_BINANCE=${url.replace(/[.]/g, '\\.')}`));
    expect(existsSync(join(cwd, 'halyard.db'))).toBe(false);
  });

  it('warm-up candles that stay unavailable after the markets loaded: the run is stored as failed, with the reason', async () => {
    const stub = await BinanceMarketStub.start({ series: stubSeries(600, Date.UTC(2024, 0, 1)) });
    try {
      stub.inject('/fapi/v1/klines', serverError, serverError, serverError, serverError);
      const cwd = mkdtempSync(join(dir, 'warmup-'));
      const r = await halyard(['paper', join(ROOT, 'strategies', 'sma-cross.ts'), '--exchange', 'binance', '--run', 'down', '--warmup', '10'], { HALYARD_EXCHANGE_URL_BINANCE: stub.url }, cwd);
      expectOneLine(r, /^error \[venue_unavailable\]: binance is unreachable after 4 attempts .*: check the network connection and HALYARD_EXCHANGE_URL_BINANCE=/);
      expect(stub.count('/fapi/v1/klines')).toBe(4);
      const db = new BetterSqlite3(join(cwd, 'halyard.db'), { readonly: true });
      const run = db.prepare('SELECT status, stop_reason FROM paper_runs WHERE id = ?').get('down') as { status: string; stop_reason: string };
      db.close();
      expect(run).toMatchObject({ status: 'failed', stop_reason: expect.stringMatching(/^binance is unreachable/) as unknown });
    } finally {
      await stub.close();
    }
  });
});

describe('an unknown error', { timeout: 60_000 }, () => {
  const odd = strategyFile('Odd', `  constructor(p: Record<string, never>) {\n    super(p);\n    throw new RangeError('nobody expected this');\n  }\n  onCandle(): SignalOutput {}`);

  it('is one line with the path of a trace file that exists; --verbose prints the trace', async () => {
    const r = await halyard(['backtest', odd, '--synthetic', '--days', '1', '--no-report']);
    const line = expectOneLine(r, /^error \[internal\]: nobody expected this \(full trace in (\S+); --verbose prints it\)$/, 1);
    const file = /full trace in (\S+);/.exec(line)?.[1] as string;
    expect(file.startsWith(join(tmpdir(), 'halyard'))).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/RangeError: nobody expected this\n\s+at new Odd/);
    const v = await halyard(['--verbose', 'backtest', odd, '--synthetic', '--days', '1', '--no-report']);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/^error \[internal\]: nobody expected this\nRangeError: nobody expected this\n\s+at new Odd/);
  });
});

describe('log lines', { timeout: 60_000 }, () => {
  const sma = join(ROOT, 'strategies', 'sma-cross.ts');
  const args = ['backtest', sma, '--synthetic', '--days', '1', '--no-report'];

  it('piped: JSON lines only on stderr, the human summary only on stdout', async () => {
    const r = await halyard(args, { LOG_LEVEL: 'debug' });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).not.toThrow();
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(expect.arrayContaining(['data loaded', 'backtest done']));
    expect(r.stdout).not.toMatch(/"level"/);
  });

  it('--log-format pretty (or LOG_FORMAT=pretty): human lines only, no JSON', async () => {
    for (const [extraArgs, env] of [[['--log-format', 'pretty'], {}], [[], { LOG_FORMAT: 'pretty' }]] as const) {
      const r = await halyard([...extraArgs, ...args], { LOG_LEVEL: 'debug', ...env });
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).toMatch(/^\[\d\d:\d\d:\d\d\] DEBUG: (data loaded|backtest done) /);
      expect(r.stderr).not.toMatch(/"level"/);
    }
  });

  it('a failure after JSON log lines is a JSON line too; after pretty ones, a sentence', async () => {
    const json = await halyard(['serve', '--port', String(busyPort)], { LOG_LEVEL: 'info', LOG_FORMAT: 'json' });
    const last = JSON.parse(json.stderr.trim().split('\n').at(-1) as string) as { code: string; msg: string };
    expect(last).toMatchObject({ code: 'invalid_config', msg: expect.stringMatching(/already in use/) as unknown });
    const pretty = await halyard(['--log-format', 'pretty', 'serve', '--port', String(busyPort)], { LOG_LEVEL: 'info' });
    expectOneLine(pretty, /^error \[invalid_config\]: cannot listen on .* already in use/);
  });

  it('on a terminal (a pseudo-terminal from script(1)): pretty lines, no JSON', async () => {
    const cwd = mkdtempSync(join(dir, 'tty-'));
    const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<Run>((resolve, reject) => {
      const child = spawn('script', ['-qfec', cmd, '/dev/null'], { cwd, env: cliEnv({ LOG_LEVEL: 'debug', OUTPUT_PATH: join(cwd, 'output') }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr: '' }));
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/DEBUG: data loaded/);
    expect(r.stdout).not.toMatch(/"level"/);
  });
});
