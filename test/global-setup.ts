// vitest globalSetup: runs once in the main process before any test file's worker starts.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The RAM disk the temp files go to when the machine has one (Linux: /dev/shm). */
const RAM_DISK = '/dev/shm';

/**
 * Puts the run's temp files (the tests' SQLite stores, caches, sandboxes, and those of the CLI processes
 * they start: cliEnv passes TMPDIR on) on the RAM disk. SQLite's fsync of each commit costs nothing there
 * instead of waiting on a disk that other processes write to (a paper replay commits once per candle).
 * What a test checks does not change: a killed process's committed rows survive in the page cache either
 * way, which is what the kill -9 tests look at. `HALYARD_TEST_TMPDIR=` (empty) keeps the usual TMPDIR.
 */
export function setup(): void {
  const wanted = process.env.HALYARD_TEST_TMPDIR;
  if (wanted === '') return;
  let dir = wanted;
  if (dir === undefined) {
    try {
      accessSync(RAM_DISK, constants.W_OK);
    } catch {
      return;
    }
    dir = join(RAM_DISK, `halyard-test-${process.getuid?.() ?? 'user'}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = dir;
}
