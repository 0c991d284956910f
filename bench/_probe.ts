import { allocCandles } from '../src/core/candles.ts';
import { SeededRandom } from '../src/core/rng.ts';
import { runBacktest } from '../src/engine/backtest.ts';
import SmaCross from '../strategies/sma-cross.ts';
import { handwrittenSmaCross } from './handwritten.ts';
const n = 525600, rng = new SeededRandom(1), c = allocCandles(n); let p = 30000;
for (let i=0;i<n;i++){ const o=p; p=Math.round((p*(1+rng.normal()*0.0008))*10)/10; c.ts[i]=Date.UTC(2023,5,27)+i*60000; c.open[i]=o;c.close[i]=p;c.high[i]=Math.max(o,p)+rng.next()*5;c.low[i]=Math.min(o,p)-rng.next()*5;c.volume[i]=1; }
for (let k=0;k<Number(process.env.REPS??6);k++){
  let t=performance.now(); const r = runBacktest({ strategy: new SmaCross({fast:50,slow:200,qty:1,sl:0.01,tp:0.02}), candles:c, timeframe:'1m', exchange:'x', symbol:'BTC/USDT:USDT', initialBalance:1e6, fill:'next-open', tick:0.1, lot:0.001});
  const te=performance.now()-t; t=performance.now(); const h = handwrittenSmaCross(c,50,200,1,0.01,0.02,1e6,5,2); const th=performance.now()-t;
  console.log(`engine ${(n/te/1000).toFixed(1)}M/s ${te.toFixed(1)}ms trades ${r.summary.trades} eq ${r.summary.finalEquity.toFixed(2)} | hand ${(n/th/1000).toFixed(1)}M/s trades ${h.trades} eq ${h.finalEquity.toFixed(2)} ratio ${(te/th).toFixed(2)}`);
}
