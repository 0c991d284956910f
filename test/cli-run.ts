import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo root and the real `halyard` entry point the CLI tests run. */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'halyard.js');

/** How a command ended. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A minimal, explicit environment (no colours, silent logs) plus `extra`. HALYARD_RUN passes through:
 * `HALYARD_RUN=build npx vitest run test/cli.test.ts` runs every command on the build (or `source`).
 */
export function cliEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  const run = process.env.HALYARD_RUN ? { HALYARD_RUN: process.env.HALYARD_RUN } : {};
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir(), NO_COLOR: '1', LOG_LEVEL: 'silent', ...run, ...extra };
}

/** Runs `node bin/halyard.js <args>` in a child process, from `cwd` (default: the repo root). */
export function runHalyard(args: readonly string[], env: Readonly<Record<string, string>>, cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A running `halyard serve` child process. */
export interface Serving {
  readonly base: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** Starts `halyard serve --port 0` and resolves with its base URL once it prints it. */
export function serve(env: Record<string, string>): Promise<Serving> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { cwd: ROOT, env: cliEnv(env) });
    const exited = new Promise<number | null>((r) => child.on('close', r));
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (err += s));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ base: m[1], child, exited });
    });
    child.on('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}
