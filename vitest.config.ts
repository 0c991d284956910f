import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The longest test files, longest first (measured: docs/performance.md, "Test suite"). They start first so
 * that the last file to start is a short one; the rest follow in vitest's own order (its timings of the
 * last run when it has them, else the larger file first).
 */
const LONGEST_FIRST = [
  'test/docs-examples.test.ts',
  'test/dashboard-summaries.e2e.test.ts',
  'test/dashboard-pages.e2e.test.ts',
  'test/paper-cli.test.ts',
  'test/deploy.test.ts',
  'test/optimize.test.ts',
  'test/fleet-servers.test.ts',
  'test/cli.test.ts',
  'test/silent-failures.test.ts',
  'test/cli-errors.test.ts',
  'test/dashboard-terminal.e2e.test.ts',
  'test/cli-tracker.test.ts',
  'test/paper.test.ts',
  'test/tokens.test.ts',
  'test/secret-rotation.test.ts',
  'test/live-invariant.test.ts',
  'test/dashboard-signout.e2e.test.ts',
  'test/tenancy.test.ts',
  'test/dashboard-live-path.e2e.test.ts',
  'test/fuzz-inputs.test.ts',
];

/** Starts the known longest files first, then the others in vitest's order. */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification): number => {
      const i = LONGEST_FIRST.findIndex((p) => f.moduleId.endsWith(`/${p}`));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the unlisted files keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export const config = defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the cores: a single file at a time on a 2-core machine.
    // Most files wait on child processes, servers and Chromium, so three share two cores well.
    maxWorkers: 3,
    // Concurrent suites run two at a time (test/docs-examples.test.ts runs two docs side by side).
    maxConcurrency: 2,
    sequence: { sequencer: LongestFirst },
    // Temp files on the RAM disk when there is one (test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
  },
});
// vitest loads the default export of its config file.
// eslint-disable-next-line no-restricted-syntax
export default config;
