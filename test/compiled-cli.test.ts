// The `halyard` command as installed: bin/halyard.js runs the JavaScript build (dist/, made by
// scripts/build.mjs) with no TypeScript loader, each command loads only what it runs, and a TypeScript
// strategy is compiled by esbuild against the build, so it extends the very Strategy class the CLI runs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResultsJson } from '../src/report/results.ts';
import { ROOT, runHalyard, type Run } from './cli-run.ts';

const dir = mkdtempSync(join(tmpdir(), 'halyard-compiled-'));
const MODULES = join(dir, 'modules.txt');

// A module hook that appends every module URL the child loads to $MODULES_FILE: how the test sees tsx,
// zod or a database driver being loaded (or not).
const HOOKS = join(dir, 'hooks.mjs');
const REGISTER = join(dir, 'register.mjs');
writeFileSync(HOOKS, "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.MODULES_FILE, url + '\\n');\n  return next(url, context);\n}\n");
writeFileSync(REGISTER, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

beforeAll(() => {
  // A fresh build (the suite may run right after an edit): scripts/build.mjs swaps it in whole.
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The build just made, even if another process edits a source meanwhile (bin/halyard.js would then run the sources).
const BUILD = { HALYARD_RUN: 'build' };

/** Runs `halyard <args>` with the module hook on; returns the run and the URLs of the modules it loaded. */
async function traced(args: readonly string[], env: Record<string, string> = {}): Promise<{ run: Run; modules: string[] }> {
  rmSync(MODULES, { force: true });
  const run = await runHalyard(args, { ...BUILD, NODE_OPTIONS: `--import=${pathToFileURL(REGISTER).href}`, MODULES_FILE: MODULES, ...env });
  return { run, modules: readFileSync(MODULES, 'utf8').trim().split('\n') };
}

const packageOf = (url: string): string | undefined => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe('the built CLI', { timeout: 120_000 }, () => {
  it('every file of the build sits two folders under the repo, as every source does (import.meta.url paths hold)', () => {
    const files = readdirSync(join(ROOT, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toContain(join('cli', 'main.js'));
    expect(files.filter((f) => f.split(/[\\/]/).length !== 2)).toEqual([]);
  });

  it('--version runs dist/ without tsx, loading commander and nothing else of node_modules', async () => {
    const { run, modules } = await traced(['--version']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('0.1.0');
    expect(modules).toContain(pathToFileURL(join(ROOT, 'dist', 'cli', 'main.js')).href);
    expect(modules.some((m) => m.includes('/src/'))).toBe(false);
    expect(new Set(modules.map(packageOf).filter((p) => p !== undefined))).toEqual(new Set(['commander']));
  });

  it('a backtest of a .ts strategy loads no tsx, no database driver and no server; the strategy extends the build', async () => {
    const cache = mkdtempSync(join(dir, 'tmp-'));
    const args = ['backtest', 'strategies/sma-cross.ts', '--synthetic', '--days', '2', '--param', 'fast=5', '--param', 'slow=20', '--json', '--no-report'];
    const { run, modules } = await traced(args, { TMPDIR: cache });
    expect(run.stderr).toBe('');
    const packages = new Set(modules.map(packageOf));
    for (const absent of ['tsx', 'kysely', 'pg', 'better-sqlite3', 'fastify', 'ccxt']) expect(packages.has(absent), absent).toBe(false);
    // The compiled strategy, in the cache folder, imports the build's strategy API: it holds no Strategy class of its own.
    const compiled = readdirSync(join(cache, 'halyard', 'strategies')).filter((f) => f.endsWith('.mjs'));
    expect(compiled).toHaveLength(1);
    const code = readFileSync(join(cache, 'halyard', 'strategies', compiled[0] as string), 'utf8');
    expect(code).toContain(`from "${pathToFileURL(join(ROOT, 'dist', 'strategy', 'index.js')).href}"`);
    expect(code).not.toMatch(/class Strategy\b/);
    expect(modules).toContain(pathToFileURL(join(cache, 'halyard', 'strategies', compiled[0] as string)).href);
  });

  it('the compiled strategy makes the same trades as the strategy run from the sources (tsx)', async () => {
    const args = ['backtest', 'strategies/sma-cross.ts', '--synthetic', '--days', '3', '--seed', '7', '--param', 'fast=5', '--param', 'slow=20', '--json', '--no-report'];
    const [built, source] = await Promise.all([runHalyard(args, BUILD), runHalyard(args, { HALYARD_RUN: 'source' })]);
    expect(built.stderr).toBe('');
    expect(source.stderr).toBe('');
    const a = JSON.parse(built.stdout) as ResultsJson;
    const b = JSON.parse(source.stdout) as ResultsJson;
    expect(a.trades.length).toBeGreaterThan(10);
    expect(a.trades).toEqual(b.trades);
    expect(a.summary).toEqual(b.summary);
  });

  it('a syntax error in a .ts strategy is one sentence naming file:line:column', async () => {
    const sandbox = mkdtempSync(join(dir, 'broken-'));
    const api = pathToFileURL(join(ROOT, 'src', 'strategy', 'index.ts')).href;
    writeFileSync(join(sandbox, 'broken.ts'), `import { Strategy } from '${api}';\n\nexport default class Broken extends Strategy {\n  onCandle(): void {\n    const x = ;\n  }\n}\n`);
    const run = await runHalyard(['backtest', join(sandbox, 'broken.ts'), '--synthetic', '--days', '1', '--no-report'], { ...BUILD, TMPDIR: sandbox });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^error \\[strategy_error\\]: cannot compile ${join(sandbox, 'broken.ts').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5:15: Unexpected ";"`));
  });

  it('a compiled strategy is reused while its files are unchanged, and compiled again after an edit', async () => {
    const sandbox = mkdtempSync(join(dir, 'edit-'));
    const api = pathToFileURL(join(ROOT, 'src', 'strategy', 'index.ts')).href;
    const write = (name: string): void => {
      writeFileSync(join(sandbox, 'helper.ts'), `export const NAME = '${name}';\n`);
      writeFileSync(join(sandbox, 's.ts'), `import { Strategy } from '${api}';\nimport { NAME } from './helper.ts';\nexport default class S extends Strategy {\n  static label = NAME;\n  onCandle(): void {}\n}\n`);
    };
    const run = async (): Promise<string> => {
      const r = await runHalyard(['backtest', join(sandbox, 's.ts'), '--synthetic', '--days', '1', '--json', '--no-report'], { ...BUILD, TMPDIR: sandbox });
      expect(r.stderr).toBe('');
      const modules = readdirSync(join(sandbox, 'halyard', 'strategies')).filter((f) => f.endsWith('.mjs'));
      return modules.map((f) => readFileSync(join(sandbox, 'halyard', 'strategies', f), 'utf8')).join('\n');
    };
    write('first');
    expect(await run()).toContain('"first"');
    expect(readdirSync(join(sandbox, 'halyard', 'strategies')).filter((f) => f.endsWith('.mjs'))).toHaveLength(1);
    await run();
    expect(readdirSync(join(sandbox, 'halyard', 'strategies')).filter((f) => f.endsWith('.mjs'))).toHaveLength(1);
    // An edit of a file the strategy imports (not the strategy itself) is seen.
    write('second');
    expect(await run()).toContain('"second"');
    expect(readdirSync(join(sandbox, 'halyard', 'strategies')).filter((f) => f.endsWith('.mjs'))).toHaveLength(2);
  });

  it('a .js strategy is imported as it is, and runs', async () => {
    const sandbox = mkdtempSync(join(dir, 'js-'));
    const api = pathToFileURL(join(ROOT, 'dist', 'strategy', 'index.js')).href;
    writeFileSync(join(sandbox, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(
      join(sandbox, 'once.js'),
      `import { Strategy, openLong } from '${api}';\nexport default class OnceJs extends Strategy {\n  done = false;\n  onCandle() {\n    if (this.done) return;\n    this.done = true;\n    return openLong({ qty: 0.01 });\n  }\n}\n`,
    );
    const { run, modules } = await traced(['backtest', join(sandbox, 'once.js'), '--synthetic', '--days', '1', '--json', '--no-report'], { TMPDIR: sandbox });
    expect(run.stderr).toBe('');
    expect((JSON.parse(run.stdout) as ResultsJson).trades).toHaveLength(1);
    expect(modules).toContain(pathToFileURL(join(sandbox, 'once.js')).href);
  });
});
