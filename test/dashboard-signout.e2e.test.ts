import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason, ensureDashboardBuilt, expectClean, LAPTOP, launchChromium, openPage, signIn, startDemoServer, type DemoServer } from './browser.ts';

// Sign-out forgets the token: the real `halyard serve --demo` in a child process, driven in Debian's
// Chromium. After signing out, the browser holds no token, sends none, and a reload stays signed out; a
// token revoked while signed in sends the dashboard back to the sign-in form with the server's reason.

const KEY = 'halyard.token';

describe.skipIf(chromiumSkipReason !== null)(`dashboard sign-out in headless Chromium${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
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
  const need = () => {
    if (!demo || !browser) throw new Error('the demo server or Chromium did not start');
    return { demo, browser };
  };
  const stored = (page: Page): Promise<string | null> => page.evaluate((k) => localStorage.getItem(k), KEY);
  /** Calls the API as the holder of `token`. */
  const call = async <T>(token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; json: T }> => {
    const res = await fetch(`${need().demo.base}${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  };

  it('signing out removes the stored token, sends no more requests with it, and a reload stays signed out', async () => {
    const { demo: d, browser: b } = need();
    const { context, page, faults } = await openPage(b, LAPTOP);
    try {
      await signIn(page, d.base, d.token);
      expect(await stored(page)).toBe(d.token);
      await page.waitForSelector('[data-testid=live-status][data-state=live]', { timeout: 15_000 });

      const withToken: string[] = [];
      let signedOut = false;
      page.on('request', (r) => {
        if (signedOut && (r.headers().authorization ?? '').includes(d.token)) withToken.push(`${r.method()} ${r.url()}`);
      });
      await page.click('[data-testid=sign-out]');
      signedOut = true;
      await page.waitForSelector('#token');
      expect(await stored(page)).toBeNull();
      expect(await page.locator('[data-testid=user-name]').count()).toBe(0);
      expect(await page.isVisible('[data-testid=sign-in-error]')).toBe(false);

      await page.reload();
      await page.waitForSelector('#token');
      expect(await stored(page)).toBeNull();
      // Longer than the live push's first reconnect (1 s): a stream left running would have asked again.
      await page.waitForTimeout(2_500);
      expect(withToken).toEqual([]);
      expectClean(faults);
    } finally {
      await context.close();
    }
  });

  it('signing out in one tab signs out the other tab of the same browser', async () => {
    const { demo: d, browser: b } = need();
    const { context, page, faults } = await openPage(b, LAPTOP);
    try {
      await signIn(page, d.base, d.token);
      const other = await context.newPage();
      await other.goto(`${d.base}/#/signals`);
      await other.waitForSelector('[data-testid=user-name]');
      await page.click('[data-testid=sign-out]');
      await other.waitForSelector('#token');
      expect((await other.textContent('[data-testid=sign-in-error]'))?.trim()).toBe('Signed out in another tab.');
      expect(await stored(other)).toBeNull();
      expectClean(faults);
    } finally {
      await context.close();
    }
  });

  it('a token revoked while signed in sends the dashboard to the sign-in form with the reason, and it is forgotten', async () => {
    const { demo: d, browser: b } = need();
    const made = await call<{ id: number; token: string }>(d.token, '/api/tokens', { method: 'POST', body: { name: 'browser' } });
    expect(made.status).toBe(201);
    const { context, page, faults } = await openPage(b, LAPTOP);
    try {
      await signIn(page, d.base, made.json.token, '#/signals');
      expect(await stored(page)).toBe(made.json.token);
      const revoked = await call<{ status: string }>(d.token, `/api/tokens/${made.json.id}`, { method: 'DELETE' });
      expect(revoked.json.status).toBe('revoked');

      // The next request of the page (here: opening another page) answers 401 with the reason.
      await page.evaluate(() => (location.hash = '#/strategies'));
      await page.waitForSelector('#token');
      const err = (await page.textContent('[data-testid=sign-in-error]'))?.trim() ?? '';
      expect(err).toMatch(/^Signed out: API token hly_\S+… was revoked at \d{4}-\S+: create a new one with: halyard tokens add --user demo$/);
      expect(await stored(page)).toBeNull();

      // Signing in again with the revoked token is refused on the form with the same reason.
      await page.fill('#token', made.json.token);
      await page.click('[data-testid=sign-in]');
      await page.waitForFunction(() => /was revoked/.test(document.querySelector('[data-testid=sign-in-error]')?.textContent ?? ''));
      expect(await page.locator('[data-testid=user-name]').count()).toBe(0);
      // The demo's own token still works.
      expect((await call(d.token, '/api/me')).status).toBe(200);
      expectClean(faults);
    } finally {
      await context.close();
    }
  });
});
