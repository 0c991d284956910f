/** What made the server look at a target's exchange account. */
export type RefreshTrigger = 'event' | 'poll' | 'scheduled' | 'monitor' | 'manual';

/**
 * Snapshots one user's target on its exchange and reconciles the ledger against it. The engine-event
 * processor calls it after recording an engine's position; the monitor loop calls it on its interval.
 */
export interface TargetRefresher {
  /** Resolves when the snapshot and reconciliation are stored; rejects if the snapshot failed. */
  refresh(userId: number, targetKey: string, trigger: RefreshTrigger): Promise<void>;
}
