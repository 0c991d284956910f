import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { SystemClock } from '../clock.ts';
import type { CandleColumns } from '../core/candles.ts';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import { TIMEFRAME_MS, parseTimeframe } from '../core/timeframe.ts';
import type { Venue } from '../core/venue.ts';
import { exchangeUrlOverride, type Settings } from '../config.ts';
import { cachePath, checkCoverage, readCandles, readCovering } from '../data/index.ts';
import { drive, replayCandles, type DriverResult } from '../engine/paper/driver.ts';
import type { MarketDriver } from '../engine/paper/orders.ts';
import { PaperRuntime, type PaperSettings, type RuntimeCandle } from '../engine/paper/runtime.ts';
import { parseTargetKey } from '../exchange/targets.ts';
import { createLogger } from '../log.ts';
import { alertSenderFromSettings } from '../notify/alert-sender.ts';
import { outboxSenderFromSettings } from '../notify/outbox-sender.ts';
import { RunAlerts } from '../notify/run-alerts.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { parseParams, warmupOf } from '../strategy/strategy.ts';
import { nonNegative, parsePort, parseTime } from './options.ts';
import { storeFromSettings } from './store.ts';

/** The options of `halyard paper`. */
export interface PaperOptions {
  target: string;
  run?: string;
  exchange?: string;
  symbol?: string;
  timeframe?: string;
  replay?: string;
  /** Replay a range the cache holds only part of (a warning names the part). */
  allowPartial?: boolean;
  speed: string;
  warmup?: string;
  param: string[];
  balance?: number;
  leverage?: number;
  makerFee?: number;
  takerFee?: number;
  slippage?: number;
  fill: 'close' | 'next-open';
  sltp: 'conservative' | 'candle-direction';
  apiPort?: string;
  apiHost: string;
  apiToken?: string;
}

/** How long a stopping run waits for its alerts to be delivered (ms); what is left goes at the next start. */
const ALERT_FLUSH_MS = 15_000;

/** `2024-01-01..2024-01-08` → [from, to) in epoch ms. */
function parseRange(s: string): { from: number; to: number } {
  const m = /^(.+?)\.\.(.+)$/.exec(s.trim());
  if (!m) throw new HalyardError('invalid_input', `--replay expects FROM..TO (UTC dates, e.g. 2024-01-01..2024-01-08), got "${s}"`);
  const from = parseTime(m[1] as string, '--replay');
  const to = parseTime(m[2] as string, '--replay');
  if (!(to > from)) throw new HalyardError('invalid_input', `--replay: the end ${m[2]} is not after the start ${m[1]}`);
  return { from, to };
}

function rows(c: CandleColumns): RuntimeCandle[] {
  const out: RuntimeCandle[] = [];
  for (let i = 0; i < c.length; i++) {
    out.push({ ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: c.openInterest[i]!, cvd: c.cvd[i]! });
  }
  return out;
}

/** The venue of a target: the in-process simulated exchange (which is also the market driver) or ccxt. */
async function openVenue(target: string, s: Settings, o: PaperOptions, clock: Clock, mode: 'oneway' | 'hedge'): Promise<{ venue: Venue; market: MarketDriver | null }> {
  const t = parseTargetKey(target);
  if (t.exchange === 'sim') {
    const { SimVenue } = await import('../exchange/sim/index.ts');
    const venue = new SimVenue({
      clock,
      target: t.key,
      balance: o.balance ?? s.INITIAL_BALANCE,
      leverage: o.leverage ?? s.LEVERAGE,
      makerFeeBps: o.makerFee ?? s.MAKER_FEE_BPS,
      takerFeeBps: o.takerFee ?? s.TAKER_FEE_BPS,
      slippageBps: o.slippage ?? s.SLIPPAGE_BPS,
      mode,
    });
    return { venue, market: venue };
  }
  const { createCcxtVenue } = await import('../exchange/ccxt/index.ts');
  const venue = createCcxtVenue({ exchange: t.exchange, env: t.env, credentials: { apiKey: s.API_KEY, secret: s.API_SECRET }, urlOverride: exchangeUrlOverride(t.exchange) });
  return { venue, market: null };
}

/** Runs `halyard paper` (loaded only when the command runs: it brings the store, ccxt and alerts). */
export async function runPaperCommand(file: string, o: PaperOptions, s: Settings): Promise<void> {
  const log = createLogger(s);
  const clock = new SystemClock();
  const target = parseTargetKey(o.target).key;
  const Cls = await loadStrategyFile(file);
  const params = parseParams(Cls.defaults, o.param);
  const strategy = new Cls(params);
  const base = o.timeframe ? parseTimeframe(o.timeframe) : (strategy.timeframes[0] ?? '1m');
  const symbol = o.symbol ?? s.SYMBOL;
  const exchange = o.exchange ?? s.EXCHANGE;
  const speed = nonNegative('--speed')(o.speed);
  const warmup = o.warmup !== undefined ? nonNegative('--warmup')(o.warmup) : o.replay ? warmupOf(strategy) : Math.max(500, warmupOf(strategy));
  const runId = o.run ?? `${strategy.name}-${symbol.replace(/[^A-Za-z0-9]+/g, '')}-${target.replace(':', '-')}`;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(runId)) throw new HalyardError('invalid_input', `--run must be 1-64 characters of [A-Za-z0-9_.-], got "${runId}"`);
  const { instrumentFor } = await import('../core/instrument.ts');
  const inst = instrumentFor(symbol);
  const range = o.replay ? parseRange(o.replay) : undefined;

  // Candles first: a replay without cached data fails before anything is created.
  let replayRows: RuntimeCandle[] = [];
  let warmRows: RuntimeCandle[] = [];
  if (range) {
    const { candles: c, coverage } = await readCovering(cachePath(s.CACHE_PATH, exchange, symbol, base), base, range);
    const warning = checkCoverage(coverage, `${exchange} ${symbol} ${base}`, o.allowPartial === true, 'the replay', '--replay');
    if (warning !== null) process.stderr.write(`${warning}\n`);
    if (c.length === 0) throw new HalyardError('data_missing', `no ${exchange} ${symbol} ${base} candles cached in ${o.replay} (fetch them: halyard data fetch)`);
    replayRows = rows(c);
    // Warm-up: the cached candles just before the range feed indicators without trading.
    if (warmup > 0) warmRows = rows(await readCandles(cachePath(s.CACHE_PATH, exchange, symbol, base), { to: range.from })).slice(-warmup);
  }
  // The live exchange is reached before anything is created too: one that is down fails here, in seconds.
  const liveSource = range ? undefined : await (await import('./paper-live.ts')).openLiveSource({ exchange, symbol, urls: exchangeUrlOverride(exchange) });
  const store = await storeFromSettings(s);
  const alertSender = alertSenderFromSettings(s, store.db, clock, log);
  const alerts = alertSender ? new RunAlerts({ db: store.db, sender: alertSender, runId, strategy: strategy.name, target, clock, logger: log }) : undefined;
  const { venue, market } = await openVenue(target, s, o, clock, strategy.positionMode);
  const sender = outboxSenderFromSettings(s, store.db, clock, log);
  const publishEvents = sender !== undefined;
  const paperSettings = (fresh: boolean): PaperSettings => ({
    runId,
    strategy: fresh ? new Cls(params) : strategy,
    strategyName: strategy.name,
    strategyPath: resolve(file),
    symbol,
    target,
    timeframe: base,
    mode: range ? 'replay' : 'live',
    initialBalance: o.balance ?? s.INITIAL_BALANCE,
    leverage: o.leverage ?? s.LEVERAGE,
    costs: { makerFeeBps: o.makerFee ?? s.MAKER_FEE_BPS, takerFeeBps: o.takerFee ?? s.TAKER_FEE_BPS, slippageBps: o.slippage ?? s.SLIPPAGE_BPS, tick: inst.tick, lot: inst.lot },
    fill: o.fill,
    slTpPolicy: o.sltp,
    maintenanceMarginRate: 0.005,
    funding: 0,
    extra: { exchange, ...(range ? { replay: o.replay, speed, ...(warmup > 0 ? { warmup } : {}) } : { warmup }) },
    publishEvents,
  });
  const deps = { db: store.db, clock, venue, market, ...(alerts ? { alerts: alerts.trades } : {}), onRetry: (e: unknown) => log.warn({ err: errorMessage(e) }, 'order failed; trying once more') };
  let rt: PaperRuntime;
  try {
    rt = await PaperRuntime.open(paperSettings(false), deps);
  } catch (e) {
    await venue.close();
    await store.close();
    throw e;
  }

  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    log.info({ signal: sig }, 'stopping: finishing the candle in progress');
    controller.abort(sig);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let api: { close(): Promise<unknown> } | undefined;
  /** Ends a run that could not start its candles: recorded as failed with the reason (its state stays), everything closed. */
  const abandon = async (e: unknown): Promise<never> => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rt.stop('failed', errorMessage(e)).catch(() => undefined);
    await alertSender?.stop();
    await sender?.stop();
    await api?.close();
    await venue.close();
    await store.close();
    throw e;
  };
  if (o.apiPort !== undefined) {
    const { buildPaperApi } = await import('../server/paper-api.ts');
    const token = o.apiToken ?? process.env.PAPER_API_TOKEN ?? randomBytes(18).toString('base64url');
    const app = await buildPaperApi({ db: store.db, runId, token });
    const url = await app.listen({ host: o.apiHost, port: parsePort(o.apiPort) });
    api = app;
    process.stdout.write(`positions API: ${url}  (Authorization: Bearer ${o.apiToken || process.env.PAPER_API_TOKEN ? '<your token>' : token})\n`);
  }
  sender?.start(1_000);
  // Alerts a previous process left undelivered go first, then this run's, in the order they are written.
  alertSender?.start(1_000);
  alertSender?.wake();

  // Candles: the cached range (after what a resumed run already processed), or the live feed.
  let warmed: RuntimeCandle[] = [];
  let candles: AsyncIterable<RuntimeCandle>;
  let closeFeed: () => Promise<void> = async () => undefined;
  const cursor = rt.lastProcessed;
  if (range) {
    warmed = [...warmRows, ...(cursor === null ? [] : replayRows.filter((c) => c.ts <= cursor))];
    for (const c of warmed) rt.warm(c);
    candles = replayCandles(cursor === null ? replayRows : replayRows.filter((c) => c.ts > cursor), TIMEFRAME_MS[base], speed, controller.signal);
  } else {
    const feed = await (liveSource as NonNullable<typeof liveSource>).start({ timeframe: base, clock, cursor, warmup, log }).catch(abandon);
    warmed = feed.warm;
    for (const c of warmed) rt.warm(c);
    candles = feed.candles;
    closeFeed = feed.close;
    // A live feed waits for the next candle: closing it ends the wait at once.
    controller.signal.addEventListener('abort', () => void feed.close(), { once: true });
  }
  process.stdout.write(`${rt.isResumed ? 'resumed' : 'started'} run ${runId}: ${strategy.name} on ${symbol} ${base}, orders on ${target}${range ? `, replay ${o.replay} at ${speed === 0 ? 'full' : `${speed}×`} speed` : ', live candles'}\n`);
  await alerts?.started({ symbol, timeframe: base, target, mode: range ? 'replay' : 'live', balance: rt.kernel.book.balance });

  let result: DriverResult;
  try {
    result = await drive(
      async () => PaperRuntime.open(paperSettings(true), { ...deps, ...(market !== null ? await openVenue(target, s, o, clock, strategy.positionMode) : {}) }),
      rt,
      candles,
      warmed,
      controller.signal,
      {
        onRecoverable: (e, persisted) => {
          log.warn({ err: errorMessage(e), persisted }, persisted ? 'a candle failed twice; it is tried again with the next one' : 'a candle failed; trying once more');
          if (persisted) void alerts?.critical(e);
        },
        onProcessed: () => sender?.wake(),
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // Shut down: state is already stored per candle; record why the run ended, close feeds, tell the channels.
  await closeFeed();
  const status = result.status;
  rt = result.runtime;
  await rt.stop(status, result.reason);
  const trades = rt.kernel.exec.trades;
  const pnl = rt.equity - rt.kernel.book.initialBalance;
  if (status === 'failed') {
    log.error({ err: result.reason }, 'run failed');
    await alerts?.critical(result.error ?? new HalyardError('internal', result.reason));
  }
  await alerts?.stopped(result.reason, { trades: trades.length, pnl, pnlPercent: (pnl / rt.kernel.book.initialBalance) * 100, equity: rt.equity });
  if (alerts && alertSender) {
    if (!(await alerts.flush(ALERT_FLUSH_MS))) log.warn({ run: runId, waited_ms: ALERT_FLUSH_MS }, 'alerts not all delivered; the rest go at the next start of this run');
    await alertSender.stop();
  }
  if (sender) {
    await sender.runOnce().catch(() => undefined);
    await sender.stop();
  }
  await api?.close();
  await venue.close();
  await store.close();
  process.stdout.write(`${status} run ${runId} (${result.reason}): ${rt.candlesProcessed} candles, ${trades.length} trades, equity ${rt.equity.toFixed(2)}\n`);
  // The CLI's error boundary says why in one line (a strategy's error with its candle, the trace in a file).
  if (status === 'failed') throw result.error ?? new HalyardError('internal', result.reason);
}
