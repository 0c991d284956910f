// A Binance USDⓈ-M market-data stub on 127.0.0.1 speaking the real wire format, as ccxt expects it:
// GET /fapi/v1/exchangeInfo (loadMarkets with fetchMarkets types ['linear']), GET /fapi/v1/klines
// (12-column string arrays), GET /futures/data/openInterestHist, and the kline websocket stream
// (SUBSCRIBE → {"result":null,"id":…}, then {"e":"kline",…,"k":{…,"x":bool}}). It serves a deterministic
// series, logs every request, injects faults, and streams the series live on command.
import { WebSocketServer, type WebSocket } from 'ws';
import { HttpStub, str, type Fault, type RouteAnswer, type StubRequest, type StubSeries } from './market-stub-kit.ts';

const SYMBOL = 'BTCUSDT';
const STREAM = 'btcusdt@kline_1m';
const OI_PERIODS: Readonly<Record<string, number>> = { '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '2h': 7_200_000, '4h': 14_400_000 };

/** Binance's 429 answer (code -1003) with a Retry-After in seconds. */
export const rateLimited = (retryAfter = 1): Fault => ({
  kind: 'status',
  status: 429,
  retryAfter,
  body: { code: -1003, msg: 'Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. Please use the websocket for live updates to avoid polling the API.' },
});
/** Binance's 500 answer. */
export const serverError: Fault = { kind: 'status', status: 500, body: { code: -1000, msg: 'An unknown error occurred while processing the request.' } };
/** Binance's 401 answer for a bad key (code -2015). */
export const authError: Fault = { kind: 'status', status: 401, body: { code: -2015, msg: 'Invalid API-key, IP, or permissions for action.' } };

/** The fapi exchangeInfo with one market: the BTCUSDT perpetual. */
function exchangeInfo(): unknown {
  return {
    timezone: 'UTC',
    serverTime: 1_704_067_200_000,
    futuresType: 'U_MARGINED',
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 2400 },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
    ],
    exchangeFilters: [],
    assets: [{ asset: 'USDT', marginAvailable: true, autoAssetExchange: '-10000' }],
    symbols: [
      {
        symbol: SYMBOL,
        pair: SYMBOL,
        contractType: 'PERPETUAL',
        deliveryDate: 4_133_404_800_000,
        onboardDate: 1_569_398_400_000,
        status: 'TRADING',
        maintMarginPercent: '2.5000',
        requiredMarginPercent: '5.0000',
        baseAsset: 'BTC',
        quoteAsset: 'USDT',
        marginAsset: 'USDT',
        pricePrecision: 2,
        quantityPrecision: 3,
        baseAssetPrecision: 8,
        quotePrecision: 8,
        underlyingType: 'COIN',
        underlyingSubType: ['PoW'],
        triggerProtect: '0.0500',
        liquidationFee: '0.012500',
        marketTakeBound: '0.05',
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: '556.80', maxPrice: '4529764', tickSize: '0.10' },
          { filterType: 'LOT_SIZE', minQty: '0.001', maxQty: '1000', stepSize: '0.001' },
          { filterType: 'MARKET_LOT_SIZE', minQty: '0.001', maxQty: '120', stepSize: '0.001' },
          { filterType: 'MAX_NUM_ORDERS', limit: 200 },
          { filterType: 'MIN_NOTIONAL', notional: '100' },
          { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
        ],
        orderTypes: ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'],
        timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
      },
    ],
  };
}

/** One candle's state as the stub publishes it (partial while forming, final once closed). */
interface KlineState {
  readonly i: number;
  readonly o: number;
  readonly h: number;
  readonly l: number;
  readonly c: number;
  readonly v: number;
  readonly tb: number;
  readonly final: boolean;
}

/** What the stub serves and how it streams. */
export interface BinanceMarketStubOptions {
  readonly series: StubSeries;
  /** Websocket updates per candle, the last one final (`x: true`); default 4. */
  readonly updatesPerCandle?: number;
  /** Open interest exists from this time on (epoch ms); default: the series start. */
  readonly oiFrom?: number;
  /** Stub clock at start, epoch ms; default +Infinity (every candle closed: history mode). */
  readonly time?: number;
}

/** A running Binance USDⓈ-M market-data stub. */
export class BinanceMarketStub {
  readonly http: HttpStub;
  /** Base URL, http://127.0.0.1:port (REST and websocket). */
  url = '';
  /** SUBSCRIBE messages received, in order. */
  readonly subscribes: unknown[] = [];
  /** Websocket connections accepted so far (paths included). */
  readonly connections: string[] = [];
  private readonly wss: WebSocketServer;
  private readonly subscribed = new Set<WebSocket>();
  private readonly series: StubSeries;
  private readonly perCandle: number;
  private readonly oiFrom: number;
  private time: number;
  /** Websocket updates published so far (update g belongs to candle floor(g / perCandle)). */
  private sent = 0;

  constructor(opts: BinanceMarketStubOptions) {
    this.series = opts.series;
    this.perCandle = opts.updatesPerCandle ?? 4;
    this.oiFrom = opts.oiFrom ?? (opts.series.candles.ts[0] as number);
    this.time = opts.time ?? Number.POSITIVE_INFINITY;
    this.http = new HttpStub({
      'GET /fapi/v1/exchangeInfo': () => ({ body: exchangeInfo() }),
      'GET /fapi/v1/klines': (q) => this.klines(q),
      'GET /futures/data/openInterestHist': (q) => this.openInterestHist(q),
    });
    this.wss = new WebSocketServer({ server: this.http.server });
    this.wss.on('connection', (ws, req) => {
      this.connections.push(req.url ?? '');
      ws.on('message', (data) => this.onMessage(ws, String(data)));
      ws.on('close', () => this.subscribed.delete(ws));
    });
  }

  /** Starts a stub on 127.0.0.1 port 0. */
  static async start(opts: BinanceMarketStubOptions): Promise<BinanceMarketStub> {
    const stub = new BinanceMarketStub(opts);
    stub.url = await stub.http.listen();
    return stub;
  }

  /** Every request received. */
  get requests(): readonly StubRequest[] {
    return this.http.requests;
  }

  /** Kline REST requests received. */
  get klineRequests(): StubRequest[] {
    return this.http.requests.filter((r) => r.path === '/fapi/v1/klines');
  }

  /** Requests made to `path` so far. */
  count(path: string): number {
    return this.http.count(path);
  }

  /** Queues faults for the next requests to `path`. */
  inject(path: string, ...faults: Fault[]): void {
    this.http.inject(path, ...faults);
  }

  /** The stub's clock, epoch ms: the time of the latest update published, or what `setTime` said. */
  now(): number {
    return this.time;
  }

  /** Moves the stub's clock forward (never back). */
  setTime(t: number): void {
    this.time = Math.max(this.time, t);
  }

  /** Open sockets subscribed to the kline stream. */
  get subscribers(): number {
    return this.subscribed.size;
  }

  /** Publishes the next `n` websocket updates to subscribed sockets (none when nobody listens), advancing the clock. */
  stream(n: number): void {
    const { candles, step } = this.series;
    for (let k = 0; k < n; k++) {
      const g = this.sent++;
      const i = Math.floor(g / this.perCandle);
      if (i >= candles.length) throw new Error('stub: the series is exhausted');
      const u = g % this.perCandle;
      const t = (candles.ts[i] as number) + Math.floor(((u + 1) * step) / (this.perCandle + 1));
      this.time = Number.isFinite(this.time) ? Math.max(this.time, t) : t;
      const msg = JSON.stringify(this.klineEvent(this.state(i, u), t));
      for (const ws of this.subscribed) ws.send(msg);
    }
  }

  /** Publishes updates until candle `i` has had its first update (so every candle before it is closed). */
  streamTo(i: number): void {
    const target = i * this.perCandle + 1;
    if (target > this.sent) this.stream(target - this.sent);
  }

  /** Terminates every websocket connection (a network drop: no close frame). */
  dropWebSockets(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.subscribed.clear();
  }

  /** Closes the websocket server and the HTTP server. */
  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await this.http.close();
  }

  /** Candle `i` after update `u` (of perCandle): the final candle at the last update, a partial one before. */
  private state(i: number, u: number): KlineState {
    const { candles: c, takerBuy } = this.series;
    const o = c.open[i] as number;
    if (u >= this.perCandle - 1) {
      return { i, o, h: c.high[i] as number, l: c.low[i] as number, c: c.close[i] as number, v: c.volume[i] as number, tb: takerBuy[i] as number, final: true };
    }
    const f = (u + 1) / this.perCandle;
    const close = Math.round((o + ((c.close[i] as number) - o) * f) * 10) / 10;
    const r3 = (x: number): number => Math.round(x * 1000) / 1000;
    return { i, o, h: Math.max(o, close), l: Math.min(o, close), c: close, v: r3((c.volume[i] as number) * f), tb: r3((takerBuy[i] as number) * f), final: false };
  }

  /** Candle `i` as of the stub clock: final once closed, its current partial state while forming, else absent. */
  private stateNow(i: number): KlineState | undefined {
    const { candles, step } = this.series;
    if ((candles.ts[i] as number) + step <= this.time) return this.state(i, this.perCandle - 1);
    const last = this.sent - 1;
    if (last >= 0 && Math.floor(last / this.perCandle) === i) return this.state(i, last % this.perCandle);
    return undefined;
  }

  private klineRow(s: KlineState): unknown[] {
    const ts = this.series.candles.ts[s.i] as number;
    const quote = Math.round(s.v * s.c * 100) / 100;
    return [ts, str(s.o), str(s.h), str(s.l), str(s.c), str(s.v), ts + this.series.step - 1, str(quote), 10 + s.i, str(s.tb), str(Math.round(s.tb * s.c * 100) / 100), '0'];
  }

  private klineEvent(s: KlineState, eventTime: number): unknown {
    const ts = this.series.candles.ts[s.i] as number;
    const r = this.klineRow(s);
    return {
      e: 'kline',
      E: eventTime,
      s: SYMBOL,
      k: { t: ts, T: ts + this.series.step - 1, s: SYMBOL, i: '1m', f: 1000 * s.i, L: 1000 * s.i + 9, o: r[1], c: r[4], h: r[2], l: r[3], v: r[5], n: 10, x: s.final, q: r[7], V: r[9], Q: r[10], B: '0' },
    };
  }

  /** GET /fapi/v1/klines: symbol, interval, startTime/endTime (inclusive), limit (default 500, max 1500). */
  private klines(q: Record<string, string>): RouteAnswer {
    if (q.symbol !== SYMBOL) return { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } };
    if (q.interval !== '1m') return { status: 400, body: { code: -1120, msg: 'Invalid interval.' } };
    const limit = q.limit === undefined ? 500 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1500) return { status: 400, body: { code: -1130, msg: "Data sent for parameter 'limit' is not valid." } };
    const { candles } = this.series;
    const start = q.startTime === undefined ? undefined : Number(q.startTime);
    const end = q.endTime === undefined ? Number.POSITIVE_INFINITY : Number(q.endTime);
    const rows: unknown[] = [];
    const picked: number[] = [];
    for (let i = 0; i < candles.length; i++) {
      const ts = candles.ts[i] as number;
      if ((start === undefined || ts >= start) && ts <= end && this.stateNow(i)) picked.push(i);
    }
    // With a start time: the first `limit` from it; without: the latest `limit`.
    const chosen = start === undefined ? picked.slice(-limit) : picked.slice(0, limit);
    for (const i of chosen) rows.push(this.klineRow(this.stateNow(i) as KlineState));
    return { body: rows, rows: rows.length };
  }

  /** GET /futures/data/openInterestHist: one point per period from `oiFrom`, the latest `limit` (default 30, max 500) in range. */
  private openInterestHist(q: Record<string, string>): RouteAnswer {
    if (q.symbol !== SYMBOL) return { status: 400, body: { code: -1121, msg: 'Invalid symbol.' } };
    const pms = q.period === undefined ? undefined : OI_PERIODS[q.period];
    if (pms === undefined) return { status: 400, body: { code: -1102, msg: "Mandatory parameter 'period' was not sent, was empty/null, or malformed." } };
    const limit = q.limit === undefined ? 30 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) return { status: 400, body: { code: -1130, msg: "Data sent for parameter 'limit' is not valid." } };
    const { candles, step } = this.series;
    const start = Number(q.startTime ?? 0);
    const end = Number(q.endTime ?? Number.POSITIVE_INFINITY);
    const out: unknown[] = [];
    for (let i = 0; i < candles.length; i++) {
      const ts = candles.ts[i] as number;
      if (ts % pms !== 0 || ts < this.oiFrom || ts < start || ts > end || ts + step > this.time) continue;
      const oi = candles.openInterest[i] as number;
      out.push({ symbol: SYMBOL, sumOpenInterest: str(oi), sumOpenInterestValue: str(Math.round(oi * (candles.close[i] as number) * 100) / 100), timestamp: ts });
    }
    const body = out.slice(-limit);
    return { body, rows: body.length };
  }

  private onMessage(ws: WebSocket, text: string): void {
    let msg: { method?: string; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
    if (msg.method === 'SUBSCRIBE') {
      this.subscribes.push(msg);
      if (params.includes(STREAM)) this.subscribed.add(ws);
    } else if (msg.method === 'UNSUBSCRIBE') {
      if (params.includes(STREAM)) this.subscribed.delete(ws);
    } else return;
    ws.send(JSON.stringify({ result: null, id: msg.id ?? null }));
  }
}
