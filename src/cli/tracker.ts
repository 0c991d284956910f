import { Command, Option } from 'commander';
import { SystemClock } from '../clock.ts';
import { HalyardError } from '../core/errors.ts';
import type { Settings } from '../config.ts';
import { envsOf, TRADING_MODES, type TradingMode } from '../exchange/targets.ts';
import { recorderView } from '../server/routes/api.ts';
import { createRecorder, listRecorders, MAX_SECRET_GRACE_S, rotateRecorderSecret } from '../store/recorders.ts';
import { CONFLICT_POLICIES, setTargetSettings, targetSettings } from '../store/target-settings.ts';
import { addToken, createUser, listUsers, setTradingMode, tradingModeOf, userByName } from '../store/users.ts';
import { rebuildSignalPositions } from '../tracker/rebuild.ts';
import { sayNote, webhookBase, withStore } from './store.ts';
import { graceSeconds, print } from './output.ts';

function positiveNumber(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new HalyardError('invalid_input', `${flag} must be a number > 0, got '${v}'`);
    return n;
  };
}

/** `halyard users …`, `halyard recorders …`, `halyard tracker …`: manage the tracking server's data. */
export function registerTrackerCommands(program: Command, settings: () => Settings): void {
  const clock = new SystemClock();
  const users = program.command('users').description('Users of the tracking server and their API tokens');
  users
    .command('add <name>')
    .description('Create a user and print an API token (shown once; stored hashed)')
    .addOption(new Option('--trading-mode <mode>', 'which envs the user trades').choices([...TRADING_MODES]).default('paper'))
    .option('--json', 'print the created user with its token as JSON')
    .action(async (name: string, o: { tradingMode: TradingMode; json?: boolean }) => {
      const { user, token } = await withStore(settings(), (st) => createUser(st.db, name, o.tradingMode, clock.now()));
      if (o.json) return print(JSON.stringify({ id: user.id, name: user.name, trading_mode: user.trading_mode, created_at: user.created_at, token }));
      print(`user ${user.name} (id ${user.id}, trading mode ${user.trading_mode})\nAPI token (shown once, keep it): ${token}`);
    });
  users
    .command('token <name>')
    .description('Issue another API token for a user')
    .option('--json', 'print the token as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const token = await withStore(settings(), async (st) => addToken(st.db, (await userByName(st.db, name)).id, clock.now()));
      print(o.json ? JSON.stringify({ name, token }) : `API token for ${name} (shown once): ${token}`);
    });
  users
    .command('ls')
    .description('List users')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await withStore(settings(), (st) => listUsers(st.db));
      if (o.json) return print(JSON.stringify(list));
      print(list.length === 0 ? 'no users (create one: halyard users add <name>)' : list.map((u) => `${u.id}\t${u.name}\t${u.trading_mode}`).join('\n'));
    });
  users
    .command('switch-account-type <name> <account-type>')
    .description('Switch which envs a user trades (what the monitor snapshots and reconciles): demo / testnet → paper, real / mainnet → live, or both')
    .option('--json', 'print the user\'s trading mode as JSON')
    .action(async (name: string, accountType: string, o: { json?: boolean }) => {
      const mode = tradingModeOf(accountType);
      const user = await withStore(settings(), async (st) => setTradingMode(st.db, (await userByName(st.db, name)).id, mode));
      if (o.json) return print(JSON.stringify({ user: user.name, trading_mode: mode, envs: envsOf(mode) }));
      print(`user ${user.name} trades ${mode === 'both' ? 'paper and live' : mode} (trading mode ${mode})`);
    });
  users
    .command('target-settings <name> <target>')
    .description("Show a user's settings of a target (exchange:env), or change them")
    .addOption(new Option('--reconcile-policy <policy>', "what a conflict does: exchange (take the exchange's size and entry) or record").choices([...CONFLICT_POLICIES]))
    .option('--json', 'print the settings as JSON')
    .action(async (name: string, target: string, o: { reconcilePolicy?: string; json?: boolean }) => {
      const s = await withStore(settings(), async (st) => {
        const user = await userByName(st.db, name);
        return o.reconcilePolicy === undefined ? targetSettings(st.db, user.id, target) : setTargetSettings(st.db, user.id, target, { reconcilePolicy: o.reconcilePolicy }, clock.now());
      });
      if (o.json) return print(JSON.stringify({ target: s.targetKey, reconcile_policy: s.reconcilePolicy, is_default: s.isDefault, updated_at: s.updatedAt }));
      print(`${name} on ${s.targetKey}: reconcile policy ${s.reconcilePolicy}${s.isDefault ? " (the exchange's default)" : ''}`);
    });

  const recorders = program.command('recorders').description('Recorders: named signal streams, each with a secret webhook URL');
  recorders
    .command('add')
    .description('Create a recorder and print its secret webhook URL')
    .requiredOption('--user <name>', 'owner')
    .requiredOption('--name <name>', 'what the stream is, e.g. "BTC trend"')
    .option('--target <exchange:env...>', 'targets its signals trade on and its positions show on (default sim:paper); add *N for a size multiplier, e.g. bybit:paper*0.5')
    .addOption(new Option('--track-only', 'no target: its signals only move its own positions, no order goes anywhere').conflicts('target'))
    .addOption(new Option('--mode <mode>', 'position mode').choices(['oneway', 'hedge']).default('oneway'))
    .option('--max-lag <seconds>', 'reject signals older than this', positiveNumber('--max-lag'))
    .option('--default-qty <qty>', 'quantity when a signal carries none', positiveNumber('--default-qty'))
    .option('--strategy <name>', 'strategy name shown on its positions (default: the recorder name)')
    .option('--json', 'print the created recorder (with its webhook URL) as JSON')
    .action(
      async (o: { user: string; name: string; target?: string[]; trackOnly?: boolean; mode: 'oneway' | 'hedge'; maxLag?: number; defaultQty?: number; strategy?: string; json?: boolean }) => {
        const s = settings();
        const targets = (o.trackOnly ? [] : (o.target ?? ['sim:paper'])).map((t) => {
          const [key = '', mult] = t.split('*');
          const multiplier = mult === undefined ? 1 : positiveNumber(`multiplier of ${t}`)(mult);
          return { key, multiplier };
        });
        const rec = await withStore(s, async (st) => {
          const user = await userByName(st.db, o.user);
          return createRecorder(
            st.db,
            {
              userId: user.id,
              name: o.name,
              positionMode: o.mode,
              ...(o.maxLag !== undefined ? { maxLagMs: o.maxLag * 1000 } : {}),
              ...(o.defaultQty !== undefined ? { defaultQty: o.defaultQty } : {}),
              strategy: o.strategy ?? null,
              targets,
            },
            clock.now(),
          );
        });
        const base = await webhookBase(s);
        const view = recorderView(rec, base.url);
        if (o.json) return print(JSON.stringify(view));
        const where = view.targets.length === 0 ? 'tracking only: no target, no orders' : `targets ${view.targets.map((t) => `${t.target}×${t.multiplier}`).join(', ')}`;
        sayNote(base);
        print(`recorder ${view.id} "${view.name}" (${view.position_mode}; ${where})\nwebhook URL (keep it secret): ${view.webhook_url}`);
      },
    );
  recorders
    .command('ls')
    .description("List a user's recorders with their webhook URLs")
    .requiredOption('--user <name>', 'owner')
    .option('--json', 'print JSON')
    .action(async (o: { user: string; json?: boolean }) => {
      const s = settings();
      const list = await withStore(s, async (st) => listRecorders(st.db, (await userByName(st.db, o.user)).id));
      const base = await webhookBase(s);
      const views = list.map((r) => recorderView(r, base.url));
      if (o.json) return print(JSON.stringify(views));
      if (views.length > 0) sayNote(base);
      print(views.length === 0 ? `no recorders for ${o.user}` : views.map((v) => `${v.id}\t${v.name}\t${v.position_mode}\t${v.webhook_url}`).join('\n'));
    });
  recorders
    .command('rotate-secret <id>')
    .description("Give a recorder a new webhook secret (update the alert's URL); the old URL answers 404 at once or after --grace")
    .requiredOption('--user <name>', 'owner')
    .option('--grace <seconds>', `seconds the old URL keeps working (default 0: it stops at once; at most ${MAX_SECRET_GRACE_S})`, '0')
    .option('--json', 'print the recorder with its new webhook URL as JSON')
    .action(async (id: string, o: { user: string; grace: string; json?: boolean }) => {
      const s = settings();
      if (!/^\d{1,15}$/.test(id)) throw new HalyardError('invalid_input', `recorder id must be a number (see halyard recorders ls --user ${o.user}), got '${id}'`);
      const grace = graceSeconds(o.grace, MAX_SECRET_GRACE_S);
      const rec = await withStore(s, async (st) => rotateRecorderSecret(st.db, (await userByName(st.db, o.user)).id, Number(id), grace, clock.now()));
      const base = await webhookBase(s);
      const view = { ...recorderView(rec, base.url), previous_secret_until: rec.previous_secret_until };
      if (o.json) return print(JSON.stringify(view));
      const old = rec.previous_secret_until === null ? 'the old URL stopped working' : `the old URL works until ${new Date(rec.previous_secret_until).toISOString()}`;
      sayNote(base);
      print(`recorder ${view.id} "${view.name}": new webhook URL (keep it secret): ${view.webhook_url}\n${old}`);
    });

  const tracker = program.command('tracker').description('The signal-based position ledger');
  tracker
    .command('rebuild')
    .description('Recompute every signal-based position, trade and equity point from the signal log (stop the server first)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { json?: boolean }) => {
      const report = await withStore(settings(), (st) => rebuildSignalPositions(st.db));
      if (o.json) return print(JSON.stringify(report));
      print(
        `rebuilt from ${report.signals} accepted signals of ${report.recorders} recorders: ${report.positions} positions (${report.openPositions} open), ${report.trades} trades` +
          (report.refused.length > 0 ? `\n${report.refused.length} signals refused on replay: ${report.refused.map((r) => `#${r.signalId} ${r.reason}`).join('; ')}` : ''),
      );
    });
}
