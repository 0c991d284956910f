// The dashboard's static files through @fastify/static (pinned to a version that supports Node 20): the
// index is never cached, hashed assets are cached for a year, and a missing build answers a page that says how.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { dashboardRoutes } from '../src/server/static.ts';

const root = mkdtempSync(join(tmpdir(), 'halyard-static-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('dashboard static files', () => {
  it('serves index.html with no-cache and a hashed asset as immutable', async () => {
    const dir = join(root, 'web', 'dist');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    const app = Fastify();
    await app.register(dashboardRoutes, { dir });
    const index = await app.inject({ method: 'GET', url: '/' });
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('<title>t</title>');
    expect(index.headers['cache-control']).toBe('no-cache');
    const asset = await app.inject({ method: 'GET', url: '/assets/app-1234.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    await app.close();
  });

  it('without a build, / answers 503 with how to build it', async () => {
    const app = Fastify();
    await app.register(dashboardRoutes, { dir: join(root, 'absent') });
    const r = await app.inject({ method: 'GET', url: '/' });
    expect(r.statusCode).toBe(503);
    expect(r.body).toContain('npm run build:web');
    await app.close();
  });
});
