import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chromiumSkipReason, demoSuite, expectClean, go, markNoReload, settled, signIn, stillSamePage, terminalRows } from './browser.ts';

// The live path in the browser (issue 13): a close acts on exactly its row and the dialog, the toast, the
// rows and the ledger say the same numbers; a limit from the ticket that fills later becomes a position;
// orders show in every state with their reason and can be canceled while they rest.

/** A number as the dashboard prints it ("+1,234.50", "−3.00", "0.05"). */
function parseShown(text: string | null): number {
  const t = (text ?? '').replace(/[,\s]/g, '').replace('−', '-');
  const v = Number(t);
  if (!Number.isFinite(v)) throw new Error(`not a number on the page: "${text}"`);
  return v;
}

/**
 * The terminal's summary cards against its rows, read in one go (the marks move the PnL cells between two
 * reads): open positions = open rows, unrealized = Σ unrealized cells, realized = Σ realized cells,
 * closed (24 h) = closed rows.
 */
async function summaryAgrees(page: Page): Promise<void> {
  const shown = await page.evaluate(() => {
    const text = (el: Element | null) => el?.textContent ?? '';
    const rows = [...document.querySelectorAll('[data-testid=positions] tr[data-position-id]')];
    const open = rows.filter((r) => r.getAttribute('data-status') === 'open' && r.getAttribute('data-kind') !== 'closed_externally');
    return {
      cards: {
        open: text(document.querySelector('[data-testid=open-count] .value')),
        unrealized: text(document.querySelector('[data-testid=unrealized-total] .value')),
        realized: text(document.querySelector('[data-testid=realized-total] .value')),
        closed: text(document.querySelector('[data-testid=closed-count] .value')),
      },
      openRows: open.length,
      closedRows: rows.filter((r) => r.getAttribute('data-kind') === 'closed').length,
      unrealized: open.map((r) => text(r.querySelector('[data-field=pnl]'))),
      realized: rows.map((r) => text(r.querySelector('[data-field=realized]'))),
    };
  });
  expect(parseShown(shown.cards.open)).toBe(shown.openRows);
  expect(parseShown(shown.cards.closed)).toBe(shown.closedRows);
  // Each cell is rounded to cents: the card may differ from their sum by half a cent a row.
  const slack = 0.005 * (shown.realized.length + 1);
  expect(Math.abs(parseShown(shown.cards.realized) - shown.realized.reduce((a, c) => a + parseShown(c), 0))).toBeLessThanOrEqual(slack);
  expect(Math.abs(parseShown(shown.cards.unrealized) - shown.unrealized.reduce((a, c) => a + parseShown(c), 0))).toBeLessThanOrEqual(slack);
}

describe.skipIf(chromiumSkipReason !== null)(`the live path in headless Chromium against halyard serve --demo${chromiumSkipReason ? ` (skipped: ${chromiumSkipReason})` : ''}`, () => {
  const s = demoSuite();

  it('closes exactly the signal row chosen beside a manual position: dialog, toast, rows and ledger agree', async () => {
    const rec = await s.newRecorder(s.demo.token, 'e2e ETH stream');
    await s.postSignal(rec.hook, { ticker: 'ETHUSDT', action: 'buy', quantity: 0.05, price: 3000 });
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    await markNoReload(page);
    const signalRow = terminalRows(page, 'ETHUSDT', '[data-source=signal][data-kind=tracked]');
    await signalRow.waitFor({ state: 'visible', timeout: 10_000 });

    const ticket = page.locator('[data-testid=order-ticket]');
    await ticket.locator('input[name=symbol]').fill('ETHUSDT');
    await ticket.locator('select[name=side]').selectOption('buy');
    await ticket.locator('select[name=type]').selectOption('market');
    await ticket.locator('input[name=qty]').fill('0.02');
    await ticket.locator('[data-testid=place-order]').click();
    await expect.poll(() => page.locator('[data-testid=ticket-result]').textContent(), { timeout: 10_000 }).toMatch(/filled at 3,000.00/);
    const manual = terminalRows(page, 'ETHUSDT', '[data-source=webapp][data-kind=tracked]');
    await manual.waitFor({ state: 'visible', timeout: 10_000 });
    expect((await manual.locator('[data-field=size]').textContent())?.trim()).toBe('0.02');

    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await signalRow.locator('[data-testid=close-position]').click();
    await expect.poll(() => page.locator('[data-testid=toast]').allTextContents(), { timeout: 10_000 }).toContainEqual(expect.stringMatching(/Close long 0.05 ETHUSDT: filled 0.05 at 3,000.00/));
    expect(asked).toBe(`Close long 0.05 ETHUSDT on sim:paper at market? It is recorder #${rec.id}'s signal position: a close signal goes to its log.`);
    await expect.poll(() => signalRow.count(), { timeout: 10_000 }).toBe(0);
    await terminalRows(page, 'ETHUSDT', '[data-source=signal][data-kind=closed]').waitFor();
    // The manual position is untouched, and the venue holds exactly it.
    expect(await manual.count()).toBe(1);
    expect((await manual.locator('[data-field=size]').textContent())?.trim()).toBe('0.02');
    const t = await s.call<{ rows: { source: string; kind: string; size: number; broker_size: number | null; diverged: boolean }[] }>(s.demo.token, '/api/terminal?target=sim:paper');
    const eth = t.json.rows.filter((r) => r.kind === 'tracked' && r.source === 'webapp');
    expect(eth.some((r) => r.size === 0.02 && r.broker_size !== null && !r.diverged)).toBe(true);
    await summaryAgrees(page);
    expect(await stillSamePage(page)).toBe(true);
    expectClean(faults);
  });

  it('books a limit from the ticket when it fills later; an open limit is canceled from its row; orders show in every state', async () => {
    const pricing = await s.newRecorder(s.demo.token, 'e2e SOL pricing');
    await s.postSignal(pricing.hook, { ticker: 'SOLUSDT', action: 'buy', quantity: 1, price: 150 });
    await s.postSignal(pricing.hook, { ticker: 'SOLUSDT', action: 'sell', quantity: 1, price: 150 });
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await settled(page);
    await markNoReload(page);
    const ticket = page.locator('[data-testid=order-ticket]');
    const limit = async (px: string): Promise<void> => {
      await ticket.locator('input[name=symbol]').fill('SOLUSDT');
      await ticket.locator('select[name=side]').selectOption('buy');
      await ticket.locator('select[name=type]').selectOption('limit');
      await ticket.locator('input[name=qty]').fill('1');
      await ticket.locator('input[name=price]').fill(px);
      await ticket.locator('[data-testid=place-order]').click();
      await expect.poll(() => page.locator('[data-testid=ticket-result]').textContent(), { timeout: 10_000 }).toMatch(new RegExp(`resting: .* at ${px}`));
    };
    await limit('140.00');
    await limit('100.00');
    const orders = page.locator('[data-testid=orders] tr[data-symbol="SOL/USDT:USDT"]');
    await expect.poll(() => orders.locator('[data-field=status]').allTextContents(), { timeout: 10_000 }).toEqual(expect.arrayContaining(['open', 'open']));

    // Cancel the far one from its row.
    const far = orders.filter({ hasText: '100.00' });
    await far.locator('[data-testid=cancel-order]').click();
    await expect.poll(() => far.getAttribute('data-status'), { timeout: 10_000 }).toBe('canceled');
    expect(await far.locator('[data-testid=cancel-order]').count()).toBe(0);

    // The market comes down through 140: the near limit fills and becomes a dashboard position, no reload.
    await s.postSignal(pricing.hook, { ticker: 'SOLUSDT', action: 'buy', quantity: 1, price: 139 });
    await s.postSignal(pricing.hook, { ticker: 'SOLUSDT', action: 'sell', quantity: 1, price: 139 });
    const row = terminalRows(page, 'SOLUSDT', '[data-source=webapp][data-kind=tracked]');
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    expect((await row.locator('[data-field=size]').textContent())?.trim()).toBe('1');
    expect((await row.locator('[data-field=entry]').textContent())?.trim()).toMatch(/^140\.0+$/);
    expect(await row.locator('[data-field=opened-by]').textContent()).toContain('user');
    const near = orders.filter({ hasText: '140.00' });
    await expect.poll(() => near.getAttribute('data-status'), { timeout: 10_000 }).toBe('filled');
    await summaryAgrees(page);
    expect(await stillSamePage(page)).toBe(true);
    expectClean(faults);
  });

  it("lists a signal's order that failed on a target without keys, with the reason, on that target's terminal", async () => {
    const r = await s.call<{ id: number; webhook_url: string }>(s.demo.token, '/api/recorders', { name: 'e2e bybit stream', position_mode: 'oneway', targets: [{ target: 'bybit:paper', multiplier: 1 }] });
    expect(r.status).toBe(201);
    await s.postSignal(`${s.demo.base}${new URL(r.json.webhook_url).pathname}`, { ticker: 'XRPUSDT', action: 'buy', quantity: 10, price: 0.5 });
    const { page, faults } = await s.fresh();
    await signIn(page, s.demo.base, s.demo.token);
    await go(page, '#/terminal?target=bybit:paper');
    const failed = page.locator('[data-testid=orders] tr[data-status=failed]');
    await failed.first().waitFor({ state: 'visible', timeout: 15_000 });
    expect(await failed.first().locator('[data-field=reason]').textContent()).toMatch(/bybit:paper/);
    expect(await failed.first().locator('[data-testid=cancel-order]').count()).toBe(0);
    expectClean(faults);
  });
});
