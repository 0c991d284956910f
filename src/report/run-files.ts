import { readFile, stat } from 'node:fs/promises';

/** A parameter value as a run records it. */
export type RunParamValue = number | string | boolean;

/** A run's parameters, keys in code-point order. */
export type RunParams = Readonly<Record<string, RunParamValue>>;

/** A JSON file of a run folder: its value and when it was written, or why it cannot be read. */
export type JsonFile = { readonly ok: true; readonly value: unknown; readonly mtimeMs: number } | { readonly ok: false; readonly why: string };

/** Reads and parses a JSON file; null when it does not exist (anything else that fails is a reason, not a throw). */
export async function readJsonFile(file: string): Promise<JsonFile | null> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    return { ok: false, why: `cannot be read (${code ?? (e as Error).message})` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown, mtimeMs };
  } catch (e) {
    return { ok: false, why: `is not valid JSON (${(e as Error).message.split('\n')[0]})` };
  }
}

/** The object `v`, or null when it is not a plain JSON object. */
export function objectOf(v: unknown): Readonly<Record<string, unknown>> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A finite number, or null. */
export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The parameters of a run file, keys sorted: only numbers, strings and booleans are kept (a hand-edited file
 * holding anything else cannot break the listing or the API's schema).
 */
export function paramsOf(v: unknown): RunParams {
  const o = objectOf(v);
  const out: Record<string, RunParamValue> = {};
  if (!o) return out;
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (typeof x === 'string' || typeof x === 'boolean' || finite(x) !== null) out[k] = x as RunParamValue;
  }
  return out;
}
