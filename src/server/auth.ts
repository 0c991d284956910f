import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Database } from '../store/schema.ts';
import { authenticateToken } from '../store/tokens.ts';
import type { User } from '../store/users.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The server's clock (decorated by buildServer): token expiry and last use are read against it. */
    clock: Clock;
  }
  interface FastifyRequest {
    /** The signed-in user (set by the bearer-token hook on /api routes). */
    user: User | null;
    /** The id of the API token the request was signed with (set with `user`). */
    tokenId: number | null;
  }
}

/**
 * Requires `Authorization: Bearer <token>` on every route of `scope`; the user lands on `request.user`.
 * A revoked or expired token answers 401 from the very next request (nothing is cached).
 */
export function requireUser(scope: FastifyInstance, db: Kysely<Database>): void {
  scope.decorateRequest('user', null);
  scope.decorateRequest('tokenId', null);
  if (!scope.hasDecorator('clock')) throw new HalyardError('invalid_config', 'the server has no clock: build it with buildServer (it decorates the app with its clock)');
  const clock = scope.clock;
  scope.addHook('onRequest', async (req) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new HalyardError('unauthorized', 'send an API token: Authorization: Bearer <token> (create one with: halyard tokens add --user <name>)');
    const session = await authenticateToken(db, m[1], clock.now());
    req.user = session.user;
    req.tokenId = session.tokenId;
  });
}

/** The signed-in user of a request on an authenticated route. */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new HalyardError('unauthorized', 'not signed in');
  return req.user;
}
