import Fastify from 'fastify';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { concretePort, listenOrClose } from './port.ts';

describe('listening', () => {
  it('concretePort refuses a port in use with the listen error, and picks a free one for 0', async () => {
    const held = createServer();
    await new Promise<void>((r) => held.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (held.address() as { port: number }).port;
    await expect(concretePort('127.0.0.1', port)).rejects.toMatchObject({ code: 'EADDRINUSE', syscall: 'listen', port });
    expect(await concretePort('127.0.0.1', 0)).toBeGreaterThan(0);
    held.close();
  });

  it('a listen that fails (the port taken after the check) closes the app, then the store, once each, and rethrows', async () => {
    const held = createServer();
    await new Promise<void>((r) => held.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    const port = (held.address() as { port: number }).port;
    const app = Fastify();
    const order: string[] = [];
    app.addHook('onClose', async () => void order.push('app closed (its loops stop here)'));
    await expect(listenOrClose(app, '127.0.0.1', port, async () => void order.push('store closed'))).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(order).toEqual(['app closed (its loops stop here)', 'store closed']);
    held.close();
  });
});
