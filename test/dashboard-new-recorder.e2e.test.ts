import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason, ensureDashboardBuilt, expectClean, launchChromium, openPage, PHONE, settled, signIn, startDemoServer, type DemoServer } from './browser.ts';

// The dashboard's "New recorder" form makes a tracking-only recorder when "nowhere" is chosen as its
// target (the API's `targets: []`), and a recorder on the chosen target otherwise: the real
// `halyard serve --demo` in a child process, driven in Debian's Chromium at phone width.

interface Rec {
  readonly name: string;
  readonly targets: readonly { readonly target: string }[];
}

describe.skipIf(chromiumSkipReason !== null)(`dashboard new recorder in headless Chromium${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  let demo: DemoServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    ensureDashboardBuilt();
    [demo, browser] = await Promise.all([startDemoServer(1000), launchChromium()]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('creates a tracking-only recorder ("nowhere") and one on sim:paper, as the API then lists them', async () => {
    if (!demo || !browser) throw new Error('the demo server or Chromium did not start');
    const { context, page, faults } = await openPage(browser, PHONE);
    try {
      await signIn(page, demo.base, demo.token, '#/signals');
      await settled(page);
      for (const [name, target] of [['only watching', ''], ['on the sim', 'sim:paper']] as const) {
        await page.click('[data-testid=new-recorder-open]');
        await page.fill('#recorder-name', name);
        await page.waitForFunction(() => (document.querySelector('#recorder-target')?.childElementCount ?? 0) > 2);
        await page.selectOption('#recorder-target', target);
        await page.click('[data-testid=create-recorder]');
        await page.waitForFunction((n) => document.body.textContent?.includes(n) === true, name);
      }
      const res = await fetch(`${demo.base}/api/recorders`, { headers: { authorization: `Bearer ${demo.token}` } });
      const recs = (await res.json()) as Rec[];
      const of = (n: string) => recs.find((r) => r.name === n)?.targets.map((t) => t.target);
      expect(of('only watching')).toEqual([]);
      expect(of('on the sim')).toEqual(['sim:paper']);
      expectClean(faults);
    } finally {
      await context.close();
    }
  }, 90_000);
});
