/**
 * `npm run bench -- --only startup [--base <checkout>] [--runs N]`: the start-up of the `halyard` command
 * as a user runs it, interleaved beside `node -e 0` in the same minutes: `halyard --version`, and the year
 * spec command (525,600 bars from the Parquet cache, SMA 50/200, next-open fills, no fees, report written).
 * Medians of wall and CPU (user + sys, from /usr/bin/time) and their ratios to `node -e 0`; with --base, the
 * same commands of another checkout (e.g. a worktree of the commit before) in the same rounds.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const TIME = '/usr/bin/time';
const SYMBOL = 'BTC/USDT:USDT';
const YEAR = ['backtest', 'strategies/sma-cross.ts', '--exchange', 'binance', '--symbol', SYMBOL, '--from', '2023-06-27', '--to', '2024-06-26', '--fill', 'next-open'];
for (const p of ['fast=50', 'slow=200', 'qty=1', 'sl=0.01', 'tp=0.02']) YEAR.push('--param', p);
YEAR.push('--balance', '1000000', '--maker-fee', '0', '--taker-fee', '0', '--json');

/** One measured process: wall and CPU seconds. */
interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

/** Medians of a command's runs, and their ratios to `node -e 0`. */
export interface StartupFigure {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly wallX: number;
  readonly cpuX: number;
}

/** What `--only startup` writes into bench/results.json. */
export interface StartupResults {
  readonly runs: number;
  readonly loadAverage: readonly number[];
  readonly nodeE0: { readonly wallMs: number; readonly cpuMs: number };
  readonly checkouts: Readonly<Record<string, { readonly version: StartupFigure; readonly year: StartupFigure; readonly versionModules: number; readonly trades: number; readonly finalEquity: number }>>;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs `node <args>` in `cwd` under /usr/bin/time; returns its wall and CPU seconds and its stdout. */
function timed(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv): Sample & { stdout: string } {
  const out = join(tmpdir(), `halyard-startup-${process.pid}.time`);
  const r = spawnSync(TIME, ['-o', out, '-f', '%e %U %S', process.execPath, ...args], { cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} in ${cwd} exited ${r.status}: ${r.stderr}`);
  const [wall, user, sys] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
  return { wall, cpu: user + sys, stdout: r.stdout };
}

/** How many ES modules `halyard --version` loads (a module hook that counts them). */
function versionModules(checkout: string): number {
  const dir = mkdtempSync(join(tmpdir(), 'halyard-modules-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, "import { appendFileSync } from 'node:fs';\nexport async function load(u, c, n) { appendFileSync(process.env.MODULES_FILE, u + '\\n'); return n(u, c); }\n");
    writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const list = join(dir, 'modules.txt');
    execFileSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, 'bin/halyard.js', '--version'], { cwd: checkout, env: { ...process.env, HALYARD_RUN: 'build', MODULES_FILE: list } });
    return readFileSync(list, 'utf8').trim().split('\n').filter((u) => u !== 'node:' && !u.startsWith('node:')).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures this checkout (built first) and, when given, a base checkout, interleaved round by round. */
export function runStartupBench(repo: string, cacheYear: string, base: string | undefined, runs = 9): StartupResults {
  if (!existsSync(TIME)) throw new Error(`${TIME} is needed to read each process's CPU time (apt-get install time)`);
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: repo, stdio: 'inherit' });
  const checkouts = base ? { this: repo, base: resolve(base) } : { this: repo };
  // HALYARD_RUN=build: this checkout's build is timed even if a source is edited meanwhile (the base ignores it).
  const env = { ...process.env, CACHE_PATH: cacheYear, OUTPUT_PATH: join(tmpdir(), 'halyard-startup-output'), LOG_LEVEL: 'silent', HALYARD_RUN: 'build' };
  const node0: Sample[] = [];
  const samples = Object.fromEntries(Object.keys(checkouts).map((k) => [k, { version: [] as Sample[], year: [] as Sample[], trades: 0, finalEquity: 0 }]));
  for (let k = 0; k < runs; k++) {
    node0.push(timed(repo, ['-e', '0'], env));
    for (const [name, dir] of Object.entries(checkouts)) {
      samples[name]!.version.push(timed(dir, ['bin/halyard.js', '--version'], env));
      const year = timed(dir, ['bin/halyard.js', ...YEAR], env);
      samples[name]!.year.push(year);
      const summary = (JSON.parse(year.stdout) as { summary: { trades: number; finalEquity: number } }).summary;
      samples[name]!.trades = summary.trades;
      samples[name]!.finalEquity = summary.finalEquity;
    }
  }
  const n0 = { wall: median(node0.map((s) => s.wall)), cpu: median(node0.map((s) => s.cpu)) };
  const figure = (xs: readonly Sample[]): StartupFigure => {
    const wall = median(xs.map((s) => s.wall));
    const cpu = median(xs.map((s) => s.cpu));
    return { wallMs: Math.round(wall * 1000), cpuMs: Math.round(cpu * 1000), wallX: round2(wall / n0.wall), cpuX: round2(cpu / Math.max(n0.cpu, 0.01)) };
  };
  return {
    runs,
    loadAverage: loadavg().map(round2),
    nodeE0: { wallMs: Math.round(n0.wall * 1000), cpuMs: Math.round(n0.cpu * 1000) },
    checkouts: Object.fromEntries(
      Object.entries(samples).map(([name, s]) => [name, { version: figure(s.version), year: figure(s.year), versionModules: versionModules(checkouts[name as keyof typeof checkouts]!), trades: s.trades, finalEquity: s.finalEquity }]),
    ),
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Prints the figures beside their targets. */
export function printStartup(r: StartupResults): void {
  console.log(`\nStart-up (median of ${r.runs} interleaved runs; load average ${r.loadAverage.join(' ')})`);
  console.log(`  node -e 0                     ${r.nodeE0.wallMs} ms wall, ${r.nodeE0.cpuMs} ms CPU`);
  for (const [name, c] of Object.entries(r.checkouts)) {
    console.log(`  [${name}] halyard --version     ${c.version.wallMs} ms wall (${c.version.wallX}×), ${c.version.cpuMs} ms CPU (${c.version.cpuX}×), ${c.versionModules} ES modules   target ≤ 3× node -e 0`);
    console.log(`  [${name}] year command          ${c.year.wallMs} ms wall (${c.year.wallX}×), ${c.year.cpuMs} ms CPU (${c.year.cpuX}×)   target ≤ 8× node -e 0 and ≤ 350 ms quiet`);
    console.log(`  [${name}]   ${c.trades} trades, final equity ${c.finalEquity.toFixed(2)}   spec: 3475 trades, 1027011.40`);
  }
}
