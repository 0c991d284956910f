// One sandbox per doc file for test/docs-examples.test.ts: a temp working directory with its own store,
// cache and output, `halyard` on PATH, one bash per block with the shell variables of the blocks before,
// stub exchanges on demand and a `halyard serve` in the background when a block starts one.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kindOf, shellScript, stubExchanges, type DocBlock } from './docs-blocks.ts';
import { BinanceMarketStub } from './stubs/binance-market.ts';
import { BybitMarketStub } from './stubs/bybit-market.ts';
import { startHyperliquidStub } from './stubs/hyperliquid-trade.ts';
import { stubSeries } from './stubs/market-stub-kit.ts';

/** The repo root. */
export const REPO = fileURLToPath(new URL('..', import.meta.url));

/** How one block ended. */
export interface BlockRun {
  /** Exit code of the block's bash (null when it was stopped). */
  readonly code: number | null;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
  /** True when the block ran past its time limit and was stopped. */
  readonly timedOut: boolean;
}

/** Seconds a block may run unless it says `timeout=<s>`. */
export const DEFAULT_BLOCK_TIMEOUT_S = 60;

/** Seconds a `keeps-running` block runs before it is stopped, unless it says `keeps-running=<s>`. */
export const DEFAULT_KEEPS_RUNNING_S = 8;

/** Seconds a `keeps-running` block with `expect=` may take to print it (it is stopped 2 s after it does). */
export const EXPECT_RUNNING_LIMIT_S = 60;

/** Candles the stub exchanges serve: 1m from 2024-01-01 for 200 days (the docs' `data fetch` ranges lie inside). */
const STUB_FROM = Date.UTC(2024, 0, 1);
const STUB_CANDLES = 200 * 1440;

interface Closable {
  readonly url: string;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again at once, for the sandbox's `halyard serve`). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** Bash sourced at the start of every block: strict mode, the helpers, then the variables of earlier blocks. */
function prelude(dir: string): string {
  return `set -euo pipefail
# 'npx halyard' runs the checkout's CLI (the sandbox has no node_modules); nothing else goes to npx.
npx() { if [ "\${1-}" = halyard ]; then shift; halyard "$@"; else echo "the docs examples only run 'npx halyard', not npx $*" >&2; return 127; fi; }
# curl fails the block on an HTTP error answer (the body is still printed), and never waits long.
curl() { command curl -sS --fail-with-body --max-time 30 "$@"; }
__halyard_stop_server() {
  if [ -f "${dir}/serve.pid" ]; then kill "$(cat "${dir}/serve.pid")" 2>/dev/null || true; while kill -0 "$(cat "${dir}/serve.pid")" 2>/dev/null; do sleep 0.1; done; rm -f "${dir}/serve.pid"; fi
}
# A 'halyard serve' line of a doc: the server in the background on the sandbox's port, ready when this returns.
__halyard_serve() {
  __halyard_stop_server
  echo "--- $*" >>"${dir}/serve.log"
  "$@" --port "$__HALYARD_PORT" >>"${dir}/serve.log" 2>&1 &
  echo $! >"${dir}/serve.pid"
  for _ in $(seq 1 600); do
    if command curl -fs -o /dev/null --max-time 2 "$HALYARD_URL/healthz"; then return 0; fi
    if ! kill -0 "$(cat "${dir}/serve.pid")" 2>/dev/null; then echo "halyard serve stopped:" >&2; tail -n 20 "${dir}/serve.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "halyard serve did not answer in 60 s" >&2; return 1
}
# A signal body of the doc, posted to the recorder URL in $HOOK: answered with status $2 and text $3.
__halyard_post_body() {
  local code
  code=$(command curl -sS -o "${dir}/answer" -w '%{http_code}' --max-time 30 --data-binary @"$1" "$HOOK")
  if [ "$code" != "$2" ] || ! grep -qF -- "$3" "${dir}/answer"; then echo "the body answered $code, expected $2 with '$3': $(cat "${dir}/answer")" >&2; return 1; fi
}
__halyard_save_state() {
  local names; names=$(compgen -v | grep -vxF -f "${dir}/baseline" | grep -vE '^(__|FUNCNAME$|BASH_)' || true)
  if [ -n "$names" ]; then declare -p $names >"${dir}/state.sh"; fi
}
if [ -f "${dir}/state.sh" ]; then source "${dir}/state.sh"; fi
`;
}

/** The sandbox of one doc file. */
export class DocSandbox {
  private readonly stubs = new Map<string, Closable>();
  private readonly groups = new Set<number>();
  private blockNo = 0;

  private constructor(
    /** Root of the sandbox (temp dir). */
    readonly dir: string,
    /** Working directory of the blocks: `<dir>/halyard`, with the checkout's `strategies/` and `../shared`. */
    readonly cwd: string,
    /** Port of the doc's `halyard serve`. */
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** A fresh sandbox: bin shim, store paths under the working directory, a port for its server. */
  static async create(name: string): Promise<DocSandbox> {
    const dir = await mkdtemp(join(tmpdir(), `halyard-docs-${name.replace(/\W+/g, '-')}-`));
    const cwd = join(dir, 'halyard');
    await mkdir(join(dir, 'bin'), { recursive: true });
    await mkdir(join(cwd, 'data'), { recursive: true });
    await symlink(join(REPO, 'strategies'), join(cwd, 'strategies'));
    const shared = resolve(REPO, '..', 'shared');
    if (existsSync(shared)) await symlink(shared, join(dir, 'shared'));
    const shim = join(dir, 'bin', 'halyard');
    await writeFile(shim, `#!/bin/sh\nexec "${process.execPath}" "${join(REPO, 'bin', 'halyard.js')}" "$@"\n`);
    await chmod(shim, 0o755);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      PATH: `${join(dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      TMPDIR: tmpdir(),
      LANG: 'C.UTF-8',
      NO_COLOR: '1',
      LOG_LEVEL: 'warn',
      DATABASE_PATH: join(cwd, 'data', 'halyard.db'),
      CACHE_PATH: join(cwd, 'data', 'candles'),
      OUTPUT_PATH: join(cwd, 'output'),
      // What a server that stores credentials needs (docs say where); 32+ characters.
      ENCRYPTION_KEY: 'docs-examples-encryption-key-0123456789',
      HALYARD_URL: `http://127.0.0.1:${port}`,
      __HALYARD_PORT: String(port),
    };
    await writeFile(join(dir, 'prelude.sh'), prelude(dir));
    // Names a fresh shell already has: the state file carries only what the blocks set.
    const baseline = spawnSync('bash', ['-c', `source "${join(dir, 'prelude.sh')}"; compgen -v`], { cwd, env, encoding: 'utf8' });
    await writeFile(join(dir, 'baseline'), baseline.stdout);
    return new DocSandbox(dir, cwd, port, env);
  }

  /** Starts the stub exchanges `block` names (once per sandbox) and returns their URL variables. */
  private async stubEnv(block: DocBlock): Promise<Record<string, string>> {
    const vars: Record<string, string> = {};
    for (const exchange of stubExchanges(block)) {
      let stub = this.stubs.get(exchange);
      if (!stub) {
        const series = stubSeries(STUB_CANDLES, STUB_FROM);
        stub = exchange === 'binance' ? await BinanceMarketStub.start({ series }) : exchange === 'bybit' ? await BybitMarketStub.start(series) : await startHyperliquidStub();
        this.stubs.set(exchange, stub);
      }
      vars[`HALYARD_EXCHANGE_URL_${exchange.toUpperCase()}`] = stub.url;
    }
    return vars;
  }

  /** The bash text of a shell or body block (a body is written to a file and posted). */
  private async script(block: DocBlock): Promise<string> {
    if (kindOf(block) !== 'body') return shellScript(block, this.port);
    const file = join(this.dir, `body-${this.blockNo}.txt`);
    await writeFile(file, block.text);
    const refused = block.role === 'tradingview-alert' ? 'holds an unexpanded placeholder' : block.attrs.reason;
    const [status, text] = refused === undefined ? ['200', '"status":"accepted"'] : ['400', refused];
    return `__halyard_post_body '${file}' ${status} '${text.replace(/'/g, `'\\''`)}'`;
  }

  /** Runs one shell or body block in bash with the state of the blocks before it. */
  async run(block: DocBlock): Promise<BlockRun> {
    this.blockNo++;
    const path = join(this.dir, `block-${this.blockNo}.sh`);
    await writeFile(path, `source '${join(this.dir, 'prelude.sh')}'\n${await this.script(block)}\n__halyard_save_state\n`);
    const env = { ...this.env, ...(await this.stubEnv(block)) };
    const keepsRunning = block.attrs['keeps-running'];
    // A running command that says what it should print is stopped 2 s after it printed it (up to 60 s on a
    // loaded machine); without `expect` it runs its 8 s (or <s>).
    const awaited = keepsRunning !== undefined ? block.attrs.expect : undefined;
    const limitS = keepsRunning !== undefined ? Number(keepsRunning || (awaited ? EXPECT_RUNNING_LIMIT_S : DEFAULT_KEEPS_RUNNING_S)) : Number(block.attrs.timeout ?? DEFAULT_BLOCK_TIMEOUT_S);
    const child = spawn('bash', [path], { cwd: this.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) this.groups.add(child.pid);
    let output = '';
    let timedOut = false;
    let seen: NodeJS.Timeout | undefined;
    const take = (s: string): void => {
      output += s;
      if (awaited !== undefined && seen === undefined && output.includes(awaited)) {
        seen = setTimeout(() => {
          timedOut = true;
          this.signal(child.pid, 'SIGTERM');
        }, 2_000);
      }
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    const timer = setTimeout(() => {
      timedOut = true;
      this.signal(child.pid, 'SIGTERM');
    }, limitS * 1000);
    // 'exit', not 'close': a server a block sends to the background keeps the pipes open.
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    clearTimeout(timer);
    clearTimeout(seen);
    await new Promise((r) => setTimeout(r, 50));
    return { code, output, timedOut };
  }

  /** Signals a block's process group (started detached, so the group is the block and what it started). */
  private signal(pid: number | undefined, sig: NodeJS.Signals): void {
    if (pid === undefined) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // the group is gone already
    }
  }

  /** Stops the doc's server, whatever the blocks left running, the stubs; removes the sandbox. */
  async close(): Promise<void> {
    spawnSync('bash', ['-c', `source '${join(this.dir, 'prelude.sh')}'; __halyard_stop_server`], { cwd: this.cwd, env: this.env, timeout: 30_000 });
    for (const pid of this.groups) this.signal(pid, 'SIGTERM');
    for (const stub of this.stubs.values()) await stub.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The last lines the doc's server logged (for a failure message). */
  serveLog(): string {
    const r = spawnSync('tail', ['-n', '30', join(this.dir, 'serve.log')], { encoding: 'utf8' });
    return r.stdout;
  }
}
