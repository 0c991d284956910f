import type { Settings } from '../config.ts';
import { openStore, type Store } from '../store/db.ts';
import { recordServerAddress, serverAddress } from '../store/server-address.ts';

/** Opens the store the settings name (DATABASE_URL wins over DATABASE_PATH), runs migrations. */
export function storeFromSettings(s: Settings): Promise<Store> {
  return openStore(s.DATABASE_URL ? { url: s.DATABASE_URL } : { path: s.DATABASE_PATH });
}

/** Runs `fn` with an open store and always closes it. */
export async function withStore<T>(s: Settings, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await storeFromSettings(s);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Said under a printed webhook URL when no server has recorded its address in the store. */
export const NO_SERVER_NOTE = '(no server has run on this store yet; set PUBLIC_URL or start halyard serve)';

/**
 * The base URL the CLI prints webhook URLs with: PUBLIC_URL when set, else the address the latest
 * `halyard serve` on this store recorded when it started, else the default with NO_SERVER_NOTE as `note`.
 */
export async function webhookBase(s: Settings): Promise<{ readonly url: string; readonly note: string | null }> {
  if (s.PUBLIC_URL) return { url: s.PUBLIC_URL, note: null };
  const served = await withStore(s, (st) => serverAddress(st.db));
  return served ? { url: served.publicUrl, note: null } : { url: publicUrl(s), note: NO_SERVER_NOTE };
}

/** Writes a webhook base's note to stderr (stdout keeps only what the command prints for scripts). */
export function sayNote(base: { readonly note: string | null }): void {
  if (base.note) process.stderr.write(`${base.note}\n`);
}

/**
 * Records in the store where a server that just started listens (what `webhookBase` reads). A failure is
 * one warning line: the server runs on, and the CLI keeps printing the previous address.
 */
export async function rememberServerAddress(store: Store, s: Settings, host: string, port: number): Promise<void> {
  try {
    await recordServerAddress(store.db, { publicUrl: publicUrl(s, host, port), host, port, startedAt: Date.now() });
  } catch (e) {
    process.stderr.write(`warning: could not record the server's address in the store (${(e as Error).message}); the CLI prints webhook URLs with the previous one\n`);
  }
}

/** The base URL webhook links are printed with. */
export function publicUrl(s: Settings, host = '127.0.0.1', port = 8080): string {
  return s.PUBLIC_URL ?? `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
}
