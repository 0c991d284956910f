import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HalyardError } from '../core/errors.ts';
import { explain, reportFailure } from './boundary.ts';

/** The error Node gives when listening on `port` of 127.0.0.1 fails. */
function listenError(port: number): Promise<Error> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', resolve);
    s.listen({ host: '127.0.0.1', port });
  });
}

describe('the CLI error boundary', () => {
  it('a HalyardError is its code and message on one line', () => {
    expect(explain(new HalyardError('invalid_input', 'first\nsecond'))).toEqual({ code: 'invalid_input', message: 'first; second', trace: false });
  });

  it('a port in use (a real listener) names the address and what to do', async () => {
    const held = createServer();
    await new Promise<void>((r) => held.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (held.address() as { port: number }).port;
    const x = explain(await listenError(port));
    held.close();
    expect(x).toMatchObject({ code: 'invalid_config', trace: false });
    expect(x.message).toBe(`cannot listen on 127.0.0.1:${port}: the port is already in use (stop what listens there, or choose another --port; 0 picks a free one)`);
  });

  it('a missing file names the path', () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, open '/nope/x.csv'"), { code: 'ENOENT', syscall: 'open', path: '/nope/x.csv' });
    expect(explain(e)).toMatchObject({ code: 'invalid_input', message: 'cannot read /nope/x.csv: no such file or directory' });
  });

  it('a ccxt NetworkError (recognised by its class name) is venue_unavailable', () => {
    class BaseError extends Error {}
    class ExchangeError extends BaseError {}
    class NetworkError extends BaseError {}
    class RequestTimeout extends NetworkError {}
    expect(explain(new RequestTimeout('binance GET /x timed out'))).toMatchObject({ code: 'venue_unavailable', message: expect.stringMatching(/^binance GET \/x timed out \(check the network/) as unknown });
    expect(explain(new ExchangeError('binance said no')).code).toBe('venue_error');
  });

  it('an unknown error writes one line and its trace to a file; --verbose prints the trace instead', () => {
    const out: string[] = [];
    const e = new TypeError('x is not a function');
    expect(reportFailure(e, { verbose: false, format: 'text', argv: ['node', 'halyard', 'backtest'], out: (s) => out.push(s) })).toBe(1);
    expect(out).toHaveLength(1);
    const file = /full trace in (\S+);/.exec(out[0] as string)?.[1] as string;
    expect(file.startsWith(join(tmpdir(), 'halyard'))).toBe(true);
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toMatch(/^halyard backtest\n[\s\S]*TypeError: x is not a function\n\s+at /);
    const verbose: string[] = [];
    reportFailure(e, { verbose: true, format: 'json', argv: [], out: (s) => verbose.push(s) });
    expect(JSON.parse(verbose[0] as string)).toMatchObject({ level: 50, code: 'internal', msg: 'x is not a function' });
    expect(verbose[1]).toMatch(/^TypeError: x is not a function\n\s+at /);
  });
});
