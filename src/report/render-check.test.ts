import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportHtml } from './html.ts';
import { fixtureResult } from './test-fixture.ts';

// Renders a report in a real headless Chromium when one is installed (skipped otherwise): the inline
// library must load under the report's CSP, the script must run to its end and draw canvases.
const CHROMIUM = '/usr/bin/chromium';

function chromium(args: string[], profile: string): string {
  return execFileSync(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`, '--virtual-time-budget=5000', ...args,
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 });
}

// CI installs Chromium (.ci/run), so there this never skips; elsewhere it skips with this name as the reason.
describe.skipIf(!existsSync(CHROMIUM) && !process.env.CI)('report.html in headless Chromium (needs /usr/bin/chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'halyard-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the chart script to the end and draws the charts, at laptop and phone widths', () => {
    const file = join(dir, 'report.html');
    writeFileSync(file, reportHtml(fixtureResult(3000)));
    for (const size of ['1400,2200', '400,2600']) {
      const dom = chromium([`--window-size=${size}`, '--dump-dom', `file://${file}`], join(dir, `profile-${size}`));
      expect(dom).toContain('data-charts="ready"');
      // candles + volume panes, equity and drawdown each draw onto canvases
      expect((dom.match(/<canvas/g) ?? []).length).toBeGreaterThanOrEqual(9);
      const png = join(dir, `report-${size}.png`);
      chromium([`--window-size=${size}`, `--screenshot=${png}`, `file://${file}`], join(dir, `shot-${size}`));
      expect(statSync(png).size).toBeGreaterThan(20_000);
    }
  });
});
