import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HalyardError } from '../core/errors.ts';
import type { StrategyClass } from './strategy.ts';

function isStrategyClass(x: unknown): x is StrategyClass {
  return typeof x === 'function' && typeof (x as { prototype?: { onCandle?: unknown } }).prototype?.onCandle === 'function';
}

/**
 * Loads a strategy class from a .ts or .js file: its default export, or else its only exported class
 * with an `onCandle` method.
 */
export async function loadStrategyFile(file: string): Promise<StrategyClass> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new HalyardError('invalid_input', `strategy file not found: ${file}`, { file });
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    throw new HalyardError('strategy_error', `cannot load ${file}: ${(e as Error).message}`, { file }, e);
  }
  if (isStrategyClass(mod.default)) return mod.default;
  const found = Object.values(mod).filter(isStrategyClass);
  if (found.length === 1) return found[0] as StrategyClass;
  throw new HalyardError(
    'strategy_error',
    found.length === 0 ? `${file} exports no strategy class (a class extending Strategy with onCandle)` : `${file} exports several strategy classes; export the one to run as default`,
    { file },
  );
}
