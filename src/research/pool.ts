import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { HalyardError, ERROR_CODES, type ErrorCode } from '../core/errors.ts';
import type { ComboResult } from './run-combination.ts';
import type { CandleRange, RunRequest, WorkerInit, WorkerReply, WorkItem } from './worker-protocol.ts';

/** True when this module runs from the JavaScript build (dist/), false from the sources (tsx, vitest). */
const FROM_BUILD = !import.meta.url.endsWith('.ts');

/**
 * Starts one worker thread on research/worker. From the build, its built file (an entry point of
 * scripts/build.mjs, two levels under the repo like this chunk); from the sources, the TypeScript file
 * behind tsx's hooks, registered in the thread first as bin/halyard.js does.
 */
function spawn(init: WorkerInit): Worker {
  if (FROM_BUILD) return new Worker(new URL('../research/worker.js', import.meta.url), { workerData: init });
  const req = createRequire(import.meta.url);
  const target = new URL('../research/worker.ts', import.meta.url).href;
  const code = `require(${JSON.stringify(req.resolve('tsx/cjs/api'))}).register();
import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(code, { eval: true, workerData: init });
}

function failure(code: string, message: string): HalyardError {
  return new HalyardError((ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'internal', message);
}

/** Combinations per message: a few messages per worker (balance) but not one per run (overhead). */
function chunkSize(items: number, workers: number): number {
  return Math.max(1, Math.min(16, Math.ceil(items / (workers * 4))));
}

/**
 * Worker threads that run combinations on the candles the main thread shares. `run` hands batches to
 * whichever worker is idle; results are keyed by combination, so which worker ran what never matters.
 */
export class WorkerPool {
  private failed: HalyardError | null = null;
  private batch = 0;

  private constructor(private readonly workers: readonly Worker[]) {}

  /** Starts `count` workers and waits until each has loaded the strategy. */
  static async start(init: WorkerInit, count: number): Promise<WorkerPool> {
    const workers = Array.from({ length: Math.max(1, count) }, () => spawn(init));
    const pool = new WorkerPool(workers);
    try {
      await Promise.all(workers.map((w) => pool.next(w)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of worker threads. */
  get size(): number {
    return this.workers.length;
  }

  /** The next reply of worker `w` (a failure or an exit rejects). */
  private next(w: Worker): Promise<Extract<WorkerReply, { kind: 'ready' | 'done' }>> {
    return new Promise((resolve, reject) => {
      const off = (): void => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      const onMessage = (m: WorkerReply): void => {
        off();
        if (m.kind === 'error') reject(failure(m.code, m.message));
        else resolve(m);
      };
      const onError = (e: Error): void => {
        off();
        reject(failure('internal', `a sweep worker failed: ${e.message}`));
      };
      const onExit = (code: number): void => {
        off();
        reject(failure('internal', `a sweep worker stopped (exit code ${code})`));
      };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
    });
  }

  /**
   * Runs `items` on base candles `range` (null: all) across the workers; `onDone` hears how many
   * finished after each message. Results are keyed by combination index.
   */
  async run(range: CandleRange, items: readonly WorkItem[], onDone?: (finished: number) => void): Promise<Map<number, ComboResult>> {
    if (this.failed) throw this.failed;
    const out = new Map<number, ComboResult>();
    const size = chunkSize(items.length, this.workers.length);
    let next = 0;
    const loop = async (w: Worker): Promise<void> => {
      while (next < items.length && this.failed === null) {
        const chunk = items.slice(next, next + size);
        next += chunk.length;
        const req: RunRequest = { kind: 'run', batch: ++this.batch, range, items: chunk };
        const reply = this.next(w);
        w.postMessage(req);
        const m = await reply;
        if (m.kind !== 'done') throw failure('internal', 'a sweep worker answered out of turn');
        for (const r of m.results) out.set(r.index, { summary: r.summary, daily: r.daily });
        onDone?.(m.results.length);
      }
    };
    try {
      await Promise.all(this.workers.map(loop));
    } catch (e) {
      this.failed = e instanceof HalyardError ? e : failure('internal', String(e));
      throw this.failed;
    }
    return out;
  }

  /** Stops every worker. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
