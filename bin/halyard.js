#!/usr/bin/env node
// Entry point of the `halyard` command: registers the TypeScript loader (strategies are .ts files users
// write and run without a build step), then runs the CLI.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Both hooks: a strategy in a folder without "type": "module" is loaded as CommonJS TypeScript.
registerCjs();
register();
// A reader that stops early (`halyard backtest --json | head`) closes the pipe: that ends the output, not in error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e && e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
let main;
try {
  ({ main } = await import('../src/cli/main.ts'));
} catch (e) {
  // The CLI's own error boundary is not loaded yet: say it in one line (the trace with --verbose).
  process.stderr.write(`error [internal]: halyard could not start: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}${process.argv.includes('--verbose') ? '' : ' (--verbose prints the trace)'}\n`);
  if (process.argv.includes('--verbose')) console.error(e);
  process.exit(1);
}
await main(process.argv);
