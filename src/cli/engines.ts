import type { Command } from 'commander';
import { SystemClock } from '../clock.ts';
import type { Settings } from '../config.ts';
import { createEngineSource, listEngineSources, MAX_ENGINE_GRACE_S, rotateEngineSecret } from '../store/engine-sources.ts';
import { SecretBox } from '../store/secrets.ts';
import { userByName } from '../store/users.ts';
import { sayNote, webhookBase, withStore } from './store.ts';
import { graceSeconds, print } from './output.ts';

const when = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString());

/** `halyard engines …`: engines that post signed position events to the tracking server. */
export function registerEngineCommands(program: Command, settings: () => Settings): void {
  const clock = new SystemClock();
  const engines = program.command('engines').description('Engine sources: engines (ours, Jesse, ...) that post signed position events');
  engines
    .command('add <user>')
    .description('Create an engine source and print its webhook URL and signing secret')
    .requiredOption('--name <name>', 'what the engine is, e.g. "jesse-btc"')
    .option('--target <exchange:env>', 'target assumed when an event names none, e.g. bybit:paper')
    .option('--poll-url <url>', "base URL of the engine's positions API, polled when events stop arriving (e.g. http://127.0.0.1:8090)")
    .option('--poll-token <token>', 'bearer token for the positions API (stored encrypted: needs ENCRYPTION_KEY)')
    .option('--json', 'print the created source (with its secret) as JSON')
    .action(async (userName: string, o: { name: string; target?: string; pollUrl?: string; pollToken?: string; json?: boolean }) => {
      const s = settings();
      const box = s.ENCRYPTION_KEY ? new SecretBox(s.ENCRYPTION_KEY) : undefined;
      const src = await withStore(s, async (st) => {
        const user = await userByName(st.db, userName);
        return createEngineSource(st.db, box, { userId: user.id, name: o.name, targetKey: o.target ?? null, pollUrl: o.pollUrl ?? null, pollToken: o.pollToken ?? null }, clock.now());
      });
      // The route module (Fastify) loads only when this command runs.
      const { engineSourceView } = await import('../server/routes/engine.ts');
      const base = await webhookBase(s);
      const view = engineSourceView(src, base.url, true);
      if (o.json) return print(JSON.stringify(view));
      sayNote(base);
      print(
        [
          `engine source ${view.id} "${view.name}" (default target ${view.target ?? 'none: events must name one'}${view.poll_url ? `; polled at ${view.poll_url}` : ''})`,
          `webhook URL: ${view.webhook_url}`,
          `signing secret (keep it secret): ${view.secret ?? ''}`,
        ].join('\n'),
      );
    });
  engines
    .command('rotate-secret <id>')
    .description('Give an engine source a new signing secret; events signed with the old one are refused (401) at once or after --grace')
    .requiredOption('--user <name>', 'owner')
    .option('--grace <seconds>', `seconds the old secret still signs (default 0: it stops at once; at most ${MAX_ENGINE_GRACE_S})`, '0')
    .option('--json', 'print the source with its new secret as JSON')
    .action(async (id: string, o: { user: string; grace: string; json?: boolean }) => {
      const s = settings();
      const grace = graceSeconds(o.grace, MAX_ENGINE_GRACE_S);
      const src = await withStore(s, async (st) => rotateEngineSecret(st.db, (await userByName(st.db, o.user)).id, id, grace, clock.now()));
      const { engineSourceView } = await import('../server/routes/engine.ts');
      const base = await webhookBase(s);
      const view = { ...engineSourceView(src, base.url, true), previous_secret_until: src.previous_secret_until };
      if (o.json) return print(JSON.stringify(view));
      const old = src.previous_secret_until === null ? 'the old secret stopped working' : `the old secret still signs until ${when(src.previous_secret_until)}`;
      sayNote(base);
      print([`engine source ${view.id} "${view.name}": new signing secret (keep it secret): ${view.secret ?? ''}`, `webhook URL: ${view.webhook_url}`, old].join('\n'));
    });
  engines
    .command('list <user>')
    .alias('ls')
    .description("List a user's engine sources with their webhook URLs (never the secrets)")
    .option('--json', 'print JSON')
    .action(async (userName: string, o: { json?: boolean }) => {
      const s = settings();
      const list = await withStore(s, async (st) => listEngineSources(st.db, (await userByName(st.db, userName)).id));
      const { engineSourceView } = await import('../server/routes/engine.ts');
      const base = await webhookBase(s);
      const views = list.map((r) => engineSourceView(r, base.url));
      if (o.json) return print(JSON.stringify(views));
      if (views.length > 0) sayNote(base);
      print(
        views.length === 0
          ? `no engine sources for ${userName} (create one: halyard engines add ${userName} --name <name>)`
          : views.map((v) => `${v.id}\t${v.name}\t${v.target ?? '-'}\t${v.webhook_url}\tlast event ${when(v.last_event_at)}`).join('\n'),
      );
    });
}
