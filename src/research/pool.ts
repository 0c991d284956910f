import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { HalyardError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import type { ComboResult, RunSettings } from './run-combination.ts';
import type { SharedMarket } from './shared-columns.ts';
import type { Combination } from './space.ts';
import type { FullRun, RunSpan, WorkerReply, WorkerRequest, WorkerStart, WorkItem } from './worker-protocol.ts';

/** True when this module runs from the JavaScript build (dist/), false from the sources (tsx, vitest). */
const FROM_BUILD = !import.meta.url.endsWith('.ts');

/**
 * Starts one worker thread on research/worker. From the build, its built file (an entry point of
 * scripts/build.mjs, two levels under the repo like this chunk); from the sources, the TypeScript file
 * behind tsx's hooks, registered in the thread first as bin/halyard.js does.
 */
function spawn(start: WorkerStart): Worker {
  if (FROM_BUILD) return new Worker(new URL('../research/worker.js', import.meta.url), { workerData: start });
  const req = createRequire(import.meta.url);
  const target = new URL('../research/worker.ts', import.meta.url).href;
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs/api'))}).register();
import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { eval: true, workerData: start });
}

function failure(code: string, message: string): HalyardError {
  return new HalyardError((ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal', message);
}

/** Combinations per message: a few messages per worker (balance) but not one per run (overhead). */
function chunkSize(items: number, workers: number): number {
  return Math.max(1, Math.min(16, Math.ceil(items / (workers * 4))));
}

type Reply = Exclude<WorkerReply, { kind: 'error' }>;

/** One worker and its replies in order (a reply that comes before it is awaited waits in `early`). */
class Thread {
  private readonly early: Reply[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: HalyardError) => void } | null = null;
  private failed: HalyardError | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: WorkerReply) => (m.kind === 'error' ? this.fail(failure(m.code, m.message)) : this.deliver(m)));
    worker.on('error', (e: Error) => this.fail(failure('internal', `a sweep worker failed: ${e.message}`)));
    worker.on('exit', (code: number) => this.fail(failure('internal', `a sweep worker stopped (exit code ${code})`)));
  }

  private deliver(m: Reply): void {
    const w = this.waiting;
    this.waiting = null;
    if (w) w.resolve(m);
    else this.early.push(m);
  }

  private fail(e: HalyardError): void {
    this.failed ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failed);
  }

  /** The next reply of the kind expected. */
  next<K extends Reply['kind']>(kind: K): Promise<Extract<Reply, { kind: K }>> {
    const check = (r: Reply): Extract<Reply, { kind: K }> => {
      if (r.kind !== kind) throw failure('internal', `a sweep worker answered "${r.kind}" where "${kind}" was due`);
      return r as Extract<Reply, { kind: K }>;
    };
    const first = this.early.shift();
    if (first) return Promise.resolve(first).then(check);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<Reply>((resolve, reject) => (this.waiting = { resolve, reject })).then(check);
  }

  /** Sends a request and waits for its reply. */
  ask<K extends Reply['kind']>(req: WorkerRequest, kind: K): Promise<Extract<Reply, { kind: K }>> {
    const reply = this.next(kind);
    this.worker.postMessage(req);
    return reply;
  }
}

/**
 * Worker threads that run combinations on the candles the main thread shares. They start (and load the
 * strategy) at once; `init` shares the candles; `run` hands batches to whichever worker is idle. Results
 * are keyed by combination, so which worker ran what never matters.
 */
export class WorkerPool {
  private readonly threads: Thread[];
  private readonly loaded: Promise<unknown>;

  /** Starts `count` workers, each loading the strategy file. */
  constructor(strategyFile: string, count: number) {
    this.threads = Array.from({ length: Math.max(1, count) }, () => new Thread(spawn({ strategyFile })));
    this.loaded = Promise.all(this.threads.map((t) => t.next('loaded')));
    this.loaded.catch(() => {}); // awaited in init; a failure before then must not go unhandled
  }

  /** Number of worker threads. */
  get size(): number {
    return this.threads.length;
  }

  /** Shares the candles and the run settings with every worker (once each has loaded the strategy). */
  async init(market: SharedMarket, settings: RunSettings): Promise<void> {
    await this.loaded;
    await Promise.all(this.threads.map((t) => t.ask({ kind: 'init', market, settings }, 'ready')));
  }

  /**
   * Runs `items` (each on its span of the candles) across the workers; `onDone` hears how many finished
   * after each message. Results are keyed by combination index.
   */
  async run(items: readonly WorkItem[], onDone?: (finished: number) => void): Promise<Map<number, ComboResult>> {
    const out = new Map<number, ComboResult>();
    const size = chunkSize(items.length, this.threads.length);
    let next = 0;
    const loop = async (t: Thread): Promise<void> => {
      while (next < items.length) {
        const chunk = items.slice(next, next + size);
        next += chunk.length;
        const m = await t.ask({ kind: 'run', items: chunk }, 'done');
        for (const r of m.results) out.set(r.index, { summary: r.summary, daily: r.daily });
        onDone?.(m.results.length);
      }
    };
    await Promise.all(this.threads.map(loop));
    return out;
  }

  /** One combination's full run (trades, equity) on a worker, whose compiled code is warm by now; `initialBalance` overrides the settings'. */
  async full(span: RunSpan, params: Combination, initialBalance?: number): Promise<FullRun> {
    return (await this.threads[0]!.ask({ kind: 'full', span, params, ...(initialBalance !== undefined ? { initialBalance } : {}) }, 'full')).run;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }
}
