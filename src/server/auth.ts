import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Database } from '../store/schema.ts';
import { userByToken, type User } from '../store/users.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in user (set by the bearer-token hook on /api routes). */
    user: User | null;
  }
}

/** Requires `Authorization: Bearer <token>` on every route of `scope`; the user lands on `request.user`. */
export function requireUser(scope: FastifyInstance, db: Kysely<Database>): void {
  scope.decorateRequest('user', null);
  scope.addHook('onRequest', async (req) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m?.[1]) throw new HalyardError('unauthorized', 'send an API token: Authorization: Bearer <token> (create one with: halyard users add <name>)');
    const user = await userByToken(db, m[1]);
    if (!user) throw new HalyardError('unauthorized', 'unknown API token');
    req.user = user;
  });
}

/** The signed-in user of a request on an authenticated route. */
export function userOf(req: FastifyRequest): User {
  if (!req.user) throw new HalyardError('unauthorized', 'not signed in');
  return req.user;
}
