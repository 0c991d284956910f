import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build:web` writes the dashboard. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** True when the dashboard has been built (`web/dist/index.html` exists). */
export function dashboardBuilt(dir = DASHBOARD_DIR): boolean {
  return existsSync(join(dir, 'index.html'));
}

/**
 * Serves the built dashboard at `/` (hashed assets cached for a year, index.html never). Without a build,
 * `/` answers a short page that says how to make one, rather than a bare 404.
 */
export async function dashboardRoutes(app: FastifyInstance, opts: { dir: string }): Promise<void> {
  if (!dashboardBuilt(opts.dir)) {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply
        .code(503)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><title>Halyard</title><p>The dashboard is not built. Run <code>npm run build:web</code> (npm install does it), then reload.</p>'),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.dir,
    prefix: '/',
    index: ['index.html'],
    // Files are looked up per request, so a rebuild (new hashed assets) is served without a restart.
    wildcard: true,
    // Cache-Control is ours (setHeaders), not send's default `public, max-age=0`.
    cacheControl: false,
    setHeaders: (res, path) => {
      res.setHeader('cache-control', path.includes(`${join('dist', 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}
