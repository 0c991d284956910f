import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { isHalyardError, type ErrorCode } from '../core/errors.ts';

/** What the CLI says about a failure: a code and one sentence naming what to fix. */
export interface Explained {
  readonly code: ErrorCode;
  readonly message: string;
  /** True when the stack matters to the reader (unknown errors, a strategy's own exception): it is written to a file. */
  readonly trace: boolean;
}

/** Names of an error's classes, own first (ccxt's errors are recognised by name: ccxt is not loaded just to fail). */
function classNames(e: object): string[] {
  const names: string[] = [];
  for (let p: unknown = Object.getPrototypeOf(e); p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    const n = (p as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof n === 'string') names.push(n);
  }
  return names;
}

/** A Node system error's fields (errno errors from net, fs, dns). */
interface SystemError {
  readonly code?: unknown;
  readonly syscall?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly path?: unknown;
  readonly hostname?: unknown;
}

/** The first line of a message, trimmed: a sentence never runs over several lines. */
const oneLine = (s: string): string => (s.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ') || 'unknown error');

/** A failure to listen (`net.Server.listen`), as the sentence that says what to change. */
function listenError(code: string, address: string, port: string): string | undefined {
  const where = `${address}:${port}`;
  if (code === 'EADDRINUSE') return `cannot listen on ${where}: the port is already in use (stop what listens there, or choose another --port; 0 picks a free one)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: ${address} is not an address of this machine (use --host 127.0.0.1, or 0.0.0.0 for every interface)`;
  if (code === 'EACCES') return `cannot listen on ${where}: not allowed (ports below 1024 need privileges; choose another --port)`;
  return undefined;
}

/** A file the command could not use, as a sentence. */
function fileError(code: string, syscall: string, path: string): string | undefined {
  const verb = syscall === 'open' || syscall === 'read' || syscall === 'stat' || syscall === 'lstat' || syscall === 'scandir' ? 'read' : syscall === 'mkdir' || syscall === 'write' || syscall === 'rename' ? 'write' : 'use';
  if (code === 'ENOENT') return `cannot ${verb} ${path}: no such file or directory`;
  if (code === 'EACCES' || code === 'EPERM') return `cannot ${verb} ${path}: permission denied`;
  if (code === 'EISDIR') return `cannot ${verb} ${path}: it is a directory, a file was expected`;
  if (code === 'ENOTDIR') return `cannot ${verb} ${path}: a part of the path is not a directory`;
  if (code === 'ENOSPC') return `cannot ${verb} ${path}: no space left on the device`;
  return undefined;
}

/** A connection that failed (ECONNREFUSED, a name that does not resolve, a timeout). */
function connectError(e: SystemError, message: string): string | undefined {
  const code = String(e.code);
  const where = e.address !== undefined ? `${String(e.address)}${e.port !== undefined ? `:${String(e.port)}` : ''}` : String(e.hostname ?? '');
  if (code === 'ECONNREFUSED') return `cannot connect to ${where || 'the server'}: the connection was refused (is it running, and is the address right?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve ${where || 'the host name'} (check the network connection and the address): ${message}`;
  if (code === 'ETIMEDOUT' || code === 'ECONNRESET') return `the connection to ${where || 'the server'} failed (${code}); check the network connection`;
  return undefined;
}

/**
 * Explains anything thrown as one sentence: a HalyardError says itself; known library errors (a port in
 * use or an address not on this machine, a file that cannot be read, a refused connection, a ccxt
 * network or authentication error) become a sentence naming what to fix; anything else is `internal`,
 * its stack worth a file.
 */
export function explain(e: unknown): Explained {
  if (isHalyardError(e)) return { code: e.code, message: oneLine(e.message), trace: e.code === 'internal' || e.code === 'strategy_error' };
  if (typeof e !== 'object' || e === null) return { code: 'internal', message: oneLine(String(e)), trace: true };
  const message = oneLine(e instanceof Error ? e.message : String(e));
  const sys = e as SystemError;
  if (typeof sys.code === 'string') {
    if (sys.syscall === 'listen') {
      const m = listenError(sys.code, String(sys.address ?? ''), String(sys.port ?? ''));
      if (m) return { code: 'invalid_config', message: m, trace: false };
    }
    if (typeof sys.path === 'string') {
      const m = fileError(sys.code, String(sys.syscall ?? ''), sys.path);
      if (m) return { code: 'invalid_input', message: m, trace: false };
    }
    const m = connectError(sys, message);
    if (m) return { code: 'venue_unavailable', message: m, trace: false };
  }
  const names = classNames(e);
  if (names.includes('AuthenticationError') || names.includes('PermissionDenied')) return { code: 'venue_auth', message: `${message} (check API_KEY and API_SECRET)`, trace: false };
  if (names.includes('NetworkError')) return { code: 'venue_unavailable', message: `${message} (check the network connection and the exchange's status, then try again)`, trace: false };
  if (names.includes('ExchangeError')) return { code: 'venue_error', message, trace: false };
  const cause = e instanceof Error ? (e.cause as SystemError | undefined) : undefined;
  // fetch() fails with "TypeError: fetch failed" and the socket error as its cause.
  if (message === 'fetch failed' && cause && typeof cause.code === 'string') {
    const m = connectError(cause, oneLine(String((cause as { message?: unknown }).message ?? '')));
    if (m) return { code: 'venue_unavailable', message: m, trace: false };
  }
  return { code: 'internal', message, trace: true };
}

/** Writes the full trace of `e` (the cause chain included) to a new file under the OS temp dir; its path. */
export function writeTrace(e: unknown, argv: readonly string[], dir: string = join(tmpdir(), 'halyard')): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `trace-${new Date().toISOString().replace(/[-:.]/g, '')}-${process.pid}.txt`);
    writeFileSync(file, `halyard ${argv.slice(2).join(' ')}\n${new Date().toISOString()} node ${process.version}\n\n${inspect(e, { depth: 8 })}\n`);
    return file;
  } catch {
    return undefined;
  }
}

/** How the failure is written: `text` (one sentence) or `json` (one JSON line, like the logs on that stream). */
export type FailureFormat = 'text' | 'json';

/**
 * Writes the failure to `out` as ONE line (plus the trace when `verbose`) and returns the exit code:
 * 2 for a failure explained as something to fix, 1 for an internal error.
 */
export function reportFailure(e: unknown, o: { readonly verbose: boolean; readonly format: FailureFormat; readonly argv: readonly string[]; readonly out?: (s: string) => void }): number {
  const out = o.out ?? ((s: string) => void process.stderr.write(s));
  const x = explain(e);
  const file = x.trace && !o.verbose ? writeTrace(e, o.argv) : undefined;
  const where = file ? ` (full trace in ${file}; --verbose prints it)` : '';
  if (o.format === 'json') out(`${JSON.stringify({ level: 50, time: Date.now(), code: x.code, msg: x.message, ...(file ? { trace: file } : {}) })}\n`);
  else out(`error [${x.code}]: ${x.message}${where}\n`);
  if (o.verbose) out(`${inspect(e, { depth: 8 })}\n`);
  return x.code === 'internal' ? 1 : 2;
}
