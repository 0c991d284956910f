import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SystemClock } from '../clock.ts';
import type { Settings } from '../config.ts';
import { instrumentFor } from '../core/instrument.ts';
import { syntheticCandles } from '../data/synthetic.ts';
import { PaperRuntime, type RuntimeCandle } from '../engine/paper/runtime.ts';
import { SimVenue } from '../exchange/sim/index.ts';
import { venueSymbol } from '../exchange/symbols.ts';
import { createLogger } from '../log.ts';
import { OutboxSender } from '../notify/outbox-sender.ts';
import { buildServer } from '../server/app.ts';
import { openStore } from '../store/db.ts';
import { createEngineSource } from '../store/engine-sources.ts';
import { createRecorder } from '../store/recorders.ts';
import { createUser } from '../store/users.ts';
import { loadStrategyFile } from '../strategy/load.ts';
import { MarkBook } from '../tracker/marks.ts';
import { listenOrClose } from './port.ts';

/** Options of `halyard serve --demo`. */
export interface DemoOptions {
  /** Folder of the demo's store and backtest output; wiped at start. */
  readonly dir: string;
  readonly host: string;
  readonly port: number;
  /** Wall-clock milliseconds between two replayed 1m candles (until the replay reaches the present). */
  readonly intervalMs: number;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SYMBOL = 'BTC/USDT:USDT';
const TICKER = 'BTCUSDT';
const MINUTE = 60_000;
/** Candles that warm the strategy up before the demo starts trading. */
const WARM = 240;
/** Candles of replay: about two weeks of 1m bars. */
const REPLAY = 20_000;

/**
 * `halyard serve --demo`: the tracking server on a fresh SQLite store with a demo user whose `sim:paper`
 * target comes alive at once. A paper run of strategies/sma-cross.ts replays seeded synthetic candles and
 * posts signed engine events to the server (engine positions); a TradingView-style EMA cross posts signals
 * to a recorder's webhook (signal positions, executed on the server's simulated exchange); every candle
 * moves the server's marks and its simulated market. Nothing leaves the machine.
 */
export async function runDemo(o: DemoOptions, s: Settings): Promise<void> {
  const log = createLogger(s);
  const clock = new SystemClock();
  // Listening for a stop from the first moment: a Ctrl-C during start-up still shuts down cleanly.
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const dir = resolve(o.dir);
  await rm(join(dir, 'halyard.db'), { force: true });
  await rm(join(dir, 'halyard.db-wal'), { force: true });
  await rm(join(dir, 'halyard.db-shm'), { force: true });
  await rm(join(dir, 'output'), { recursive: true, force: true });
  await mkdir(join(dir, 'output'), { recursive: true });
  const store = await openStore({ path: join(dir, 'halyard.db') });
  const marks = new MarkBook();
  const server = await buildServer({
    store,
    clock,
    logger: log,
    publicUrl: `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${o.port}`,
    box: undefined,
    openCcxt: null,
    marks,
    outputDir: join(dir, 'output'),
    sim: { balance: 100_000, leverage: 10 },
    // Snapshots every 30 s, so the equity history grows while one watches.
    monitor: { intervalMs: 5_000, snapshotIntervalMs: 30_000 },
  });
  const address = await listenOrClose(server.app, o.host, o.port, async () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await store.close();
  });
  const now = clock.now();
  const { user, token } = await createUser(store.db, 'demo', 'paper', now);
  const recorder = await createRecorder(store.db, { userId: user.id, name: 'TV demo', positionMode: 'oneway', strategy: 'tv-ema-cross', targets: [{ key: 'sim:paper', multiplier: 1 }] }, now);
  const source = await createEngineSource(store.db, undefined, { userId: user.id, name: 'demo paper run', targetKey: 'sim:paper' }, now);
  void demoBacktest(join(dir, 'output', 'demo-sma-cross'), user.name, log);

  // The paper run: its own simulated exchange (as `halyard paper` has), events through the outbox.
  const Cls = await loadStrategyFile(join(ROOT, 'strategies', 'sma-cross.ts'));
  const params = { ...Cls.defaults, fast: 10, slow: 40, percent: 20, sl: 0.004, tp: 0.006 };
  const inst = instrumentFor(SYMBOL);
  const engineVenue = new SimVenue({ clock, target: 'sim:paper', balance: 10_000, leverage: 10, mode: 'oneway' });
  const rt = await PaperRuntime.open(
    {
      runId: 'demo-sma-cross',
      strategy: new Cls(params),
      strategyName: 'sma-cross',
      strategyPath: join(ROOT, 'strategies', 'sma-cross.ts'),
      symbol: SYMBOL,
      target: 'sim:paper',
      timeframe: '1m',
      mode: 'replay',
      initialBalance: 10_000,
      leverage: 10,
      costs: { makerFeeBps: 2, takerFeeBps: 5, slippageBps: 1, tick: inst.tick, lot: inst.lot },
      fill: 'close',
      slTpPolicy: 'conservative',
      maintenanceMarginRate: 0.005,
      funding: 0,
      extra: { demo: true },
      publishEvents: true,
    },
    { db: store.db, clock, venue: engineVenue, market: engineVenue },
  );
  const sender = new OutboxSender({ db: store.db, url: `${address}/hooks/engine?source=${source.id}`, secret: source.secret, clock, logger: log });
  sender.start(1_000);

  process.stdout.write(
    [
      `halyard demo serving on ${address} (store: sqlite ${join(dir, 'halyard.db')}, wiped at every demo start)`,
      `dashboard: ${address}/`,
      `demo token: ${token}`,
      `signal webhook of "TV demo": ${address}/hooks/signals/${recorder.secret}`,
      'Open the dashboard, paste the token, and watch sim:paper. Ctrl-C stops.',
      '',
    ].join('\n'),
  );

  const feed = feedCandles({ rt, server, marks, userId: user.id, store, sender, webhook: `${address}/hooks/signals/${recorder.secret}`, intervalMs: o.intervalMs, signal: controller.signal, log });
  await new Promise<void>((done) => (controller.signal.aborted ? done() : controller.signal.addEventListener('abort', () => done(), { once: true })));
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  await feed.catch((e: unknown) => log.error({ err: e }, 'demo feed failed'));
  await rt.stop('stopped', 'demo stopped');
  await sender.runOnce().catch(() => undefined);
  await sender.stop();
  await server.app.close();
  await engineVenue.close();
  await store.close();
}

interface FeedDeps {
  readonly rt: PaperRuntime;
  readonly server: Awaited<ReturnType<typeof buildServer>>;
  readonly marks: MarkBook;
  /** The demo user, whose marks the candles move. */
  readonly userId: number;
  readonly store: Awaited<ReturnType<typeof openStore>>;
  readonly sender: OutboxSender;
  readonly webhook: string;
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly log: ReturnType<typeof createLogger>;
}

/** Replays the synthetic candles into the paper run, the marks, every user's simulated market and the signal recorder. */
async function feedCandles(d: FeedDeps): Promise<void> {
  const start = Math.floor(Date.now() / MINUTE) * MINUTE - (WARM + 3 * 24 * 60) * MINUTE;
  const c = syntheticCandles({ seed: 7, count: WARM + REPLAY, from: start, startPrice: 64_000 });
  const row = (i: number): RuntimeCandle => ({ ts: c.ts[i]!, open: c.open[i]!, high: c.high[i]!, low: c.low[i]!, close: c.close[i]!, volume: c.volume[i]!, openInterest: c.openInterest[i]!, cvd: c.cvd[i]! });
  const ema = new EmaCross(8, 21);
  for (let i = 0; i < WARM; i++) {
    d.rt.warm(row(i));
    ema.next(row(i).close);
  }
  const simSymbol = venueSymbol(TICKER, 'sim');
  let held = 0;
  for (let i = WARM; i < c.length && !d.signal.aborted; i++) {
    const k = row(i);
    const closeTs = k.ts + MINUTE;
    d.marks.set(d.userId, TICKER, k.close, closeTs);
    // Every user's simulated market moves with the candle (orders from the dashboard fill there).
    for (const u of await d.store.db.selectFrom('users').select('id').execute()) {
      const v = await d.server.venues.get(u.id, 'sim:paper');
      if (v instanceof SimVenue) await v.setPrice(simSymbol, k.close);
      // A dashboard limit or stop the candle reached is booked now, not at the next periodic settle.
      await d.server.dispatcher.settle(u.id, 'sim:paper');
    }
    await d.rt.process(k);
    d.sender.wake();
    const cross = ema.next(k.close);
    const want = cross === 'up' ? 0.05 : cross === 'down' ? -0.05 : held;
    if (want !== held) {
      const qty = Math.abs(want - held);
      await post(d.webhook, { ticker: TICKER, action: want > held ? 'buy' : 'sell', quantity: Number(qty.toFixed(3)), price: k.close }).catch((e: unknown) => d.log.warn({ err: e }, 'demo signal not delivered'));
      held = want;
    }
    // Replay fast until the candles reach the present, then one candle a minute as they close.
    const wait = closeTs <= Date.now() ? d.intervalMs : closeTs - Date.now();
    await sleep(wait, d.signal);
  }
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    if (signal.aborted) return done();
    const onAbort = (): void => {
      clearTimeout(t);
      done();
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A fast / slow EMA cross of closes: 'up' or 'down' on the candle it crosses, else null. */
class EmaCross {
  private fast = NaN;
  private slow = NaN;
  private last = 0;
  constructor(
    private readonly fastN: number,
    private readonly slowN: number,
  ) {}
  next(x: number): 'up' | 'down' | null {
    this.fast = Number.isNaN(this.fast) ? x : this.fast + (2 / (this.fastN + 1)) * (x - this.fast);
    this.slow = Number.isNaN(this.slow) ? x : this.slow + (2 / (this.slowN + 1)) * (x - this.slow);
    const sign = Math.sign(this.fast - this.slow);
    const crossed = sign !== 0 && sign !== this.last && this.last !== 0 ? (sign > 0 ? 'up' : 'down') : null;
    if (sign !== 0) this.last = sign;
    return crossed;
  }
}

/** Writes one synthetic backtest run for the Backtests page (a child `halyard backtest`, as a user would run it). */
function demoBacktest(out: string, owner: string, log: ReturnType<typeof createLogger>): Promise<void> {
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'halyard.js'), 'backtest', join(ROOT, 'strategies', 'sma-cross.ts'), '--synthetic', '--days', '30', '--out', out, '--owner', owner, '--param', 'fast=20', '--param', 'slow=80', '--json'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('close', (code) => {
      if (code !== 0) log.warn({ code, err }, 'the demo backtest failed');
      done();
    });
  });
}
