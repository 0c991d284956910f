import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureResult } from '../src/report/test-fixture.ts';
import { writeRun } from '../src/report/write.ts';
import { ROOT } from './cli-run.ts';
import { DEMO_RUN_ID, LAPTOP, PHONE, chromiumSkipReason, demoSuite, expectClean, go, settled, signIn } from './browser.ts';

// The Backtests page lists each run with its parameters, in Debian's Chromium against `halyard serve --demo`:
// the demo's own run (started with --param fast=20 --param slow=80), a shared run, and another user's run
// that stays hidden (screenshots under test-results/dashboard/backtests-params-*.png).

/** Where the screenshots go (to look at). */
const SHOTS = join(ROOT, 'test-results', 'dashboard');

interface ListedRun {
  readonly id: string;
  readonly params: Record<string, number | string | boolean>;
  readonly timeframe: string;
}

describe.skipIf(chromiumSkipReason !== null)(`the Backtests page shows each run's parameters${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  const s = demoSuite();

  it("shows the parameters of the caller's runs and the shared ones, and nothing of another user's run", async () => {
    const out = join(s.demo.dir, 'output');
    await writeRun(fixtureResult(600, { strategy: 'SharedIdea', params: { fast: 7, label: 'wide stop', slow: 21 } }), join(out, 'listing-shared'), { shared: true });
    await writeRun(fixtureResult(600, { strategy: 'ErinsSecret', params: { erinsParam: 5 } }), join(out, 'listing-erin'), { owner: 'erin' });

    const api = await s.call<ListedRun[]>(s.demo.token, '/api/backtests');
    const byId = new Map(api.json.map((r) => [r.id, r]));
    // The demo ran sma-cross with --param fast=20 --param slow=80: the rest are the strategy's defaults.
    expect(byId.get(DEMO_RUN_ID)).toMatchObject({ params: { fast: 20, percent: 10, qty: 0, short: true, sl: 0.01, slow: 80, tp: 0.02 }, timeframe: '1m' });
    expect(byId.get('listing-shared')?.params).toEqual({ fast: 7, label: 'wide stop', slow: 21 });
    expect(byId.has('listing-erin')).toBe(false);

    mkdirSync(SHOTS, { recursive: true });
    for (const [label, viewport] of [['laptop', LAPTOP], ['phone', PHONE]] as const) {
      const { page, faults } = await s.fresh(viewport);
      await signIn(page, s.demo.base, s.demo.token);
      await go(page, '#/backtests');
      await settled(page);
      const chips = async (id: string): Promise<string[]> => page.locator(`tr[data-run-id="${id}"] [data-field=params] .badge`).allTextContents();
      await page.locator(`tr[data-run-id="${DEMO_RUN_ID}"]`).waitFor({ state: 'visible' });
      expect(await chips(DEMO_RUN_ID)).toEqual(['fast = 20', 'percent = 10', 'qty = 0', 'short = true', 'sl = 0.01', 'slow = 80', 'tp = 0.02']);
      expect(await chips('listing-shared')).toEqual(['fast = 7', 'label = "wide stop"', 'slow = 21']);
      expect(await page.locator(`tr[data-run-id="${DEMO_RUN_ID}"] [data-field=symbol]`).textContent()).toContain('1m');
      expect(await page.locator('tr[data-run-id="listing-erin"]').count()).toBe(0);
      const text = (await page.locator('#page').textContent()) ?? '';
      expect(text).not.toContain('ErinsSecret');
      expect(text).not.toContain('erinsParam');
      await page.screenshot({ path: join(SHOTS, `backtests-params-${label}.png`), fullPage: true });
      if (viewport === PHONE) expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width + 1);
      expectClean(faults);
    }
  }, 90_000);
});
