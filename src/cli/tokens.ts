import type { Command } from 'commander';
import { SystemClock } from '../clock.ts';
import { HalyardError } from '../core/errors.ts';
import type { Settings } from '../config.ts';
import { expiryInDays, issueToken, listTokens, parseExpiry, revokeToken, type TokenInfo } from '../store/tokens.ts';
import { userByName } from '../store/users.ts';
import { withStore } from './store.ts';
import { print } from './output.ts';

const when = (ms: number | null, none: string): string => (ms === null ? none : new Date(ms).toISOString());

/** One line of `tokens list`: id, name, prefix, status, created, last used, expiry. */
function line(t: TokenInfo): string {
  const state = t.status === 'revoked' ? `revoked ${when(t.revoked_at, '')}` : t.status === 'expired' ? `expired ${when(t.expires_at, '')}` : 'active';
  return [t.id, t.name, `${t.prefix}…`, state, `created ${when(t.created_at, '')}`, `last used ${when(t.last_used_at, 'never')}`, `expires ${when(t.expires_at, 'never')}`].join('\t');
}

/** `halyard tokens list|add|revoke`: a user's API tokens, named, with last use, expiry and revocation. */
export function registerTokenCommands(program: Command, settings: () => Settings): void {
  const clock = new SystemClock();
  const tokens = program.command('tokens').description("A user's API tokens: list them, issue a named one (optionally expiring), revoke one");
  tokens
    .command('add')
    .description('Issue an API token (shown once; stored hashed)')
    .requiredOption('--user <name>', 'owner')
    .option('--name <label>', 'what the token is for, e.g. laptop (default: default)')
    .option('--expires-in <days>', 'stop working after this many days')
    .option('--expires <date>', 'stop working at this ISO date or date-time (UTC unless it names a zone), e.g. 2027-01-31')
    .option('--json', 'print the token with its details as JSON')
    .action(async (o: { user: string; name?: string; expiresIn?: string; expires?: string; json?: boolean }) => {
      if (o.expiresIn !== undefined && o.expires !== undefined) throw new HalyardError('invalid_input', 'give --expires-in or --expires, not both');
      const now = clock.now();
      const expiresAt = o.expiresIn !== undefined ? expiryInDays(Number(o.expiresIn), now, '--expires-in') : o.expires !== undefined ? parseExpiry(o.expires, '--expires') : null;
      const issued = await withStore(settings(), async (st) => issueToken(st.db, (await userByName(st.db, o.user)).id, { ...(o.name !== undefined ? { name: o.name } : {}), expiresAt }, now));
      if (o.json) return print(JSON.stringify({ ...issued.info, user: o.user, token: issued.token }));
      print(`API token ${issued.info.id} "${issued.info.name}" for ${o.user} (expires ${when(issued.info.expires_at, 'never')}; shown once, keep it): ${issued.token}`);
    });
  tokens
    .command('list')
    .alias('ls')
    .description("List a user's API tokens (never the tokens themselves): id, name, prefix, status, created, last used, expiry")
    .requiredOption('--user <name>', 'owner')
    .option('--json', 'print JSON')
    .action(async (o: { user: string; json?: boolean }) => {
      const list = await withStore(settings(), async (st) => listTokens(st.db, (await userByName(st.db, o.user)).id, clock.now()));
      if (o.json) return print(JSON.stringify(list));
      print(list.length === 0 ? `no API tokens for ${o.user} (issue one: halyard tokens add --user ${o.user})` : list.map(line).join('\n'));
    });
  tokens
    .command('revoke <token>')
    .description('Revoke one of the user\'s API tokens, by id (see tokens list), prefix or the token itself: it answers 401 from the next request on')
    .requiredOption('--user <name>', 'owner')
    .option('--json', 'print the revoked token as JSON')
    .action(async (ref: string, o: { user: string; json?: boolean }) => {
      const t = await withStore(settings(), async (st) => revokeToken(st.db, (await userByName(st.db, o.user)).id, ref, clock.now()));
      if (o.json) return print(JSON.stringify(t));
      print(`API token ${t.id} "${t.name}" (${t.prefix}…) of ${o.user} revoked at ${when(t.revoked_at, '')}`);
    });
}
