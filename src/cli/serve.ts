import type { Command } from 'commander';
import { SystemClock } from '../clock.ts';
import { HalyardError } from '../core/errors.ts';
import { exchangeUrlOverride, type Settings } from '../config.ts';
import { createLogger } from '../log.ts';
import { SecretBox } from '../store/secrets.ts';
import { parsePort } from './options.ts';
import { publicUrl, storeFromSettings } from './store.ts';

/** `halyard serve`: the tracking server (webhooks, API, OpenAPI at /docs). */
export function registerServeCommand(program: Command, settings: () => Settings): void {
  program
    .command('serve')
    .description('Run the tracking server: signal webhooks, orders on linked targets (sim, or exchanges with stored keys), the JSON API and its OpenAPI document at /docs')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'TCP port (0 picks a free one)', '8080')
    .action(async (o: { host: string; port: string }) => {
      const s = settings();
      const port = parsePort(o.port);
      const logger = createLogger(s.LOG_LEVEL);
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
      });
      let address: string;
      try {
        address = await app.listen({ host: o.host, port });
      } catch (e) {
        await store.close();
        throw new HalyardError('invalid_config', `cannot listen on ${o.host}:${port}: ${(e as Error).message}`, {}, e);
      }
      process.stdout.write(`halyard serving on ${address} (store: ${store.dialect} ${store.where}; API docs at ${address}/docs)\n`);
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
