import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HalyardError } from '../core/errors.ts';
import { USER_NAME } from '../core/user-name.ts';

/** The run's metadata file: who may see the run on the server. */
export const RUN_META_FILE = 'run.json';

/**
 * Who may see a run on the server (`run.json`): its owner (a user name) and/or everyone (`shared`). A run
 * with neither is listed to nobody: a run reaches the dashboard only when someone said whose it is.
 */
export interface RunMeta {
  /** The user name whose run this is. */
  readonly owner?: string;
  /** Listed to every user. */
  readonly shared?: boolean;
}

/** Checks a `--owner` value: a user name as `halyard users add` takes it. */
export function parseOwner(v: string): string {
  if (!USER_NAME.test(v)) throw new HalyardError('invalid_input', `--owner must be a user name (1-64 letters, digits or _.@-, starting with a letter or digit), got "${v}"`);
  return v;
}

/** The run.json text of `meta`, or null when it names no owner and does not share (no file is written). */
export function runMetaJson(meta: RunMeta): string | null {
  if (meta.owner === undefined && !meta.shared) return null;
  const body = { ...(meta.owner !== undefined ? { owner: parseOwner(meta.owner) } : {}), ...(meta.shared ? { shared: true } : {}) };
  return `${JSON.stringify(body, null, 2)}\n`;
}

/** A run folder's run.json (owner, shared); a missing or unreadable one says nothing (the run is nobody's). */
export async function readRunMeta(dir: string): Promise<RunMeta> {
  try {
    const m = JSON.parse(await readFile(join(dir, RUN_META_FILE), 'utf8')) as unknown;
    if (typeof m !== 'object' || m === null) return {};
    const { owner, shared } = m as Record<string, unknown>;
    return { ...(typeof owner === 'string' ? { owner } : {}), ...(shared === true ? { shared: true } : {}) };
  } catch {
    return {};
  }
}

/** Whether `viewer` (a user name) may see a run: the run is theirs or shared. */
export function visibleTo(meta: RunMeta, viewer: string): boolean {
  return meta.shared === true || (meta.owner !== undefined && meta.owner === viewer);
}
