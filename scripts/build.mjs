// Builds src/ to JavaScript in dist/ (run by `npm install` through `prepare`, and by `npm test`), so the
// `halyard` command runs without a TypeScript loader. One bundle with shared chunks: each command's
// module is a chunk the CLI imports only when that command runs; packages stay external (node_modules).
//
// Every output file sits two levels under the repo (dist/cli/main.js, dist/chunks/x.js), as every
// source file does (src/server/static.ts), so paths computed from import.meta.url ('../../web/dist')
// resolve the same from dist/ as from src/.
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(repo, 'dist');
// Built aside, then swapped in: a command started during a build runs the old build or, in the instant
// between the two renames, falls back to the sources (bin/halyard.js), never half-written files.
const tmp = join(repo, `dist.tmp-${randomBytes(4).toString('hex')}`);
const started = Date.now();

try {
  await build({
    absWorkingDir: repo,
    // The CLI, and the strategy API that compiled strategies import (src/strategy/compile.ts maps their
    // imports of src/ to these files, so a strategy extends the very Strategy class the CLI runs), and the
    // optimiser's worker thread (src/research/pool.ts starts dist/research/worker.js).
    entryPoints: ['src/cli/main.ts', 'src/strategy/index.ts', 'src/research/worker.ts'],
    outdir: tmp,
    outbase: 'src',
    entryNames: '[dir]/[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    packages: 'external',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  // The build's time: bin/halyard.js runs dist/ only while no source file is newer.
  writeFileSync(join(tmp, 'build.json'), JSON.stringify({ builtAt: started }) + '\n');
  const old = `${dist}.old-${randomBytes(4).toString('hex')}`;
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(tmp, dist);
  rmSync(old, { recursive: true, force: true });
} catch (e) {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`build failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}\n`);
  process.exit(1);
}
