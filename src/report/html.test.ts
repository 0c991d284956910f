import { describe, expect, it } from 'vitest';
import type { ChartData } from './chart-data.ts';
import { MARKER_KIND, MAX_MARKER_TRADES, PLOT_PALETTE } from './chart-data.ts';
import { reportHtml } from './html.ts';
import { fixtureResult, FIXTURE_START, plottedResult, trade } from './test-fixture.ts';

function chartData(html: string): ChartData {
  const m = /<script id="halyard-data" type="application\/json">([^<]*)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m?.[1] ?? 'null') as ChartData;
}

describe('report.html', () => {
  const result = fixtureResult();
  const html = reportHtml(result);

  it('inlines the chart library and loads nothing over the network', () => {
    expect(html).toContain('window.LightweightCharts');
    expect(html).toContain('createSeriesMarkers');
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain("default-src 'none'");
  });

  it('carries an entry and an exit marker for each trade, snapped to displayed bars', () => {
    const d = chartData(html);
    expect(d.tf).toBe('1m');
    expect(d.t).toHaveLength(600);
    expect(d.eq).toHaveLength(600);
    expect(d.dd).toHaveLength(600);
    const times = new Set(d.t);
    for (const t of result.trades) {
      const long = t.side === 'long';
      const entry = [t.entryTime / 1000, long ? MARKER_KIND.longEntry : MARKER_KIND.shortEntry, t.pnl];
      const exit = [t.exitTime / 1000, long ? MARKER_KIND.longExit : MARKER_KIND.shortExit, t.pnl];
      expect(d.markers).toContainEqual(entry);
      expect(d.markers).toContainEqual(exit);
    }
    for (const m of d.markers) expect(times.has(m[0])).toBe(true);
    expect(html).toContain('take_profit');
    expect(html).toContain('stop_loss');
  });

  it('escapes the strategy name and params', () => {
    const evil = fixtureResult(600, { strategy: '<script>alert(1)</script>', params: { '"><img src=x onerror=alert(2)>': '</script><b>' } });
    const out = reportHtml(evil);
    expect(out).not.toContain('<script>alert(1)</script>');
    expect(out).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out).not.toContain('<img src=x');
    expect(out).not.toContain('</script><b>');
    expect(out).toContain('&quot;&gt;&lt;img src=x onerror=alert(2)&gt;');
  });

  it('shows the ambiguous SL/TP candle count and formatted metrics', () => {
    expect(html).toMatch(/Ambiguous SL\/TP<\/div><div class="v">2</);
    expect(html).toContain('0.20 %'); // total return
    expect(html).toContain('66.7 %'); // win rate
    expect(html).toContain('0.0 d'); // 1 h max drawdown duration in days
  });

  it('stays under 2 MB for a year of 1m candles with many trades, downsampled to <= 3000 bars', () => {
    const year = fixtureResult(525_600);
    const trades = [];
    for (let i = 0; i < 4000; i++) {
      const at = FIXTURE_START + i * 120 * 60_000;
      trades.push(trade({ id: `T${i}`, side: i % 2 ? 'short' : 'long', entryTime: at, exitTime: at + 45 * 60_000, pnl: (i % 5) - 2 }));
    }
    const out = reportHtml({ ...year, trades });
    const d = chartData(out);
    expect(d.t.length).toBeLessThanOrEqual(3000);
    expect(d.markers).toHaveLength(2 * MAX_MARKER_TRADES);
    expect(out).toContain('Showing the last 500 of 4,000 trades');
    expect(out.match(/<tr>/g)?.length).toBe(501); // header + 500 rows
    expect(Buffer.byteLength(out)).toBeLessThan(1_000_000);
  });
});

describe('report.html plots', () => {
  it('carries each plotted series on the displayed bars (downsampled like the candles), with its colour', () => {
    const r = plottedResult(6000, 100); // 6,000 1m candles → 2,000 bars of 3m
    const d = chartData(reportHtml(r));
    expect(d.tf).toBe('3m');
    expect(d.plots.map((p) => [p.name, p.color, p.v.length])).toEqual([
      ['mean <20>', '#ff00ff', 2000],
      ['close + 3', PLOT_PALETTE[1], 2000],
    ]);
    // Display bar k ends with source candle 3k + 2: the mean there; the odd candle has no `close + 3`, the one before does.
    const mean = r.plots![0]!.values;
    expect(d.plots[0]!.v[100]).toBeCloseTo(mean[302]!, 6);
    expect(d.plots[0]!.v[0]).toBeNull(); // not ready in the first bar
    expect(d.plots[1]!.v[100]).toBeCloseTo(r.candles.close[302]! + 3, 6);
    expect(d.plots[1]!.v[101]).toBeCloseTo(r.candles.close[304]! + 3, 6); // 305 is odd: the last value in the bar is 304's
  });

  it('names the plots under the chart, escaped', () => {
    const html = reportHtml(plottedResult(600, 10));
    expect(html).toContain('<span style="color:#ff00ff">━ mean &lt;20&gt;</span>');
    expect(html).not.toContain('mean <20>');
  });

  it('has no plots when the strategy drew none', () => {
    expect(chartData(reportHtml(fixtureResult())).plots).toEqual([]);
  });
});
