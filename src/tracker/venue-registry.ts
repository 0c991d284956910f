import type { Kysely } from 'kysely';
import { HalyardError } from '../core/errors.ts';
import type { Clock } from '../core/ports.ts';
import type { Venue } from '../core/venue.ts';
import { createCcxtVenue } from '../exchange/ccxt/index.ts';
import { SimVenue, type SimVenueOptions } from '../exchange/sim/index.ts';
import { parseTargetKey, type Target } from '../exchange/targets.ts';
import { credentialsFor, type Credentials } from '../store/accounts.ts';
import type { Database } from '../store/schema.ts';
import type { SecretBox } from '../store/secrets.ts';
import { restoreSimVenue } from './sim-restore.ts';

/** Opens the venue of a user's target. */
export type VenueOpener = (userId: number, target: Target) => Promise<Venue>;

/** Opens a ccxt venue for a target with the user's credentials. */
export type CcxtOpener = (target: Target, credentials: Credentials) => Promise<Venue>;

/**
 * Opens ccxt venues at the exchanges' own endpoints (demo / testnet for paper, mainnet for live), or at
 * the base URL `urlOverrideOf` names for an exchange (a proxy, or a local stub in tests).
 */
export function ccxtOpener(urlOverrideOf: (exchange: string) => string | undefined = () => undefined): CcxtOpener {
  return async (target, credentials) => {
    const urlOverride = urlOverrideOf(target.exchange);
    return createCcxtVenue({ exchange: target.exchange, env: target.env, credentials, ...(urlOverride ? { urlOverride } : {}) });
  };
}

/** One venue per user and target, opened on first use and kept (a failed open is retried next time). */
export class VenueRegistry {
  private readonly venues = new Map<string, Promise<Venue>>();
  /** Venues that finished opening, for a look without waiting. */
  private readonly ready = new Map<string, Venue>();
  /** A reopen waits for this (writes made with the dropped venue settle first). */
  private readonly gates = new Map<string, Promise<unknown>>();

  constructor(private readonly open: VenueOpener) {}

  /** The venue of `targetKey` for `userId`. */
  get(userId: number, targetKey: string): Promise<Venue> {
    const target = parseTargetKey(targetKey);
    const key = `${userId}|${target.key}`;
    let v = this.venues.get(key);
    if (!v) {
      const gate = this.gates.get(key);
      const opened = gate ? gate.then(() => this.open(userId, target)) : this.open(userId, target);
      v = opened.then((x) => {
        if (this.venues.get(key) === v) this.ready.set(key, x);
        return x;
      });
      this.venues.set(key, v);
      v.catch(() => {
        if (this.venues.get(key) === v) this.venues.delete(key);
      });
    }
    return v;
  }

  /** The venue of `targetKey` for `userId` if it is open now (undefined while it opens or after it was dropped). */
  peek(userId: number, targetKey: string): Venue | undefined {
    return this.ready.get(`${userId}|${parseTargetKey(targetKey).key}`);
  }

  /**
   * Drops a cached venue (after the user's account for the target changed, or after a transaction that
   * moved a simulated exchange rolled back); the next `get` opens it anew once `settled` has.
   */
  async forget(userId: number, targetKey: string, settled?: Promise<unknown>): Promise<void> {
    const key = `${userId}|${parseTargetKey(targetKey).key}`;
    const v = this.venues.get(key);
    this.venues.delete(key);
    this.ready.delete(key);
    if (settled) {
      const gate = settled.catch(() => undefined);
      this.gates.set(key, gate);
      void gate.then(() => {
        if (this.gates.get(key) === gate) this.gates.delete(key);
      });
    }
    if (v) await v.then((x) => x.close()).catch(() => undefined);
  }

  /** Closes every open venue. */
  async closeAll(): Promise<void> {
    const all = [...this.venues.values()];
    this.venues.clear();
    this.ready.clear();
    await Promise.all(all.map((v) => v.then((x) => x.close()).catch(() => undefined)));
  }
}

/**
 * The server's venues: `sim:*` is an in-process simulated exchange per user (filling at the prices the
 * signals carry); every other target is a ccxt venue opened with the user's stored credentials.
 */
export function serverVenueOpener(deps: {
  db: Kysely<Database>;
  box: SecretBox | null;
  clock: Clock;
  openCcxt: CcxtOpener | null;
  /** Account settings of the simulated exchange (balance, leverage, fees). */
  sim?: Omit<SimVenueOptions, 'clock' | 'target'>;
}): VenueOpener {
  return async (userId, target) => {
    if (target.exchange === 'sim') {
      const sim = new SimVenue({ ...deps.sim, clock: deps.clock, target: target.key });
      await restoreSimVenue(deps.db, userId, target.key, sim);
      return sim;
    }
    if (!deps.box) throw new HalyardError('invalid_config', `${target.key} needs exchange credentials, and the server has no ENCRYPTION_KEY to read them`);
    const creds = await credentialsFor(deps.db, deps.box, userId, target.key);
    if (!creds) throw new HalyardError('invalid_config', `no account for ${target.key}: add the exchange's API key with POST /api/accounts`, { target: target.key });
    if (!deps.openCcxt) throw new HalyardError('invalid_config', `no exchange adapter is configured for ${target.key}`);
    return deps.openCcxt(target, creds);
  };
}
