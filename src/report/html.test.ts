import { describe, expect, it } from 'vitest';
import type { ChartData } from './chart-data.ts';
import { MARKER_KIND, MAX_MARKER_TRADES } from './chart-data.ts';
import { reportHtml } from './html.ts';
import { fixtureResult, FIXTURE_START, trade } from './test-fixture.ts';

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
