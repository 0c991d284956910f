import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HalyardError } from '../core/errors.ts';
import type { StrategyClass } from './strategy.ts';

/** True when this module runs from the JavaScript build (dist/), false from the sources (tsx, vitest). */
const FROM_BUILD = !import.meta.url.endsWith('.ts');

function isStrategyClass(x: unknown): x is StrategyClass {
  return typeof x === 'function' && typeof (x as { prototype?: { onCandle?: unknown } }).prototype?.onCandle === 'function';
}

/**
 * Loads a strategy class from a .ts or .js file: its default export, or else its only exported class
 * with an `onCandle` method. From the build, a TypeScript strategy is compiled first (./compile.ts):
 * the CLI runs without a TypeScript loader.
 */
export async function loadStrategyFile(file: string): Promise<StrategyClass> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new HalyardError('invalid_input', `strategy file not found: ${file}`, { file });
  let url = pathToFileURL(abs).href;
  if (FROM_BUILD && /\.[cm]?tsx?$/.test(abs)) url = await (await import('./compile.ts')).compileStrategy(file, abs);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
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
