#!/usr/bin/env node
// Entry point of the `halyard` command. It runs the JavaScript build in dist/ (made by `npm install` and
// `npm test`: scripts/build.mjs) when that build is newer than every source file; otherwise (an install
// that skipped scripts, or a source edited since the build) it runs the sources through tsx's loader.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');

/** The build's time, or undefined when there is no build. */
function builtAt() {
  try {
    return JSON.parse(readFileSync(join(repo, 'dist', 'build.json'), 'utf8')).builtAt;
  } catch {
    return undefined;
  }
}

/** True when dist/ holds a build made after the last change to a source file under src/ (tests aside). */
function buildIsFresh() {
  const at = builtAt();
  if (typeof at !== 'number' || !existsSync(join(repo, 'dist', 'cli', 'main.js'))) return false;
  const src = join(repo, 'src');
  if (!existsSync(src)) return true;
  for (const e of readdirSync(src, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts') || e.name.endsWith('.test.ts')) continue;
    if (statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs > at) return false;
  }
  return true;
}

// A reader that stops early (`halyard backtest --json | head`) closes the pipe: that ends the output, not in error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
let main;
try {
  // HALYARD_RUN=source or =build overrides the choice (tests compare the two; the bench times the build
  // while someone edits the sources).
  const run = process.env.HALYARD_RUN;
  if (run === 'build' || (run !== 'source' && buildIsFresh())) {
    // Traces name the TypeScript lines (dist/ has the source maps); only asked for, as it costs start-up time.
    if (verbose) process.setSourceMapsEnabled(true);
    ({ main } = await import(pathToFileURL(join(repo, 'dist', 'cli', 'main.js')).href));
  } else {
    // Both tsx hooks: a strategy in a folder without "type": "module" is loaded as CommonJS TypeScript.
    const [{ register: registerCjs }, { register }] = await Promise.all([import('tsx/cjs/api'), import('tsx/esm/api')]);
    registerCjs();
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
} catch (e) {
  // The CLI's own error boundary is not loaded yet: say it in one line (the trace with --verbose).
  process.stderr.write(`error [internal]: halyard could not start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}${verbose ? '' : ' (--verbose prints the trace)'}\n`);
  if (verbose) console.error(e);
  process.exit(1);
}
await main(process.argv);
