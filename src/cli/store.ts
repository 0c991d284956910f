import type { Settings } from '../config.ts';
import { openStore, type Store } from '../store/db.ts';

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

/** The base URL webhook links are printed with. */
export function publicUrl(s: Settings, host = '127.0.0.1', port = 8080): string {
  return s.PUBLIC_URL ?? `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
}
