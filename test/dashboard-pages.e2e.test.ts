import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runHalyard } from './cli-run.ts';
import { DEMO_RUN_ID, LAPTOP, PHONE, chromiumSkipReason, demoSuite, expectClean, go, settled, signIn, terminalRows, type RecorderView } from './browser.ts';

// The dashboard's other pages end to end, against the real `halyard serve --demo` in Debian's Chromium:
// the backtest report, one user's data hidden from another, and every page at laptop and phone width
// (screenshots under test-results/dashboard/ to look at).

const SHOTS = join(ROOT, 'test-results', 'dashboard');

describe.skipIf(chromiumSkipReason !== null)(`dashboard pages in headless Chromium against halyard serve --demo${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  const s = demoSuite();

  it('lists the demo backtest run and opens its report with metrics and a chart', async () => {
    const runs = await s.call<{ id: string; trades: number }[]>(s.demo.token, '/api/backtests');
    const run = runs.json.find((r) => r.id === DEMO_RUN_ID);
    expect(run?.trades).toBeGreaterThan(0);
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await page.click('[data-testid=nav-backtests]');
    await settled(page);
    const row = page.locator(`tr[data-run-id="${DEMO_RUN_ID}"]`);
    await row.waitFor({ state: 'visible' });
    await row.locator('a').first().click();
    await page.waitForFunction((id) => location.hash === `#/backtests/${id}`, DEMO_RUN_ID);
    await settled(page, 30_000);
    const metrics = page.locator('[data-testid=backtest-metrics]');
    await metrics.waitFor({ state: 'visible' });
    // The run's trade count is among the figures.
    expect(await metrics.textContent()).toContain(String(run?.trades));
    const canvas = page.locator('[data-testid=backtest-chart] canvas');
    await canvas.first().waitFor({ state: 'attached', timeout: 15_000 });
    const box = await page.locator('[data-testid=backtest-chart]').boundingBox();
    expect(box?.height).toBeGreaterThan(100);
    expectClean(faults);
  });

  it("keeps each user's data to themselves: bob's recorder and position are not shown to demo, nor demo's to bob", async () => {
    const made = await runHalyard(['users', 'add', 'bob', '--json'], { DATABASE_PATH: join(s.demo.dir, 'halyard.db') });
    expect(made.code, made.stderr).toBe(0);
    const bob = JSON.parse(made.stdout) as { name: string; token: string };
    expect(bob.name).toBe('bob');
    const bobRec = await s.newRecorder(bob.token, 'bob private stream');
    await s.postSignal(bobRec.hook, { ticker: 'ETHUSDT', action: 'buy', quantity: 2, price: 3000 });
    const demoRecs = (await s.call<RecorderView[]>(s.demo.token, '/api/recorders')).json;
    const tvDemo = demoRecs.find((r) => r.name === 'TV demo');
    expect(tvDemo).toBeDefined();

    // bob sees his own (the check below would pass vacuously if nothing rendered).
    const asBob = await s.fresh();
    await signIn(asBob.page, s.demo.base, bob.token, '#/signals');
    await settled(asBob.page);
    await asBob.page.locator(`[data-testid=recorder][data-recorder-id="${bobRec.id}"]`).waitFor();
    expect(await asBob.page.locator(`[data-recorder-id="${tvDemo?.id}"]`).count()).toBe(0);
    expect(await asBob.page.locator('#page').textContent()).not.toContain('TV demo');
    await go(asBob.page, '#/terminal?target=sim:paper');
    await terminalRows(asBob.page, 'ETHUSDT', '[data-kind=tracked]').waitFor({ timeout: 10_000 });
    expect(await terminalRows(asBob.page, 'BTCUSDT').count()).toBe(0);
    // demo's recorder by its id in bob's address bar: not found among his, nothing of it shown.
    await go(asBob.page, `#/signals/${tvDemo?.id}`);
    expect(await asBob.page.locator('#page [data-state=empty]').count()).toBeGreaterThan(0);
    expect(await asBob.page.locator('[data-testid=webhook-url]').count()).toBe(0);
    expectClean(asBob.faults);

    const asDemo = await s.fresh();
    await signIn(asDemo.page, s.demo.base, s.demo.token, '#/signals');
    await settled(asDemo.page);
    await asDemo.page.locator(`[data-testid=recorder][data-recorder-id="${tvDemo?.id}"]`).waitFor();
    expect(await asDemo.page.locator(`[data-recorder-id="${bobRec.id}"]`).count()).toBe(0);
    expect(await asDemo.page.locator('#page').textContent()).not.toContain('bob private stream');
    await go(asDemo.page, `#/signals/${bobRec.id}`);
    expect(await asDemo.page.locator('#page [data-state=empty]').count()).toBeGreaterThan(0);
    expect(await asDemo.page.locator('#page').textContent()).not.toContain('bob private stream');
    await go(asDemo.page, '#/terminal?target=sim:paper');
    await terminalRows(asDemo.page, 'BTCUSDT').first().waitFor();
    expect(await terminalRows(asDemo.page, 'ETHUSDT').count()).toBe(0);
    expectClean(asDemo.faults);
  });

  it('renders every page at laptop and phone width (screenshots under test-results/dashboard/), without horizontal overflow on a phone', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const routes: [string, string][] = [
      ['terminal', '#/terminal?target=sim:paper'],
      ['terminal-no-account', '#/terminal?target=bybit:live'],
      ['signals', '#/signals'],
      ['equity', '#/equity'],
      ['strategies', '#/strategies'],
      ['backtests', '#/backtests'],
      ['backtest-detail', `#/backtests/${DEMO_RUN_ID}`],
      ['reconciliation', '#/reconciliation'],
    ];
    const overflow: string[] = [];
    for (const [label, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
      const { page, faults } = await s.fresh(viewport);
      await page.goto(`${s.demo.base}/`);
      await page.waitForSelector('#token');
      await page.screenshot({ path: join(SHOTS, `sign-in-${label}.png`), fullPage: true });
      await page.fill('#token', s.demo.token);
      await page.click('[data-testid=sign-in]');
      // (the user's name is hidden at phone width: wait for the page instead)
      await page.waitForSelector('#page[data-page]');
      for (const [name, hash] of routes) {
        await go(page, hash);
        // Charts draw after their data arrives, on the next animation frames: wait for two frames.
        await page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
        expect(await page.locator('#page [data-state=error]').count(), `${name} at ${label} shows an error`).toBe(0);
        await page.screenshot({ path: join(SHOTS, `${name}-${label}.png`), fullPage: true });
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > viewport.width + 1) overflow.push(`${name} at ${label}: ${width} px wide`);
      }
      expectClean(faults);
    }
    expect(overflow).toEqual([]);
  }, 120_000);
});
