/**
 * A sweep worker thread: loads the strategy file once, views the candles the main thread shares, and runs
 * the batches of combinations it is sent, answering each with the summaries and daily returns. Base
 * indicator series are computed once per candle range and shared by every combination (SeriesCache).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { sliceCandles, type CandleColumns } from '../core/candles.ts';
import { isHalyardError } from '../core/errors.ts';
import { SeriesCache } from '../strategy/series-cache.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { comboResult, runCombination, type RunMarket } from './run-combination.ts';
import { columnsOf, finerOf } from './shared-columns.ts';
import type { RunRequest, WorkerInit, WorkerReply } from './worker-protocol.ts';

const port = parentPort;
const init = workerData as WorkerInit | null;

/** Posts a failure as its code and one-line message (the main thread raises it as a HalyardError). */
function reportError(e: unknown): void {
  const reply: WorkerReply = { kind: 'error', code: isHalyardError(e) ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) };
  port?.postMessage(reply);
}

async function start(p: NonNullable<typeof port>, w: WorkerInit): Promise<void> {
  const Cls = await loadStrategyFile(w.strategyFile);
  const all = columnsOf(w.market.candles);
  const finer = finerOf(w.market);
  // HALYARD_SHARE_INDICATORS=0 turns the series cache off (bench/optimize.ts measures what it saves).
  const sharing = process.env.HALYARD_SHARE_INDICATORS !== '0';
  let current: { key: string; candles: CandleColumns; cache: SeriesCache | undefined } | null = null;
  p.on('message', (m: RunRequest) => {
    try {
      const key = m.range === null ? 'all' : `${m.range[0]}:${m.range[1]}`;
      if (current?.key !== key) {
        const candles = m.range === null ? all : sliceCandles(all, m.range[0], m.range[1]);
        current = { key, candles, cache: sharing ? new SeriesCache(candles) : undefined };
      }
      const market: RunMarket = { exchange: w.market.exchange, symbol: w.market.symbol, timeframe: w.market.timeframe, candles: current.candles, finer };
      const results = m.items.map((it) => ({ index: it.index, ...comboResult(runCombination(Cls, it.params, market, w.settings, current?.cache)) }));
      const reply: WorkerReply = { kind: 'done', batch: m.batch, results };
      p.postMessage(reply, results.map((r) => r.daily.buffer as ArrayBuffer));
    } catch (e) {
      reportError(e);
    }
  });
  p.postMessage({ kind: 'ready' } satisfies WorkerReply);
}

if (port && init) start(port, init).catch(reportError);
