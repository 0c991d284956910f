import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachePath, writeCandles } from '../src/data/cache.ts';
import { syntheticCandles } from '../src/data/synthetic.ts';
import { writeRun } from '../src/report/write.ts';
import { fixtureResult } from '../src/report/test-fixture.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { createUser } from '../src/store/users.ts';
import HedgeBreakout from '../strategies/hedge-breakout.ts';
import SmaCross from '../strategies/sma-cross.ts';
import { ROOT, runHalyard } from './cli-run.ts';
import { NOW, api, startServer, type Running } from './server-helpers.ts';

// `halyard strategies` and `halyard runs` end to end: the real command on real run folders (two backtests,
// a hand-made optimisation folder, unreadable ones) and a real paper run replayed into a SQLite store.

const STRATEGY_API = join(ROOT, 'src', 'strategy', 'index.ts');

interface Listed {
  readonly file: string;
  readonly class?: string;
  readonly timeframes?: string[];
  readonly positionMode?: string;
  readonly params?: { name: string; type: string; default: unknown }[];
  readonly error?: string;
}

/** The parameters of a class's defaults as `halyard strategies --json` should list them. */
const declared = (d: Readonly<Record<string, unknown>>) => Object.entries(d).map(([name, v]) => ({ name, type: typeof v, default: v }));

describe('halyard strategies', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-strategies-'));
    const head = `import { Strategy, type SignalOutput } from ${JSON.stringify(STRATEGY_API)};\n`;
    writeFileSync(join(dir, 'a-good.ts'), `${head}export default class Good extends Strategy<{ n: number; label: string; on: boolean }> {
  static override readonly defaults = { n: 3, label: 'x y', on: false };
  override readonly timeframes = ['5m', '1h'] as const;
  override readonly positionMode = 'hedge' as const;
  onCandle(): SignalOutput { return undefined; }
}\n`);
    writeFileSync(join(dir, 'b-syntax.ts'), `${head}export default class Bad extends Strategy {\n  onCandle( { return\n}\n`);
    writeFileSync(join(dir, 'c-helper.ts'), 'export const x = 1;\n');
    writeFileSync(join(dir, 'd-throws.ts'), "throw new Error('the API key is missing');\n");
    writeFileSync(join(dir, 'e-ctor.ts'), `${head}export default class Ctor extends Strategy {\n  constructor() { super(); throw new Error('needs a warm cache'); }\n  onCandle(): SignalOutput { return undefined; }\n}\n`);
    // Plain JavaScript, no import: what a strategy class is to the loader (onCandle) and what it declares.
    writeFileSync(join(dir, 'f-plain.js'), "export class Plain {\n  static defaults = {};\n  timeframes = ['15m'];\n  positionMode = 'oneway';\n  get name() { return 'PlainJs'; }\n  onCandle() {}\n}\n");
    writeFileSync(join(dir, 'h-bare.js'), 'export default class Bare {\n  onCandle() {}\n}\n');
    // Not strategies: a test, a declaration file, a README, a subfolder.
    writeFileSync(join(dir, 'g.test.ts'), 'throw new Error("a test file is not listed");\n');
    writeFileSync(join(dir, 'types.d.ts'), 'export type X = number;\n');
    writeFileSync(join(dir, 'README.md'), '# strategies\n');
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'util.ts'), 'export const y = 2;\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("lists ./strategies by default: each file's class, timeframes, position mode and parameters with their types and defaults", async () => {
    const r = await runHalyard(['strategies', '--json'], {});
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Listed[];
    expect(list.map((s) => [s.file, s.class])).toEqual([
      ['strategies/breakout-trail.ts', 'BreakoutTrail'],
      ['strategies/hedge-breakout.ts', 'HedgeBreakout'],
      ['strategies/sma-cross.ts', 'SmaCross'],
    ]);
    expect(list[1]).toMatchObject({ timeframes: ['1m', '4h'], positionMode: 'hedge', params: declared(HedgeBreakout.defaults) });
    expect(list[2]).toMatchObject({ timeframes: ['1m'], positionMode: 'oneway', params: declared(SmaCross.defaults) });
    expect(list[2]?.params?.find((p) => p.name === 'short')).toEqual({ name: 'short', type: 'boolean', default: true });

    const text = await runHalyard(['strategies'], {});
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('SmaCross · timeframes 1m · oneway');
    expect(text.stdout).toMatch(/^ {2}slow +number +200$/m);
    expect(text.stdout).toMatch(/^ {2}short +boolean +true$/m);
  });

  it('lists every file of a folder that loads, and says in one line why each other one does not', async () => {
    const r = await runHalyard(['strategies', dir, 'strategies/sma-cross.ts', '--json'], {});
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as Listed[];
    const byName = new Map(list.map((s) => [s.file.slice(s.file.lastIndexOf('/') + 1), s]));
    expect([...byName.keys()]).toEqual(['a-good.ts', 'b-syntax.ts', 'c-helper.ts', 'd-throws.ts', 'e-ctor.ts', 'f-plain.js', 'h-bare.js', 'sma-cross.ts']);
    expect(byName.get('a-good.ts')).toEqual({
      file: join(dir, 'a-good.ts'),
      class: 'Good',
      name: 'Good',
      timeframes: ['5m', '1h'],
      positionMode: 'hedge',
      params: [
        { name: 'n', type: 'number', default: 3 },
        { name: 'label', type: 'string', default: 'x y' },
        { name: 'on', type: 'boolean', default: false },
      ],
    });
    expect(byName.get('f-plain.js')).toMatchObject({ class: 'Plain', name: 'PlainJs', timeframes: ['15m'], params: [] });
    expect(byName.get('sma-cross.ts')?.class).toBe('SmaCross');
    const errors = Object.fromEntries(list.filter((s) => s.error !== undefined).map((s) => [s.file.slice(s.file.lastIndexOf('/') + 1), s.error as string]));
    expect(Object.keys(errors)).toEqual(['b-syntax.ts', 'c-helper.ts', 'd-throws.ts', 'e-ctor.ts', 'h-bare.js']);
    // The compiler's error with its line, the module's own exception, the constructor's: one line each, no trace.
    expect(errors['b-syntax.ts']).toMatch(/b-syntax\.ts:\d+:\d+: .*Expected/);
    expect(errors['c-helper.ts']).toContain('exports no strategy class');
    expect(errors['d-throws.ts']).toContain('the API key is missing');
    expect(errors['e-ctor.ts']).toBe('Ctor throws when built with its defaults: needs a warm cache');
    expect(errors['h-bare.js']).toBe('Bare declares no timeframes (does it extend Strategy?)');
    for (const e of Object.values(errors)) expect(e).not.toMatch(/\n|\s+at\s+\S+ \(|Transform failed/);

    const text = await runHalyard(['strategies', dir], {});
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`${join(dir, 'e-ctor.ts')}\n  Ctor throws when built with its defaults: needs a warm cache\n`);
    expect(text.stdout).toMatch(/^ {2}label +string +"x y"$/m);
    expect(text.stdout).toContain(`${join(dir, 'f-plain.js')}\n  Plain (runs as PlainJs) · timeframes 15m · oneway\n  no parameters\n`);
  });

  it('refuses a folder that does not exist, in one line naming it', async () => {
    const r = await runHalyard(['strategies', join(dir, 'nope')], {});
    expect([r.code, r.stdout]).toEqual([2, '']);
    expect(r.stderr.trim()).toBe(`error [invalid_input]: no such file or folder: ${join(dir, 'nope')}`);
    const none = await runHalyard(['strategies'], {}, dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('there is no strategies/ folder here');
  });
});

interface RunJson {
  readonly kind: 'backtest' | 'optimize' | 'paper';
  readonly id: string;
  readonly strategy: string;
  readonly [k: string]: unknown;
}

describe('halyard runs', () => {
  let dir: string;
  let env: Record<string, string>;
  const out = (): string => join(dir, 'output');
  const DAY = 86_400_000;
  const T = Date.UTC(2024, 5, 1);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-runs-'));
    env = { OUTPUT_PATH: join(dir, 'output'), DATABASE_PATH: join(dir, 'h.db'), CACHE_PATH: join(dir, 'cache') };
    const sma = await runHalyard(['backtest', 'strategies/sma-cross.ts', '--synthetic', '--days', '2', '--param', 'fast=20', '--param', 'slow=80', '--out', join(out(), 'sma-a'), '--owner', 'alice', '--no-progress'], env);
    expect(sma.code, sma.stderr).toBe(0);
    const hedge = await runHalyard(['backtest', 'strategies/hedge-breakout.ts', '--synthetic', '--days', '2', '--out', join(out(), 'hedge-b'), '--no-progress'], env);
    expect(hedge.code, hedge.stderr).toBe(0);
    setTimes(join(out(), 'sma-a', 'results.json'), T);
    setTimes(join(out(), 'hedge-b', 'results.json'), T + DAY);
    // An optimisation folder as `halyard optimize` writes it.
    mkdirSync(join(out(), 'opt-c'));
    const combos = [20, 30, 50].map((fast, i) => ({ params: { fast, slow: 200 }, summary: { sharpe: 0.5 + i * 0.4, totalReturn: 0.01 * i } }));
    const data = { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m', fromIso: '2024-01-01T00:00:00.000Z', toIso: '2024-03-31T23:59:00.000Z' };
    const optimize = { kind: 'optimize', strategy: 'SmaCross', method: 'grid', objective: 'sharpe', space: { fast: [20, 30, 50], slow: [200] }, data, combinations: combos, best: combos[2] };
    writeFileSync(join(out(), 'opt-c', 'optimize.json'), JSON.stringify(optimize));
    setTimes(join(out(), 'opt-c', 'optimize.json'), T + 2 * DAY);
    // Unreadable: cut-off JSON, JSON that is not a run's, an optimize.json of another shape; and a folder that is no run at all.
    mkdirSync(join(out(), 'cut'));
    writeFileSync(join(out(), 'cut', 'results.json'), '{"summary": {');
    mkdirSync(join(out(), 'odd'));
    writeFileSync(join(out(), 'odd', 'results.json'), '[1, 2]');
    mkdirSync(join(out(), 'odd-opt'));
    writeFileSync(join(out(), 'odd-opt', 'optimize.json'), '{"kind": "sweep"}');
    mkdirSync(join(out(), 'notes'));
    writeFileSync(join(out(), 'notes', 'notes.txt'), 'hello');
    // A paper run, replayed from cached candles into the store.
    const candles = syntheticCandles({ seed: 7, from: Date.UTC(2024, 0, 1), count: 2 * 1440 });
    await writeCandles(cachePath(env.CACHE_PATH!, 'binance', 'BTC/USDT:USDT', '1m'), candles, { exchange: 'binance', symbol: 'BTC/USDT:USDT', timeframe: '1m' });
    const paper = await runHalyard(['paper', 'strategies/sma-cross.ts', '--param', 'fast=10', '--param', 'slow=40', '--exchange', 'binance', '--replay', '2024-01-01..2024-01-03', '--speed', '0', '--run', 'rep-d'], env);
    expect(paper.code, paper.stderr).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists backtest, optimisation and paper runs newest first, with their parameters and figures, and a warning line per unreadable folder', async () => {
    const r = await runHalyard(['runs', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const runs = JSON.parse(r.stdout) as RunJson[];
    expect(runs.map((x) => [x.kind, x.id])).toEqual([
      ['paper', 'rep-d'],
      ['optimize', 'opt-c'],
      ['backtest', 'hedge-b'],
      ['backtest', 'sma-a'],
    ]);
    const results = JSON.parse(readFileSync(join(out(), 'sma-a', 'results.json'), 'utf8')) as { config: Record<string, unknown>; summary: Record<string, number> };
    expect(runs[3]).toMatchObject({
      strategy: 'SmaCross',
      params: { ...SmaCross.defaults, fast: 20, slow: 80 },
      symbol: 'BTC/USDT:USDT',
      timeframe: '1m',
      from: results.config.fromIso,
      to: results.config.toIso,
      created_at: T,
      trades: results.summary.trades,
      final_equity: results.summary.finalEquity,
      owner: 'alice',
      shared: false,
      dir: join(out(), 'sma-a'),
    });
    expect(runs[3]!.return_pct as number).toBeCloseTo(results.summary.totalReturn! * 100, 9);
    expect(runs[2]).toMatchObject({ strategy: 'HedgeBreakout', params: HedgeBreakout.defaults, owner: null });
    expect(runs[1]).toEqual({
      kind: 'optimize',
      id: 'opt-c',
      strategy: 'SmaCross',
      method: 'grid',
      objective: 'sharpe',
      symbol: 'BTC/USDT:USDT',
      timeframe: '1m',
      from: '2024-01-01T00:00:00.000Z',
      to: '2024-03-31T23:59:00.000Z',
      combinations: 3,
      best_params: { fast: 50, slow: 200 },
      best_score: 1.3,
      created_at: T + 2 * DAY,
      dir: join(out(), 'opt-c'),
      owner: null,
      shared: false,
    });
    const store = await openStore({ path: env.DATABASE_PATH! });
    const trades = await store.db.selectFrom('run_trades').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', 'rep-d').executeTakeFirstOrThrow();
    const wallet = await store.db.selectFrom('portfolio').selectAll().where('run_id', '=', 'rep-d').executeTakeFirstOrThrow();
    await store.close();
    expect(Number(trades.n)).toBeGreaterThan(0);
    expect(runs[0]).toMatchObject({
      strategy: 'SmaCross',
      params: { ...SmaCross.defaults, fast: 10, slow: 40 },
      status: 'finished',
      target: 'sim:paper',
      mode: 'replay',
      timeframe: '1m',
      last_candle: Date.UTC(2024, 0, 3) - 60_000,
      candles: 2 * 1440,
      trades: Number(trades.n),
      initial_balance: wallet.initial_balance,
      equity: wallet.equity,
    });
    const warnings = r.stderr.trim().split('\n');
    expect(warnings).toEqual([
      `warning: skipped ${join(out(), 'cut')}: results.json is not valid JSON (${jsonError('{"summary": {')})`,
      `warning: skipped ${join(out(), 'odd')}: results.json holds no summary and config (not the results of a backtest)`,
      `warning: skipped ${join(out(), 'odd-opt')}: optimize.json is not an optimisation run (expected kind "optimize", a strategy and a list of combinations)`,
    ]);
  });

  it('filters by kind and strategy (sma-cross matches SmaCross), and keeps the newest with --limit', async () => {
    const ids = async (...args: string[]): Promise<string[]> => {
      const r = await runHalyard(['runs', '--json', ...args], env);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as RunJson[]).map((x) => x.id);
    };
    expect(await ids('--kind', 'backtest')).toEqual(['hedge-b', 'sma-a']);
    expect(await ids('--kind', 'optimize')).toEqual(['opt-c']);
    expect(await ids('--kind', 'paper')).toEqual(['rep-d']);
    expect(await ids('--strategy', 'sma-cross')).toEqual(['rep-d', 'opt-c', 'sma-a']);
    expect(await ids('--strategy', 'HedgeBreakout', '--kind', 'backtest')).toEqual(['hedge-b']);
    expect(await ids('--kind', 'backtest', '--limit', '1')).toEqual(['hedge-b']);
    expect(await ids('--limit', '2')).toEqual(['rep-d', 'opt-c']);
    expect(await ids('--strategy', 'nothing-like-it')).toEqual([]);
    const bad = await runHalyard(['runs', '--limit', '0'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit must be a whole number of runs from 1, got "0"');
  });

  it('prints one table per kind, each run with its parameters', async () => {
    const r = await runHalyard(['runs'], env);
    expect(r.code).toBe(0);
    const [backtests, optimizations, paper] = r.stdout.trim().split('\n\n');
    expect(paper).toMatch(/^Paper runs \(store\)\nname +started \(UTC\) +last candle \(UTC\) +strategy/);
    expect(paper).toMatch(/^rep-d .* 2024-01-02 23:59 +SmaCross +BTC\/USDT:USDT +1m +sim:paper +replay +finished .*fast=10 percent=10 qty=0 short=true sl=0\.01 slow=40 tp=0\.02$/m);
    expect(optimizations).toMatch(/^opt-c +2024-06-03 00:00 +SmaCross +BTC\/USDT:USDT +1m +2024-01-01 → 2024-03-31 23:59 +grid +sharpe +3 +1\.3 +fast=50 slow=200$/m);
    expect(backtests).toContain(`Backtests (${out()}/)`);
    expect(backtests).toMatch(/^sma-a +2024-06-01 00:00 +SmaCross +BTC\/USDT:USDT +1m +2024-01-01 → 2024-01-02 23:59 .*fast=20 percent=10 qty=0 short=true sl=0\.01 slow=80 tp=0\.02$/m);
    const none = await runHalyard(['runs', '--strategy', 'nothing-like-it'], env);
    expect(none.stdout.trim()).toBe('no runs match --strategy nothing-like-it (halyard runs lists them all)');
  });

  it('lists no paper runs, and creates no database, when the store file does not exist', async () => {
    const db = join(dir, 'absent', 'h.db');
    const r = await runHalyard(['runs', '--json', '--kind', 'paper'], { ...env, DATABASE_PATH: db });
    expect([r.code, JSON.parse(r.stdout)]).toEqual([0, []]);
    expect(existsSync(join(dir, 'absent'))).toBe(false);
    const empty = await runHalyard(['runs'], { OUTPUT_PATH: join(dir, 'no-output'), DATABASE_PATH: db });
    expect(empty.stdout.trim()).toBe(`no runs under ${join(dir, 'no-output')}/ nor in the store; make one with: halyard backtest strategies/sma-cross.ts --synthetic`);
  });
});

describe('GET /api/backtests', () => {
  let dir: string;
  let store: Store;
  let srv: Running;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'halyard-api-runs-'));
    store = await openStore({ path: join(dir, 'h.db') });
    srv = await startServer(store, {}, undefined, { outputDir: join(dir, 'output') });
  });
  afterAll(async () => {
    await srv.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("gives each run the caller may see with its parameters, timeframe and final equity; another user's stays hidden", async () => {
    const { token } = await createUser(store.db, 'carol', 'paper', NOW);
    const other = await createUser(store.db, 'dave', 'paper', NOW);
    const out = join(dir, 'output');
    await writeRun(fixtureResult(600, { params: { fast: 12, slow: 90, mode: 'fast exit', short: false } }), join(out, 'carol-run'), { owner: 'carol' });
    await writeRun(fixtureResult(600, { timeframe: '5m' }), join(out, 'shared-run'), { shared: true });
    await writeRun(fixtureResult(600, { params: { secret: 1 } }), join(out, 'dave-run'), { owner: 'dave' });
    setTimes(join(out, 'carol-run', 'results.json'), Date.UTC(2024, 0, 2));
    setTimes(join(out, 'shared-run', 'results.json'), Date.UTC(2024, 0, 1));
    // A hand-edited parameter that is not a number, string or boolean is left out, not a 500.
    const edited = JSON.parse(readFileSync(join(out, 'shared-run', 'results.json'), 'utf8')) as { config: { params: Record<string, unknown> } };
    edited.config.params = { ...edited.config.params, nested: { a: 1 }, list: [1] };
    writeFileSync(join(out, 'shared-run', 'results.json'), JSON.stringify(edited));
    setTimes(join(out, 'shared-run', 'results.json'), Date.UTC(2024, 0, 1));
    // An optimisation folder of carol's, and an unreadable run of hers: neither is a backtest the page lists.
    mkdirSync(join(out, 'carol-opt'));
    writeFileSync(join(out, 'carol-opt', 'optimize.json'), JSON.stringify({ kind: 'optimize', strategy: 'SmaCross', combinations: [] }));
    writeFileSync(join(out, 'carol-opt', 'run.json'), JSON.stringify({ owner: 'carol' }));
    mkdirSync(join(out, 'carol-cut'));
    writeFileSync(join(out, 'carol-cut', 'results.json'), '{');
    writeFileSync(join(out, 'carol-cut', 'run.json'), JSON.stringify({ owner: 'carol' }));

    const list = await api<{ id: string; params: Record<string, unknown>; timeframe: string; final_equity: number }[]>(srv.base, token, '/api/backtests');
    expect(list.status).toBe(200);
    expect(list.json.map((r) => [r.id, r.params, r.timeframe, r.final_equity])).toEqual([
      ['carol-run', { fast: 12, mode: 'fast exit', short: false, slow: 90 }, '1m', fixtureResult().summary.finalEquity],
      ['shared-run', { fast: 50, slow: 200, useStop: true }, '5m', fixtureResult().summary.finalEquity],
    ]);
    const theirs = await api<{ id: string }[]>(srv.base, other.token, '/api/backtests');
    expect(theirs.json.map((r) => r.id)).toEqual(['dave-run', 'shared-run']);

    // The OpenAPI document describes the new fields.
    const doc = (await (await fetch(`${srv.base}/docs/json`)).json()) as { paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: { items: { properties: Record<string, unknown>; required: string[] } } }> }> } }> };
    const item = doc.paths['/api/backtests']?.get.responses['200']?.content['application/json']?.schema.items;
    expect(Object.keys(item?.properties ?? {})).toEqual(expect.arrayContaining(['params', 'timeframe', 'final_equity']));
    expect(item?.required).toEqual(expect.arrayContaining(['params', 'timeframe', 'final_equity']));
  });
});

/** Sets a file's modification time (what a run's listed time is). */
function setTimes(file: string, ms: number): void {
  utimesSync(file, ms / 1000, ms / 1000);
}

/** The message JSON.parse gives for `text` (it differs between Node versions). */
function jsonError(text: string): string {
  try {
    JSON.parse(text);
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}
