/**
 * A sweep worker thread: loads the strategy file once (while the main thread loads the candles), views the
 * candles the main thread shares, and runs the batches of combinations it is sent, answering each with the
 * summaries and daily returns. Base indicator series are computed once per candle span and shared by
 * every combination (SeriesCache).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sliceCandles, type CandleColumns } from '../core/candles.ts';
import { isHalyardError } from '../core/errors.ts';
import { SeriesCache } from '../strategy/series-cache.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import type { BacktestResult } from '../engine/result.ts';
import type { Combination } from './space.ts';
import { comboResult, runCombination, type RunMarket, type RunSettings } from './run-combination.ts';
import { columnsOf, finerOf, type SharedMarket } from './shared-columns.ts';
import type { RunSpan, WorkerReply, WorkerRequest, WorkerStart } from './worker-protocol.ts';

const port = parentPort;
const start = workerData as WorkerStart | null;

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

/** Posts a failure as its code and one-line message (the main thread raises it as a HalyardError). */
function reportError(e: unknown): void {
  post({ kind: 'error', code: isHalyardError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
}

/** Candle spans whose market and series cache a worker keeps (one per warm-up length in use, typically one). */
const SPANS_KEPT = 4;

/** The worker's state once the main thread has shared the candles. */
class Runner {
  private readonly all: CandleColumns;
  private readonly finer: RunMarket['finer'];
  // HALYARD_SHARE_INDICATORS=0 turns the series cache off (bench/optimize.ts measures what it saves).
  private readonly sharing = process.env.HALYARD_SHARE_INDICATORS !== '0';
  /** Markets and series caches by span, least recently used first. */
  private readonly spans = new Map<string, { market: RunMarket; cache: SeriesCache | undefined }>();

  constructor(
    private readonly Cls: StrategyClass,
    private readonly market: SharedMarket,
    private readonly settings: RunSettings,
  ) {
    this.all = columnsOf(market.candles);
    this.finer = finerOf(market);
  }

  /** The market of a span's candles and its series cache. */
  private at(span: RunSpan): { market: RunMarket; cache: SeriesCache | undefined } {
    const key = `${span.start}:${span.end}`;
    let hit = this.spans.get(key);
    if (hit) this.spans.delete(key);
    else {
      const candles = span.start === 0 && span.end === this.all.length ? this.all : sliceCandles(this.all, span.start, span.end);
      const m = this.market;
      hit = { market: { exchange: m.exchange, symbol: m.symbol, timeframe: m.timeframe, candles, finer: this.finer }, cache: this.sharing ? new SeriesCache(candles) : undefined };
      if (this.spans.size >= SPANS_KEPT) this.spans.delete(this.spans.keys().next().value as string);
    }
    this.spans.set(key, hit);
    return hit;
  }

  private runOne(params: Combination, span: RunSpan, initialBalance?: number): BacktestResult {
    const { market, cache } = this.at(span);
    const over = { ...(span.tradeFrom !== undefined ? { tradeFrom: span.tradeFrom } : {}), ...(initialBalance !== undefined ? { initialBalance } : {}) };
    return runCombination(this.Cls, params, market, this.settings, cache, over);
  }

  handle(m: Exclude<WorkerRequest, { kind: 'init' }>): void {
    if (m.kind === 'full') {
      const { candles: _candles, timings: _timings, ...run } = this.runOne(m.params, m.span, m.initialBalance);
      post({ kind: 'full', run }, [run.equity.buffer as ArrayBuffer]);
      return;
    }
    const results = m.items.map((it) => ({ index: it.index, ...comboResult(this.runOne(it.params, it.span)) }));
    post({ kind: 'done', results }, results.map((r) => r.daily.buffer as ArrayBuffer));
  }
}

async function main(p: NonNullable<typeof port>, w: WorkerStart): Promise<void> {
  const Cls = await loadStrategyFile(w.strategyFile);
  let runner: Runner | null = null;
  p.on('message', (m: WorkerRequest) => {
    try {
      if (m.kind === 'init') {
        runner = new Runner(Cls, m.market, m.settings);
        post({ kind: 'ready' });
      } else if (runner === null) throw new Error('a sweep worker was sent work before the candles');
      else runner.handle(m);
    } catch (e) {
      reportError(e);
    }
  });
  post({ kind: 'loaded' });
}

if (port && start) main(port, start).catch(reportError);
