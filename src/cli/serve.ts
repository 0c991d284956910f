import type { Command } from 'commander';
import { SystemClock } from '../clock.ts';
import { exchangeUrlOverride, type Settings } from '../config.ts';
import { createLogger } from '../log.ts';
import { SecretBox } from '../store/secrets.ts';
import { nonNegative, parsePort } from './options.ts';
import { concretePort, listenOrClose } from './port.ts';
import { publicUrl, rememberServerAddress, storeFromSettings } from './store.ts';

/** `halyard serve`: the tracking server (webhooks, API, OpenAPI at /docs). */
export function registerServeCommand(program: Command, settings: () => Settings): void {
  program
    .command('serve')
    .description('Run the tracking server: signal webhooks, orders on linked targets (sim, or exchanges with stored keys), the JSON API and its OpenAPI document at /docs, the dashboard at /')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .option('--demo', 'start with a demo user, a paper strategy and a signal feed on sim:paper (fresh SQLite store in --demo-dir; offline)')
    .option('--demo-dir <dir>', 'folder of the demo store and backtest output (wiped at every demo start)', 'data/demo')
    .option('--demo-interval <ms>', 'milliseconds between two replayed 1m candles of the demo', '1000')
    .action(async (o: { host: string; port: string; demo?: boolean; demoDir: string; demoInterval: string }) => {
      const s = settings();
      const port = await concretePort(o.host, parsePort(o.port));
      await ensureDashboard();
      if (o.demo) {
        const { runDemo } = await import('./demo.ts');
        await runDemo({ dir: o.demoDir, host: o.host, port, intervalMs: nonNegative('--demo-interval')(o.demoInterval) }, s);
        return;
      }
      const logger = createLogger(s);
      // The server (and ccxt with it) loads only for `serve`, so other commands start fast and small.
      const [{ buildServer }, { ccxtOpener }] = await Promise.all([import('../server/app.ts'), import('../tracker/venue-registry.ts')]);
      const store = await storeFromSettings(s);
      const { app } = await buildServer({
        store,
        clock: new SystemClock(),
        logger,
        publicUrl: publicUrl(s, o.host, port),
        box: s.ENCRYPTION_KEY ? new SecretBox(s.ENCRYPTION_KEY) : undefined,
        sim: { balance: s.SIM_BALANCE, leverage: s.SIM_LEVERAGE },
        openCcxt: ccxtOpener((exchange) => exchangeUrlOverride(exchange)),
        monitor: {
          intervalMs: s.MONITOR_INTERVAL_S * 1000,
          snapshotIntervalMs: s.SNAPSHOT_INTERVAL_MIN * 60_000,
          ghostFlatChecks: s.GHOST_FLAT_CHECKS,
          graceMs: s.RECONCILE_GRACE_S * 1000,
        },
        enginePollIntervalS: s.ENGINE_POLL_INTERVAL_S,
        limits: { perIpPerMinute: s.RATE_LIMIT_PER_IP_PER_MIN, perRecorderPerMinute: s.RATE_LIMIT_PER_RECORDER_PER_MIN, bodyLimit: s.BODY_LIMIT_BYTES },
        outputDir: s.OUTPUT_PATH,
        ...(s.METRICS_TOKEN !== undefined ? { metricsToken: s.METRICS_TOKEN } : {}),
        // Several servers on one PostgreSQL: leases and claims, and the live push over LISTEN/NOTIFY.
        fleet: { leaseTtlMs: s.LEASE_TTL_S * 1000, ...(s.DATABASE_URL ? { url: s.DATABASE_URL } : {}) },
      });
      const address = await listenOrClose(app, o.host, port, () => store.close());
      await rememberServerAddress(store, s, o.host, port); // the CLI prints webhook URLs with this server's address
      process.stdout.write(`halyard serving on ${address} (store: ${store.dialect} ${store.where}; API docs at ${address}/docs)\ndashboard: ${address}/\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void app
            .close()
            .then(() => store.close())
            .finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}

/** Builds the dashboard (web/dist) when it is missing, e.g. after a checkout whose install skipped scripts. */
async function ensureDashboard(): Promise<void> {
  const { dashboardBuilt } = await import('../server/static.ts');
  if (dashboardBuilt()) return;
  process.stdout.write('building the dashboard (web/dist)…\n');
  try {
    const { build } = await import('vite');
    await build({ configFile: new URL('../../web/vite.config.ts', import.meta.url).pathname, logLevel: 'warn' });
  } catch (e) {
    process.stderr.write(`could not build the dashboard (${(e as Error).message}); the API works, / says how to build it\n`);
  }
}
