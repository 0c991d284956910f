import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** The one row of `server_address` (migration 008): where `halyard serve` last listened. */
export interface ServerAddressTable {
  /** Always 1: the latest start wins. */
  id: number;
  /** Base URL the server prints webhook URLs with: PUBLIC_URL, else its own host and bound port. */
  public_url: string;
  /** Interface it listens on, as given to --host. */
  host: string;
  /** TCP port it really listens on (never 0). */
  port: number;
  /** Epoch ms of the start. */
  started_at: number;
}

/** Where the latest `halyard serve` on this store listens. */
export interface ServerAddress {
  readonly publicUrl: string;
  readonly host: string;
  readonly port: number;
  /** Epoch ms. */
  readonly startedAt: number;
}

const table = (db: Kysely<Database>) => db.withTables<{ server_address: ServerAddressTable }>();

/** Records the address a starting server listens on (replacing the previous server's). */
export async function recordServerAddress(db: Kysely<Database>, a: ServerAddress): Promise<void> {
  const row = { public_url: a.publicUrl, host: a.host, port: a.port, started_at: a.startedAt };
  await table(db)
    .insertInto('server_address')
    .values({ id: 1, ...row })
    .onConflict((oc) => oc.column('id').doUpdateSet(row))
    .execute();
}

/** The address of the latest server that started on this store; undefined when none has. */
export async function serverAddress(db: Kysely<Database>): Promise<ServerAddress | undefined> {
  const r = await table(db).selectFrom('server_address').selectAll().where('id', '=', 1).executeTakeFirst();
  return r && { publicUrl: r.public_url, host: r.host, port: Number(r.port), startedAt: Number(r.started_at) };
}
