import { createServer } from 'node:net';

/**
 * The port to listen on: `port` itself, or for 0 a free one picked now, so the webhook URLs the server
 * prints and shows (built before it listens) carry the port it really listens on.
 */
export async function concretePort(host: string, port: number): Promise<number> {
  if (port !== 0) return port;
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const addr = probe.address();
      const picked = typeof addr === 'object' && addr ? addr.port : 0;
      probe.close(() => resolve(picked));
    });
  });
}
