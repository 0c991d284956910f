import { createServer } from 'node:net';

/**
 * The port to listen on, checked by listening on it once: `port` itself, or for 0 a free one picked now,
 * so the webhook URLs the server prints and shows (built before it listens) carry the port it really
 * listens on. A port in use, an address that is not this machine's, or a port the user may not open fails
 * here with Node's listen error (the CLI's boundary says it in one sentence), before a store is opened or
 * a demo folder wiped.
 */
export async function concretePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port }, () => {
      const addr = probe.address();
      const picked = typeof addr === 'object' && addr ? addr.port : port;
      probe.close(() => resolve(picked));
    });
  });
}

/** What `listenOrClose` needs of a Fastify app. */
export interface Listener {
  listen(o: { host: string; port: number }): Promise<string>;
  close(): PromiseLike<unknown>;
}

/**
 * Listens on host:port; when that fails (the port was taken since it was checked), closes the app — its
 * background loops stop in its onClose hooks — and then `after` (the store), once each, and rethrows.
 */
export async function listenOrClose(app: Listener, host: string, port: number, after: () => Promise<void>): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (e) {
    await Promise.resolve(app.close()).catch(() => undefined);
    await after().catch(() => undefined);
    throw e;
  }
}
