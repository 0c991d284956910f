#!/usr/bin/env node
// Entry point of the `halyard` command: registers the TypeScript loader (strategies are .ts files users
// write and run without a build step), then runs the CLI.
import { register as registerCjs } from 'tsx/cjs/api';
import { register } from 'tsx/esm/api';

// Both hooks: a strategy in a folder without "type": "module" is loaded as CommonJS TypeScript.
registerCjs();
register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
