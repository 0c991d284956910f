// A Bybit v5 (linear) market-data stub on 127.0.0.1 in the real wire format, as ccxt expects it:
// GET /v5/market/instruments-info (loadMarkets with fetchMarkets types ['linear'], asked twice: trading and
// PreLaunch), GET /v5/market/kline (newest first, 7 string columns, no taker-buy volume) and
// GET /v5/market/open-interest. Every answer is wrapped in {retCode, retMsg, result, retExtInfo, time}.
import { HttpStub, str, type Fault, type RouteAnswer, type StubRequest, type StubSeries } from './market-stub-kit.ts';

const SYMBOL = 'BTCUSDT';
const OI_INTERVALS: Readonly<Record<string, number>> = { '5min': 300_000, '15min': 900_000, '30min': 1_800_000, '1h': 3_600_000, '4h': 14_400_000, '1d': 86_400_000 };

/** Bybit's envelope around a result (retCode 0) or an error. */
function envelope(result: unknown, retCode = 0, retMsg = 'OK'): unknown {
  return { retCode, retMsg, result, retExtInfo: {}, time: 1_704_067_200_000 };
}

const instrument = {
  symbol: SYMBOL,
  contractType: 'LinearPerpetual',
  status: 'Trading',
  baseCoin: 'BTC',
  quoteCoin: 'USDT',
  launchTime: '1585526400000',
  deliveryTime: '0',
  deliveryFeeRate: '',
  priceScale: '2',
  leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
  priceFilter: { minPrice: '0.10', maxPrice: '1999999.80', tickSize: '0.10' },
  lotSizeFilter: { maxOrderQty: '1190.000', minOrderQty: '0.001', qtyStep: '0.001', postOnlyMaxOrderQty: '1190.000', maxMktOrderQty: '119.000', minNotionalValue: '5' },
  unifiedMarginTrade: true,
  fundingInterval: 480,
  settleCoin: 'USDT',
  copyTrading: 'both',
  upperFundingRate: '0.005',
  lowerFundingRate: '-0.005',
};

/** A running Bybit linear market-data stub. */
export class BybitMarketStub {
  readonly http: HttpStub;
  /** Base URL, http://127.0.0.1:port. */
  url = '';

  private constructor(private readonly series: StubSeries) {
    this.http = new HttpStub({
      'GET /v5/market/instruments-info': (q) => this.instruments(q),
      'GET /v5/market/kline': (q) => this.kline(q),
      'GET /v5/market/open-interest': (q) => this.openInterest(q),
    });
  }

  /** Starts a stub serving `series` on 127.0.0.1 port 0. */
  static async start(series: StubSeries): Promise<BybitMarketStub> {
    const stub = new BybitMarketStub(series);
    stub.url = await stub.http.listen();
    return stub;
  }

  /** Requests to `path` so far. */
  count(path: string): number {
    return this.http.count(path);
  }

  /** Every request received. */
  get requests(): readonly StubRequest[] {
    return this.http.requests;
  }

  /** Queues faults for the next requests to `path`. */
  inject(path: string, ...faults: Fault[]): void {
    this.http.inject(path, ...faults);
  }

  /** Stops the server. */
  close(): Promise<void> {
    return this.http.close();
  }

  private instruments(q: Record<string, string>): RouteAnswer {
    if (q.category !== 'linear') return { body: envelope({}, 10001, 'params error: category') };
    const list = q.status === 'PreLaunch' ? [] : [instrument];
    return { body: envelope({ category: 'linear', list, nextPageCursor: '' }), rows: list.length };
  }

  /** GET /v5/market/kline: category, symbol, interval ("1" = 1m), start/end inclusive, limit ≤ 1000; newest first. */
  private kline(q: Record<string, string>): RouteAnswer {
    if (q.category !== 'linear' || q.symbol !== SYMBOL) return { body: envelope({}, 10001, 'params error: symbol invalid') };
    if (q.interval !== '1') return { body: envelope({}, 10001, 'params error: interval invalid') };
    const limit = q.limit === undefined ? 200 : Number(q.limit);
    if (!(limit >= 1 && limit <= 1000)) return { body: envelope({}, 10001, 'params error: limit') };
    const { candles: c } = this.series;
    const start = Number(q.start ?? 0);
    const end = Number(q.end ?? Number.POSITIVE_INFINITY);
    const picked: unknown[] = [];
    // Bybit walks back from `end`: the newest `limit` candles of the window.
    for (let i = c.length - 1; i >= 0 && picked.length < limit; i--) {
      const ts = c.ts[i] as number;
      if (ts < start || ts > end) continue;
      const v = c.volume[i] as number;
      picked.push([str(ts), str(c.open[i] as number), str(c.high[i] as number), str(c.low[i] as number), str(c.close[i] as number), str(v), str(Math.round(v * (c.close[i] as number) * 100) / 100)]);
    }
    return { body: envelope({ symbol: SYMBOL, category: 'linear', list: picked }), rows: picked.length };
  }

  /** GET /v5/market/open-interest: intervalTime, startTime/endTime, limit ≤ 200; newest first. */
  private openInterest(q: Record<string, string>): RouteAnswer {
    const pms = OI_INTERVALS[q.intervalTime ?? ''];
    if (q.symbol !== SYMBOL || pms === undefined) return { body: envelope({}, 10001, 'params error: intervalTime') };
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!(limit >= 1 && limit <= 200)) return { body: envelope({}, 10001, 'params error: limit') };
    const { candles: c } = this.series;
    const start = Number(q.startTime ?? 0);
    const end = Number(q.endTime ?? Number.POSITIVE_INFINITY);
    const list: unknown[] = [];
    for (let i = c.length - 1; i >= 0 && list.length < limit; i--) {
      const ts = c.ts[i] as number;
      if (ts % pms !== 0 || ts < start || ts > end) continue;
      list.push({ openInterest: str(c.openInterest[i] as number), timestamp: str(ts) });
    }
    return { body: envelope({ symbol: SYMBOL, category: 'linear', list, nextPageCursor: '' }), rows: list.length };
  }
}
