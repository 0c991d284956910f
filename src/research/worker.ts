/**
 * A sweep worker thread: loads the strategy file once (while the main thread loads the candles), views the
 * candles the main thread shares, and runs the batches of combinations it is sent, answering each with the
 * summaries and daily returns. Base indicator series are computed once per candle range and shared by
 * every combination (SeriesCache).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sliceCandles, type CandleColumns } from '../core/candles.ts';
import { isHalyardError } from '../core/errors.ts';
import { SeriesCache } from '../strategy/series-cache.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import type { StrategyClass } from '../strategy/strategy.ts';
import { comboResult, runCombination, type RunMarket, type RunSettings } from './run-combination.ts';
import { columnsOf, finerOf, type SharedMarket } from './shared-columns.ts';
import type { CandleRange, WorkerReply, WorkerRequest, WorkerStart } from './worker-protocol.ts';

const port = parentPort;
const start = workerData as WorkerStart | null;

function post(reply: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

/** Posts a failure as its code and one-line message (the main thread raises it as a HalyardError). */
function reportError(e: unknown): void {
  post({ kind: 'error', code: isHalyardError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) });
}

/** The worker's state once the main thread has shared the candles. */
class Runner {
  private readonly all: CandleColumns;
  private readonly finer: RunMarket['finer'];
  // HALYARD_SHARE_INDICATORS=0 turns the series cache off (bench/optimize.ts measures what it saves).
  private readonly sharing = process.env.HALYARD_SHARE_INDICATORS !== '0';
  private current: { key: string; market: RunMarket; cache: SeriesCache | undefined } | null = null;

  constructor(
    private readonly Cls: StrategyClass,
    private readonly market: SharedMarket,
    private readonly settings: RunSettings,
  ) {
    this.all = columnsOf(market.candles);
    this.finer = finerOf(market);
  }

  /** The market of a candle range, and its series cache (kept while the range stays the same). */
  private at(range: CandleRange): { market: RunMarket; cache: SeriesCache | undefined } {
    const key = range === null ? 'all' : `${range[0]}:${range[1]}`;
    if (this.current?.key !== key) {
      const candles = range === null ? this.all : sliceCandles(this.all, range[0], range[1]);
      const m = this.market;
      const market: RunMarket = { exchange: m.exchange, symbol: m.symbol, timeframe: m.timeframe, candles, finer: this.finer };
      this.current = { key, market, cache: this.sharing ? new SeriesCache(candles) : undefined };
    }
    return this.current;
  }

  handle(m: Exclude<WorkerRequest, { kind: 'init' }>): void {
    const { market, cache } = this.at(m.range);
    if (m.kind === 'full') {
      const r = runCombination(this.Cls, m.params, market, this.settings, cache, m.over);
      const run = { config: r.config, summary: r.summary, trades: r.trades, rejections: r.rejections, equity: r.equity, forcedCloses: r.forcedCloses };
      post({ kind: 'full', run }, [r.equity.buffer as ArrayBuffer]);
      return;
    }
    const results = m.items.map((it) => ({ index: it.index, ...comboResult(runCombination(this.Cls, it.params, market, this.settings, cache)) }));
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
