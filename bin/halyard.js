#!/usr/bin/env node
// Entry point of the `halyard` command: registers the TypeScript loader (strategies are .ts files users
// write and run without a build step), then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
