import { describe, expect, it } from 'vitest';
import { chromiumSkipReason, demoSuite, expectClean, markNoReload, settled, signIn, startRelay, stillSamePage, terminalRows } from './browser.ts';

// The Terminal end to end: the real `halyard serve --demo` in a child process (its own SQLite store, a
// candle every 250 ms moving the marks), driven in Debian's Chromium. One server for the whole file.

describe.skipIf(chromiumSkipReason !== null)(`dashboard terminal in headless Chromium against halyard serve --demo${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  const s = demoSuite();

  it('signs in: an unknown token is refused on the form, the demo token opens the terminal with the live push on', async () => {
    const { page, faults } = await s.fresh();
    await page.goto(`${s.demo.base}/`);
    await page.fill('#token', 'hly_not-a-token-of-this-server');
    await page.click('[data-testid=sign-in]');
    const err = page.locator('[data-testid=sign-in-error]');
    await err.waitFor({ state: 'visible' });
    expect((await err.textContent())?.trim()).not.toBe('');
    expect(await page.locator('[data-testid=user-name]').count()).toBe(0);

    await page.fill('#token', s.demo.token);
    await page.click('[data-testid=sign-in]');
    await page.waitForSelector('[data-testid=user-name]');
    expect(await page.textContent('[data-testid=user-name]')).toBe('demo');
    await page.waitForSelector('[data-testid=live-status][data-state=live]', { timeout: 10_000 });
    await page.waitForSelector('#page[data-page=terminal]');
    expect(await page.isVisible('[data-testid=sign-in-error]')).toBe(false);

    // The session survives a reload; signing out shows the form again, and a reload then stays signed out.
    await page.reload();
    await page.waitForSelector('[data-testid=user-name]');
    await page.click('[data-testid=sign-out]');
    await page.waitForSelector('#token');
    await page.reload();
    await page.waitForSelector('#token');
    expect(await page.locator('[data-testid=user-name]').count()).toBe(0);
    expectClean(faults);
  });

  it('switches targets: the badge says DEMO or REAL, a target without an account shows how to add one', async () => {
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    const badge = page.locator('[data-testid=target-badge]');
    const options = (sel: string): Promise<string[]> => page.$$eval(`${sel} option`, (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(await badge.textContent()).toBe('DEMO');
    expect(await options('#exchangeSelect')).toEqual(expect.arrayContaining(['bybit', 'hyperliquid', 'binance', 'sim']));
    expect(await page.isVisible('[data-testid=order-ticket]')).toBe(true);

    const steps: [string, string, string, string, string[]][] = [
      // select, value, expected target in the hash, badge, account options
      ['#exchangeSelect', 'bybit', 'bybit:paper', 'DEMO', ['demo', 'real']],
      ['#accountSelect', 'real', 'bybit:live', 'REAL', ['demo', 'real']],
      ['#exchangeSelect', 'hyperliquid', 'hyperliquid:paper', 'DEMO', ['testnet', 'mainnet']],
      ['#accountSelect', 'mainnet', 'hyperliquid:live', 'REAL', ['testnet', 'mainnet']],
      ['#exchangeSelect', 'binance', 'binance:paper', 'DEMO', ['demo', 'live']],
    ];
    for (const [sel, value, target, want, accounts] of steps) {
      await page.selectOption(sel, value);
      await page.waitForFunction((t) => location.hash.includes(`target=${t}`), target);
      await settled(page);
      await expect.poll(() => badge.textContent()).toBe(want);
      expect(await options('#accountSelect')).toEqual(accounts);
      // No keys stored for this venue: a designed state that says how to add them, not an error or a blank.
      const none = page.locator('[data-testid=no-account]');
      await none.waitFor({ state: 'visible' });
      expect((await none.textContent()) ?? '').toMatch(/api_key/);
      expect(await page.locator('#page [data-state=error]').count()).toBe(0);
      expect(await page.locator('[data-testid=order-ticket]').count()).toBe(0);
    }

    await page.selectOption('#exchangeSelect', 'sim');
    await page.waitForFunction(() => location.hash.includes('target=sim:paper'));
    await settled(page);
    expect(await options('#accountSelect')).toEqual(['paper']);
    await expect.poll(() => badge.textContent()).toBe('DEMO');
    await page.locator('[data-testid=order-ticket]').waitFor({ state: 'visible' });
    expect(await page.locator('[data-testid=no-account]').count()).toBe(0);
    expectClean(faults);
  });

  it('shows the position of a signal posted to a recorder webhook on the terminal without a reload, and drops it when closed', async () => {
    const rec = await s.newRecorder(s.demo.token, 'e2e SOL stream');
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    await page.locator('[data-testid=live-status][data-state=live]').waitFor();
    expect(await terminalRows(page, 'SOLUSDT').count()).toBe(0);
    await markNoReload(page);

    await s.postSignal(rec.hook, { ticker: 'SOLUSDT', action: 'buy', quantity: 3, price: 150 });
    const row = terminalRows(page, 'SOLUSDT', '[data-kind=tracked]');
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await row.count()).toBe(1);
    expect((await row.locator('[data-field=size]').textContent())?.trim()).toBe('3');
    expect(await row.locator('[data-field=strategy]').textContent()).toContain('e2e SOL stream');
    expect(await row.locator('[data-field=source]').textContent()).toContain('signal');

    await s.postSignal(rec.hook, { ticker: 'SOLUSDT', action: 'sell', quantity: 3, price: 151 });
    await expect.poll(() => terminalRows(page, 'SOLUSDT', ':has([data-testid=close-position])').count(), { timeout: 10_000 }).toBe(0);
    expect(await stillSamePage(page)).toBe(true);
    expectClean(faults);
  });

  it('moves the unrealized PnL of an open row with the pushed marks, without a reload', async () => {
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    await markNoReload(page);
    // The demo's EMA-cross recorder holds 0.05 BTC long or short once its first cross came (a few seconds in).
    const open = terminalRows(page, 'BTCUSDT', ':has([data-testid=close-position])');
    await open.first().waitFor({ state: 'visible', timeout: 30_000 });
    const read = (): Promise<Record<string, string>> =>
      page.$$eval('[data-testid=positions] tr[data-symbol=BTCUSDT][data-position-id]', (rows) =>
        Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.positionId ?? '', r.querySelector('[data-field=pnl]')?.textContent?.trim() ?? ''])),
      );
    const before = await read();
    expect(Object.keys(before).length).toBeGreaterThan(0);
    for (const v of Object.values(before)) expect(v).toMatch(/^[+-]?[\d,]+\.\d{2}$|^—$/);
    // Some row that is still there shows another figure a moment later (a candle every 250 ms).
    await expect
      .poll(
        async () => {
          const now = await read();
          return Object.keys(now).some((id) => before[id] !== undefined && now[id] !== before[id] && now[id] !== '—');
        },
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    // Each open row's figure is (mark - entry) × size, negated for a short, from the cells it shows.
    const figures = await page.$$eval('[data-testid=positions] tr[data-symbol=BTCUSDT]:has([data-testid=close-position])', (rows) =>
      rows.map((r) => {
        const cell = (f: string): string => r.querySelector(`[data-field=${f}]`)?.textContent ?? '';
        return { short: /short/.test(cell('symbol')), size: cell('size'), entry: cell('entry'), mark: cell('mark'), pnl: cell('pnl') };
      }),
    );
    expect(figures.length).toBeGreaterThan(0);
    const n = (text: string): number => Number(text.replace(/[^\d.-]/g, ''));
    for (const f of figures) expect(n(f.pnl)).toBeCloseTo((n(f.mark) - n(f.entry)) * n(f.size) * (f.short ? -1 : 1), 1);
    expect(await stillSamePage(page)).toBe(true);
    expectClean(faults);
  });

  it('places a market order with stop loss and take profit from the ticket, then closes its position from the row', async () => {
    // A symbol of its own: BTCUSDT is netted on the same one-way venue with the demo recorder's position, so
    // closing there depends on which way the recorder happens to hold. A buy and a sell of a signal give the
    // simulated market its price and leave nothing open.
    const pricing = await s.newRecorder(s.demo.token, 'e2e pricing');
    await s.postSignal(pricing.hook, { ticker: 'BNBUSDT', action: 'buy', quantity: 1, price: 1200 });
    await s.postSignal(pricing.hook, { ticker: 'BNBUSDT', action: 'sell', quantity: 1, price: 1200 });
    const { page, faults } = await s.fresh();
    page.on('dialog', (d) => void d.accept());
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    const webapp = terminalRows(page, 'BNBUSDT', '[data-source=webapp]');
    expect(await webapp.count()).toBe(0);
    const sl = 1080;
    const tp = 1320;

    const ticket = page.locator('[data-testid=order-ticket]');
    await ticket.locator('input[name=symbol]').fill('BNBUSDT');
    await ticket.locator('select[name=side]').selectOption('buy');
    await ticket.locator('select[name=type]').selectOption('market');
    await ticket.locator('input[name=qty]').fill('0.01');
    await ticket.locator('input[name=stop_loss]').fill(String(sl));
    await ticket.locator('input[name=take_profit]').fill(String(tp));
    await ticket.locator('[data-testid=place-order]').click();
    const result = page.locator('[data-testid=ticket-result]');
    await expect.poll(() => result.textContent(), { timeout: 10_000 }).toMatch(/filled/i);
    expect(await result.textContent()).toContain('1,200.00');

    await webapp.first().waitFor({ state: 'visible', timeout: 10_000 });
    expect(await webapp.count()).toBe(1);
    expect((await webapp.locator('[data-field=size]').textContent())?.trim()).toBe('0.01');
    expect((await webapp.locator('[data-field=sl]').textContent())?.trim()).toBe('1,080.00');
    expect((await webapp.locator('[data-field=tp]').textContent())?.trim()).toBe('1,320.00');
    expect(await webapp.locator('[data-field=source]').textContent()).toContain('webapp');
    expect(await webapp.locator('[data-field=opened-by]').textContent()).toContain('user');
    // The bracket rests on the venue: a stop and a take-profit among the open orders.
    await expect.poll(() => page.locator('[data-testid=orders] tr[data-order-id][data-status=open]').count(), { timeout: 10_000 }).toBe(2);

    await webapp.locator('[data-testid=close-position]').click();
    const openWebapp = terminalRows(page, 'BNBUSDT', '[data-source=webapp][data-kind=tracked]');
    await expect.poll(() => openWebapp.count(), { timeout: 10_000 }).toBe(0);
    // It stays a day as a closed row with its realized PnL.
    await terminalRows(page, 'BNBUSDT', '[data-source=webapp][data-kind=closed]').waitFor();
    // Its bracket went with it.
    await expect.poll(() => page.locator('[data-testid=orders] tr[data-order-id][data-status=open]').count(), { timeout: 10_000 }).toBe(0);
    expectClean(faults);
  });

  it('reconnects the live push after the connection drops, and shows what changed meanwhile', async () => {
    const relay = await startRelay(s.demo.base);
    try {
      const rec = await s.newRecorder(s.demo.token, 'e2e gap stream');
      const { page, faults } = await s.fresh();
      await signIn(page, relay.base, s.demo.token);
      await settled(page);
      const status = page.locator('[data-testid=live-status]');
      await page.locator('[data-testid=live-status][data-state=live]').waitFor();
      await markNoReload(page);

      relay.cut();
      await page.locator('[data-testid=live-status][data-state=reconnecting]').waitFor({ timeout: 5_000 });
      // A signal while the dashboard is cut off; it cannot show yet.
      await s.postSignal(rec.hook, { ticker: 'XRPUSDT', action: 'buy', quantity: 100, price: 0.5 });
      await page.waitForTimeout(1_500);
      expect(await status.getAttribute('data-state')).toBe('reconnecting');
      expect(await terminalRows(page, 'XRPUSDT').count()).toBe(0);

      relay.restore();
      await page.locator('[data-testid=live-status][data-state=live]').waitFor({ timeout: 20_000 });
      await terminalRows(page, 'XRPUSDT', '[data-kind=tracked]').waitFor({ timeout: 10_000 });
      expect(await stillSamePage(page)).toBe(true);
      expect(faults.errors).toEqual([]);
      await s.postSignal(rec.hook, { ticker: 'XRPUSDT', action: 'sell', quantity: 100, price: 0.5 });
    } finally {
      await relay.close();
    }
  });
});
