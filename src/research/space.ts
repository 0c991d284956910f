import { HalyardError } from '../core/errors.ts';
import type { ParamValue, Params } from '../strategy/strategy.ts';

/** Most combinations a space may hold (a range or a product past this is refused). */
export const MAX_COMBINATIONS = 1_000_000;

/**
 * How one parameter was given, as written back to optimize.json (and accepted by `--params-file`): a
 * range `"lo..hi:step"` (numbers, both ends inclusive), a list of values, or one fixed value.
 */
export type ParamSpec = string | readonly ParamValue[] | ParamValue;

/** One parameter's values, in the order they were given (ranges ascending). */
export interface ParamDimension {
  readonly name: string;
  readonly kind: 'number' | 'boolean' | 'string';
  /** The spec in the form optimize.json writes it (a range string, a typed list, or a typed value). */
  readonly spec: ParamSpec;
  readonly values: readonly ParamValue[];
}

/** A parameter space: the dimensions, in the order given, and how many combinations they make. */
export interface ParamSpace {
  readonly dims: readonly ParamDimension[];
  readonly size: number;
}

/** One combination: a value per dimension, keyed by parameter name in dimension order. */
export type Combination = Readonly<Record<string, ParamValue>>;

const bad = (msg: string, param?: string): HalyardError => new HalyardError('invalid_input', msg, param === undefined ? {} : { param });

/** Decimal places of a number as written (`0.25` → 2, `1e-3` → 3), so range steps add up without drift. */
function decimals(x: number): number {
  const s = String(x);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Number(e[1]) + (s.split('e')[0]!.split('.')[1]?.length ?? 0);
  return s.split('.')[1]?.length ?? 0;
}

/** Coerces one written value to the type of the parameter's default. */
function coerce(name: string, kind: ParamDimension['kind'], raw: ParamValue): ParamValue {
  if (kind === 'number') {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (!Number.isFinite(n)) throw bad(`parameter "${name}" must be a number, got "${String(raw)}"`, name);
    return n;
  }
  if (kind === 'boolean') {
    if (typeof raw === 'boolean') return raw;
    const v = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no'].includes(v)) return false;
    throw bad(`parameter "${name}" must be true or false, got "${String(raw)}"`, name);
  }
  if (typeof raw !== 'string') throw bad(`parameter "${name}" must be a string, got ${JSON.stringify(raw)}`, name);
  return raw;
}

/** The values of a range `lo..hi[:step]` (step 1 when left out), both ends included. */
function rangeValues(name: string, text: string): number[] {
  const m = /^\s*(-?[\d.]+(?:e-?\d+)?)\s*\.\.\s*(-?[\d.]+(?:e-?\d+)?)\s*(?::\s*(-?[\d.]+(?:e-?\d+)?))?\s*$/i.exec(text);
  if (!m) throw bad(`parameter "${name}": cannot read "${text}" as a range lo..hi:step (e.g. 10..100:5)`, name);
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  const step = m[3] === undefined ? 1 : Number(m[3]);
  if (![lo, hi, step].every(Number.isFinite)) throw bad(`parameter "${name}": the range "${text}" has a bound or step that is not a number`, name);
  if (!(step > 0)) throw bad(`parameter "${name}": the range step must be > 0, got ${step}`, name);
  if (lo > hi) throw bad(`parameter "${name}": the range starts above its end (${lo} > ${hi})`, name);
  const count = Math.floor((hi - lo) / step + 1e-9) + 1;
  if (count > MAX_COMBINATIONS) throw bad(`parameter "${name}": the range ${text} has ${count.toLocaleString('en-US')} values, more than ${MAX_COMBINATIONS.toLocaleString('en-US')}`, name);
  const places = Math.min(15, Math.max(decimals(lo), decimals(step)));
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(Number((lo + k * step).toFixed(places)));
  return out;
}

/** Distinct values, first occurrence kept. */
function unique(xs: readonly ParamValue[]): ParamValue[] {
  return [...new Set(xs)];
}

/** One dimension from a written spec (a CLI value string or a params-file JSON value). */
function dimension(name: string, defaults: Params, spec: unknown, fromCli: boolean): ParamDimension {
  if (!(name in defaults)) {
    const known = Object.keys(defaults);
    throw bad(`unknown parameter "${name}"; this strategy takes: ${known.join(', ') || '(none)'}`, name);
  }
  const def = defaults[name] as ParamValue;
  const kind = typeof def === 'number' ? 'number' : typeof def === 'boolean' ? 'boolean' : 'string';
  if (Array.isArray(spec)) {
    if (spec.length === 0) throw bad(`parameter "${name}": the list of values is empty`, name);
    const values = unique(spec.map((v: unknown) => coerce(name, kind, v as ParamValue)));
    return { name, kind, spec: values, values };
  }
  if (typeof spec === 'string' && kind === 'number' && spec.includes('..')) {
    return { name, kind, spec: spec.trim(), values: rangeValues(name, spec) };
  }
  if (typeof spec === 'string' && fromCli && kind !== 'string' && spec.includes(',')) {
    const values = unique(spec.split(',').map((v) => coerce(name, kind, v)));
    return { name, kind, spec: values, values };
  }
  if (typeof spec === 'string' && fromCli && kind === 'string' && spec.includes(',')) {
    const values = unique(spec.split(',').map((v) => v.trim()));
    return { name, kind, spec: values, values };
  }
  if (typeof spec !== 'string' && typeof spec !== 'number' && typeof spec !== 'boolean') {
    throw bad(`parameter "${name}": a spec is a range "lo..hi:step", a list or one value, got ${JSON.stringify(spec)}`, name);
  }
  const value = coerce(name, kind, typeof spec === 'string' && kind !== 'string' ? spec.trim() : spec);
  return { name, kind, spec: value, values: [value] };
}

/**
 * Builds a parameter space from `--param name=spec` strings (range `10..100:5`, list `100,200,300`, or one
 * value) and the entries of a params file (`{"fast": "10..100:5", "slow": [100, 200]}`), typed by the
 * strategy's defaults. Unknown names, a name given twice, bad values and spaces of more than
 * MAX_COMBINATIONS combinations are refused with one sentence.
 */
export function parseSpace(defaults: Params, cli: readonly string[], file: Readonly<Record<string, unknown>> = {}): ParamSpace {
  const dims: ParamDimension[] = [];
  const seen = new Set<string>();
  const add = (d: ParamDimension): void => {
    if (seen.has(d.name)) throw bad(`parameter "${d.name}" is given twice`, d.name);
    seen.add(d.name);
    dims.push(d);
  };
  for (const raw of cli) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw bad(`--param expects name=spec (a range 10..100:5, a list 1,2,3 or one value), got "${raw}"`);
    add(dimension(raw.slice(0, eq).trim(), defaults, raw.slice(eq + 1), true));
  }
  for (const [name, spec] of Object.entries(file)) add(dimension(name, defaults, spec, false));
  let size = 1;
  for (const d of dims) {
    size *= d.values.length;
    if (size > MAX_COMBINATIONS) throw bad(`the parameter space has more than ${MAX_COMBINATIONS.toLocaleString('en-US')} combinations; narrow a range or raise its step`);
  }
  return { dims, size };
}

/** The combination at `index` (0 … size − 1): the first dimension varies slowest, as nested loops would. */
export function combinationAt(space: ParamSpace, index: number): Combination {
  const out: Record<string, ParamValue> = {};
  const idx = indicesAt(space, index);
  space.dims.forEach((d, k) => (out[d.name] = d.values[idx[k] as number] as ParamValue));
  return out;
}

/** The value index of each dimension for combination `index` (first dimension slowest). */
export function indicesAt(space: ParamSpace, index: number): number[] {
  const out = new Array<number>(space.dims.length);
  let rest = index;
  for (let k = space.dims.length - 1; k >= 0; k--) {
    const n = space.dims[k]!.values.length;
    out[k] = rest % n;
    rest = Math.floor(rest / n);
  }
  return out;
}

/** The combination index of one value index per dimension (inverse of `indicesAt`). */
export function indexOf(space: ParamSpace, indices: readonly number[]): number {
  let index = 0;
  space.dims.forEach((d, k) => (index = index * d.values.length + (indices[k] as number)));
  return index;
}

/** The space as optimize.json records it: each parameter's spec, in dimension order. */
export function spaceSpecs(space: ParamSpace): Record<string, ParamSpec> {
  const out: Record<string, ParamSpec> = {};
  for (const d of space.dims) out[d.name] = d.spec;
  return out;
}
