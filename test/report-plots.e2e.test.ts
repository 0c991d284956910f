import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportHtml } from '../src/report/html.ts';
import { plottedResult } from '../src/report/test-fixture.ts';
import { chromiumSkipReason, launchChromium } from './browser.ts';

// The report's price chart in Debian's Chromium: the strategy's plotted series are drawn as lines (their
// colours are on the canvas), and trade markers are thinned to the visible range so candles stay readable,
// recomputed as the view zooms in.

/** Pixels of the price chart's canvases within 40 (per channel) of `rgb`. */
async function pixelsOf(page: Page, rgb: readonly [number, number, number]): Promise<number> {
  return page.evaluate((c) => {
    let n = 0;
    for (const canvas of document.querySelectorAll<HTMLCanvasElement>('#chart-price canvas')) {
      const ctx = canvas.getContext('2d');
      if (!ctx || canvas.width === 0 || canvas.height === 0) continue;
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i]! - c[0]) < 40 && Math.abs(px[i + 1]! - c[1]) < 40 && Math.abs(px[i + 2]! - c[2]) < 40 && px[i + 3]! > 200) n++;
      }
    }
    return n;
  }, rgb);
}

/** The `shown/inView` marker counts the report script writes on <body>. */
async function markers(page: Page): Promise<[number, number]> {
  const v = (await page.getAttribute('body', 'data-markers')) ?? '';
  const m = /^(\d+)\/(\d+)$/.exec(v);
  expect(m, `data-markers="${v}"`).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

describe.skipIf(chromiumSkipReason !== null)('report plots and marker thinning in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'halyard-report-plots-'));
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draws the plotted lines and shows only as many markers as the visible width carries, more when zoomed in', async () => {
    const file = join(dir, 'report.html');
    const result = plottedResult(6000, 1500); // 3,000 markers on 2,000 bars of 3m
    writeFileSync(file, reportHtml(result));
    const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`file://${file}`);
    await page.waitForSelector('body[data-charts="ready"]');
    await page.waitForTimeout(200);
    expect(errors).toEqual([]);
    expect(await page.getAttribute('body', 'data-plots')).toBe('2');
    // The magenta mean and the palette's violet (#a78bfa) are on the canvas; nothing else draws in them.
    expect(await pixelsOf(page, [255, 0, 255])).toBeGreaterThan(500);
    expect(await pixelsOf(page, [167, 139, 250])).toBeGreaterThan(200);

    const width = await page.evaluate(() => document.getElementById('chart-price')!.clientWidth);
    const [shown, inView] = await markers(page);
    expect(inView).toBe(3000);
    expect(shown).toBeLessThanOrEqual(2 * Math.floor(width / 24));
    expect(shown).toBeGreaterThan(20);
    expect(await page.textContent('#marker-note')).toBe(`Showing ${shown} of the 3000 markers in view: zoom in for the rest.`);

    // Zoom in over the chart: fewer markers in view, and at this zoom all of them fit.
    const box = (await page.locator('#chart-price').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let k = 0; k < 80; k++) await page.mouse.wheel(0, -400);
    await page.waitForTimeout(400);
    const [shown2, inView2] = await markers(page);
    expect(inView2).toBeLessThan(inView);
    expect(inView2).toBeGreaterThan(0);
    expect(shown2).toBe(inView2);
    expect(await page.textContent('#marker-note')).toBe('');
    await page.close();
  });
});
