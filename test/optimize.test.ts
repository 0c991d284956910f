// `halyard optimize` end to end, through the real CLI: every combination's summary equals a single
// `halyard backtest` with the same parameters (real Binance data imported into a temp cache), worker
// counts and seeds repeat, refusals are one sentence, and walk-forward windows stitch into one curve.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OptimizeJson } from '../src/report/optimize-json.ts';
import type { ResultsJson } from '../src/report/results.ts';
import { ROOT, runHalyard } from './cli-run.ts';

const DATA = resolve(ROOT, '..', 'shared', 'data', 'binance-spot-BTCUSDT-1m-365d.csv.gz');
const SYMBOL = 'BTC/USDT:USDT';
const SYN = ['--synthetic', '--days', '40'];

let dir: string;
let env: Record<string, string>;
let outs = 0;

/** Runs `halyard optimize strategies/sma-cross.ts <args> --out <fresh dir>` and reads its optimize.json. */
async function optimize(args: readonly string[]): Promise<{ json: OptimizeJson; text: string; out: string; stdout: string }> {
  const out = join(dir, `run-${++outs}`);
  const r = await runHalyard(['optimize', 'strategies/sma-cross.ts', ...args, '--out', out], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const text = await readFile(join(out, 'optimize.json'), 'utf8');
  return { json: JSON.parse(text) as OptimizeJson, text, out, stdout: r.stdout };
}

/** A refused command: exit 2, one line on stderr, nothing on stdout. */
async function refused(args: readonly string[]): Promise<string> {
  const r = await runHalyard(['optimize', 'strategies/sma-cross.ts', ...args], env);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  return r.stderr;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'halyard-optimize-'));
  env = { CACHE_PATH: join(dir, 'cache'), OUTPUT_PATH: join(dir, 'output') };
  expect(existsSync(DATA)).toBe(true);
  const r = await runHalyard(['data', 'import', DATA, '--exchange', 'binance', '--symbol', SYMBOL, '--timeframe', '1m'], env);
  expect(r.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('halyard optimize', () => {
  it('gives every sampled combination the summary of a single backtest, byte for byte (real data)', async () => {
    const market = ['--exchange', 'binance', '--symbol', SYMBOL, '--from', '2024-01-01', '--to', '2024-02-15', '--fill', 'next-open', '--param', 'sl=0.005'];
    const { json, out } = await optimize([...market, '--param', 'fast=20,50,80', '--param', 'slow=150..300:150', '--workers', '2']);
    expect(json.combinations).toHaveLength(6);
    expect(json.data).toMatchObject({ exchange: 'binance', symbol: SYMBOL, timeframe: '1m', candles: 45 * 1440 });
    // The best, the worst and one between: each as `halyard backtest` runs it.
    const sample = [json.combinations[0]!, json.combinations[3]!, json.combinations[5]!];
    for (const c of sample) {
      const params = Object.entries({ ...c.params }).flatMap(([k, v]) => ['--param', `${k}=${String(v)}`]);
      const r = await runHalyard(['backtest', 'strategies/sma-cross.ts', ...market, ...params, '--json', '--no-report'], env);
      expect(r.code).toBe(0);
      const single = JSON.parse(r.stdout) as ResultsJson;
      expect(JSON.stringify(c.summary)).toBe(JSON.stringify(single.summary));
      expect(single.summary.trades).toBeGreaterThan(10);
    }
    // best/ holds the winner's full run: the same summary again.
    const best = JSON.parse(await readFile(join(out, 'best', 'results.json'), 'utf8')) as ResultsJson;
    expect(JSON.stringify(best.summary)).toBe(JSON.stringify(json.combinations[0]!.summary));
    expect(best.config.params).toMatchObject(json.best!.params);
  }, 240_000);

  it('warms each combination up on its own warm-up before --from, as a backtest with its parameters does', async () => {
    // The strategy warms up on `slow` candles: 150 for some combinations, 300 for others.
    const file = join(dir, 'warm-cross.ts');
    await writeFile(file, `import SmaCross from ${JSON.stringify(join(ROOT, 'strategies', 'sma-cross.ts'))};\nexport default class WarmCross extends SmaCross {\n  override readonly warmup = this.params.slow;\n}\n`);
    const market = ['--exchange', 'binance', '--symbol', SYMBOL, '--from', '2024-03-01', '--to', '2024-03-20', '--fill', 'next-open'];
    const out = join(dir, 'warm');
    const r = await runHalyard(['optimize', file, ...market, '--param', 'fast=20,50', '--param', 'slow=150,300', '--out', out], env);
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(join(out, 'optimize.json'), 'utf8')) as OptimizeJson;
    expect(json.data.fromIso).toBe('2024-03-01T00:00:00.000Z');
    expect(json.data.candles).toBe(19 * 1440);
    for (const c of json.combinations) {
      const params = Object.entries({ ...c.params }).flatMap(([k, v]) => ['--param', `${k}=${String(v)}`]);
      const single = await runHalyard(['backtest', file, ...market, ...params, '--json', '--no-report'], env);
      expect(single.code).toBe(0);
      const res = JSON.parse(single.stdout) as ResultsJson;
      expect(res.config.warmup).toBe(c.params.slow);
      expect(JSON.stringify(c.summary)).toBe(JSON.stringify(res.summary));
    }
    const best = JSON.parse(await readFile(join(out, 'best', 'results.json'), 'utf8')) as ResultsJson;
    expect(best.config.warmup).toBe(json.best!.params.slow);
  }, 240_000);

  it('writes the run folder: optimize.json ranked, optimize.csv, report.html with the heatmap, best/', async () => {
    const { json, out, stdout } = await optimize([...SYN, '--param', 'fast=10..40:10', '--param', 'slow=60,120', '--constraint', 'fast * 3 <= slow', '--objective', 'return', '--share']);
    // fast * 3 <= slow leaves (10,60) (20,60) (10,120) … (40,120): 6 of 8.
    expect([json.spaceSize, json.feasibleSize, json.combinations.length]).toEqual([8, 6, 6]);
    expect(json.combinations.every((c) => (c.params.fast as number) * 3 <= (c.params.slow as number))).toBe(true);
    const scores = json.combinations.map((c) => c.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(json.combinations.map((c) => c.score)).toEqual(json.combinations.map((c) => c.summary.totalReturn));
    expect(json.space).toEqual({ fast: '10..40:10', slow: [60, 120] });
    expect(json.overfitting?.trials).toBe(6);
    expect(json.overfitting?.pboPartitions).toBe(16);
    const files = (await readdir(out)).sort();
    expect(files).toEqual(['best', 'optimize.csv', 'optimize.json', 'report.html', 'run.json']);
    expect(JSON.parse(await readFile(join(out, 'run.json'), 'utf8'))).toEqual({ shared: true });
    const csv = (await readFile(join(out, 'optimize.csv'), 'utf8')).trim().split('\r\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]!.startsWith('rank,fast,slow,score,feasible,initialBalance,finalEquity,totalReturn')).toBe(true);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('class="heat"');
    expect(html).toContain('href="best/report.html"');
    expect(html).not.toMatch(/<script/);
    expect(stdout).toMatch(/Best {8}\{"fast":\d+,"slow":\d+\}/);
    expect(stdout).toContain(join(out, 'report.html'));
    // optimize.json's space, given back as --params-file, runs the very same sweep.
    const file = join(dir, 'space.json');
    await writeFile(file, JSON.stringify(json.space));
    const again = await optimize([...SYN, '--params-file', file, '--constraint', 'fast * 3 <= slow', '--objective', 'return', '--share']);
    expect(again.text).toBe(await readFile(join(out, 'optimize.json'), 'utf8'));
    await writeFile(file, '[1, 2]');
    expect(await refused([...SYN, '--params-file', file])).toMatch(/must hold one JSON object of parameter specs/);
  }, 120_000);

  it('gives the same results on one worker and on two, and a seeded search repeats', async () => {
    const space = [...SYN, '--param', 'fast=5..60:5', '--param', 'slow=50..200:50', '--constraint', 'fast < slow'];
    const grid1 = await optimize([...space, '--workers', '1']);
    const grid2 = await optimize([...space, '--workers', '2']);
    expect(grid2.text).toBe(grid1.text);
    const tpe = ['--method', 'tpe', '--trials', '14', '--seed', '42'];
    const tpe1 = await optimize([...space, ...tpe, '--workers', '1']);
    const tpe2 = await optimize([...space, ...tpe, '--workers', '2']);
    expect(tpe2.text).toBe(tpe1.text);
    expect(tpe1.json.combinations).toHaveLength(14);
    const rnd1 = await optimize([...space, '--method', 'random', '--trials', '8', '--seed', '42', '--workers', '2']);
    const rnd2 = await optimize([...space, '--method', 'random', '--trials', '8', '--seed', '42', '--workers', '1']);
    expect(rnd2.text).toBe(rnd1.text);
    expect(rnd1.json.combinations).toHaveLength(8);
    // Every random and TPE combination ran with the very summary the grid gave it.
    const byParams = new Map(grid1.json.combinations.map((c) => [JSON.stringify(c.params), JSON.stringify(c.summary)]));
    for (const c of [...tpe1.json.combinations, ...rnd1.json.combinations]) expect(JSON.stringify(c.summary)).toBe(byParams.get(JSON.stringify(c.params)));
  }, 240_000);

  it('ranks combinations with fewer trades than --min-trades last, marked infeasible', async () => {
    const space = [...SYN, '--param', 'fast=10,40', '--param', 'slow=100,400'];
    const free = (await optimize(space)).json;
    const { json } = await optimize([...space, '--min-trades', '500']);
    const trades = json.combinations.map((c) => c.summary.trades);
    expect(trades.some((t) => t >= 500) && trades.some((t) => t < 500)).toBe(true);
    expect(json.combinations.map((c) => c.feasible)).toEqual(trades.map((t) => t >= 500).sort((a, b) => Number(b) - Number(a)));
    const firstInfeasible = json.combinations.findIndex((c) => !c.feasible);
    expect(json.combinations.slice(firstInfeasible).every((c) => !c.feasible)).toBe(true);
    // The free winner made too few trades: with the minimum it ranks after every feasible combination.
    expect(free.best!.summary.trades).toBeLessThan(500);
    expect(json.best!.summary.trades).toBeGreaterThanOrEqual(500);
    expect(json.best!.params).not.toEqual(free.best!.params);
  }, 120_000);

  it('walks forward: rolling and anchored windows, each tested after its train window, equity stitched end to end', async () => {
    for (const anchored of [false, true]) {
      const { json, out } = await optimize([...SYN, '--days', '60', '--param', 'fast=10,30', '--param', 'slow=100,200', '--walk-forward', `train=20d,test=10d${anchored ? ',anchored' : ''}`]);
      const wf = json.walkForward!;
      expect(wf.windows).toHaveLength(4);
      const start = json.data.from;
      wf.windows.forEach((w, k) => {
        expect(w.trainFrom).toBe(anchored ? start : start + k * 10 * 86_400_000);
        expect(w.testFrom).toBe(w.trainTo);
        expect(w.testTo - w.testFrom).toBe(10 * 86_400_000);
        expect(w.outOfSample.initialBalance).toBe(w.startEquity);
        expect(w.endEquity).toBe(w.outOfSample.finalEquity);
        if (k > 0) {
          expect(w.startEquity).toBe(wf.windows[k - 1]!.endEquity);
          expect(w.testFrom).toBeGreaterThanOrEqual(wf.windows[k - 1]!.testTo);
        } else expect(w.startEquity).toBe(json.settings.initialBalance);
        expect(json.combinations.some((c) => JSON.stringify(c.params) === JSON.stringify(w.params))).toBe(true);
      });
      const last = wf.windows[wf.windows.length - 1]!;
      expect(wf.outOfSample.finalEquity).toBe(last.endEquity);
      expect(wf.outOfSample.trades).toBe(wf.windows.reduce((a, w) => a + w.outOfSample.trades, 0));
      expect(wf.equityCurve[wf.equityCurve.length - 1]!.v).toBe(last.endEquity);
      expect(wf.equityCurve[0]!.t).toBeGreaterThanOrEqual(wf.windows[0]!.testFrom);
      const csv = (await readFile(join(out, 'walk-forward.csv'), 'utf8')).trim().split('\r\n');
      expect(csv).toHaveLength(5);
      expect(await readFile(join(out, 'report.html'), 'utf8')).toContain('Walk-forward');
    }
  }, 240_000);

  it('refuses bad spaces and constraints with one sentence, hostile text included', async () => {
    expect(await refused([...SYN, '--param', 'fats=1..5'])).toMatch(/unknown parameter "fats"; this strategy takes: fast, slow/);
    expect(await refused([...SYN, '--param', 'fast=50..10:5'])).toMatch(/starts above its end/);
    expect(await refused([...SYN, '--param', 'fast=1..100:0'])).toMatch(/step must be > 0/);
    expect(await refused([...SYN, '--param', 'fast=1..2000:1', '--param', 'slow=1..1000:1'])).toMatch(/more than 1,000,000 combinations/);
    expect(await refused([...SYN, '--param', 'fast=10,20', '--constraint', 'fast < slow; process.exit()'])).toMatch(/unexpected ";" at character 12/);
    expect(await refused([...SYN, '--param', 'fast=10,20', '--constraint', 'fast < slowest'])).toMatch(/"slowest" is not a number parameter/);
    expect(await refused([...SYN, '--param', 'fast=300,400', '--constraint', 'fast < slow'])).toMatch(/no combination of the 2 satisfies the constraints/);
    expect(await refused(SYN)).toMatch(/give the parameters to search/);
    expect(await refused([...SYN, '--param', 'fast=10,20', '--walk-forward', 'train=30d'])).toMatch(/needs both train= and test=/);
    expect(existsSync(join(dir, 'output'))).toBe(false);
  }, 120_000);
});
