import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { ParamValue } from '../strategy/strategy.ts';
import { print, table } from './output.ts';

/** One parameter of a strategy: its name, the type `--param` coerces to, and its default. */
export interface StrategyParam {
  readonly name: string;
  readonly type: 'number' | 'string' | 'boolean';
  readonly default: ParamValue;
}

/** A strategy file as `halyard strategies` lists it: what it declares, or one sentence saying why it does not load. */
export type StrategyListing =
  | {
      readonly file: string;
      /** The class name. */
      readonly class: string;
      /** The name runs record (`strategy.name`: the class name unless the class says otherwise). */
      readonly name: string;
      /** Timeframes it reads; the first is the base the loop walks. */
      readonly timeframes: readonly string[];
      readonly positionMode: string;
      /** In the order the defaults declare them. */
      readonly params: readonly StrategyParam[];
    }
  | { readonly file: string; readonly error: string };

/** The folder listed when none is named. */
const DEFAULT_DIR = 'strategies';

/** A file a folder is scanned for: TypeScript or JavaScript modules, not declarations nor tests. */
const STRATEGY_FILE = /\.[cm]?[jt]s$/;
const NOT_STRATEGY = /\.d\.[cm]?ts$|\.(test|spec)\.[cm]?[jt]s$/;

/** The strategy files of the paths named (none: ./strategies): a file as is, a folder's modules (not its subfolders) by name. */
async function strategyFiles(named: readonly string[]): Promise<string[]> {
  const paths = named.length > 0 ? named : [DEFAULT_DIR];
  const files: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => null);
    if (st === null) {
      throw new HalyardError('invalid_input', named.length === 0 ? `there is no ${DEFAULT_DIR}/ folder here; name the folders or files to list: halyard strategies <dir|file>…` : `no such file or folder: ${p}`, { path: p });
    }
    if (!st.isDirectory()) {
      files.push(p);
      continue;
    }
    const names = (await readdir(p)).filter((n) => STRATEGY_FILE.test(n) && !NOT_STRATEGY.test(n)).sort();
    for (const n of names) {
      const file = join(p, n);
      if ((await stat(file).catch(() => null))?.isFile()) files.push(file);
    }
  }
  return files;
}

/** An error's message as one line: its first, with a compiler's "Transform failed with 1 error:" joined to the error it introduces. */
function oneSentence(e: unknown): string {
  const msg = errorMessage(e).replace(/Transform failed with \d+ errors?:\s*/g, '');
  return msg.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'unknown error';
}

/** Loads one file and reads what its strategy declares; a failure is the listing's `error`. */
async function describe(file: string): Promise<StrategyListing> {
  const { loadStrategyFile } = await import('../strategy/load.ts');
  try {
    const Cls = await loadStrategyFile(file);
    let s: InstanceType<typeof Cls>;
    try {
      s = new Cls();
    } catch (e) {
      return { file, error: `${Cls.name} throws when built with its defaults: ${oneSentence(e)}` };
    }
    if (!Array.isArray(s.timeframes) || s.timeframes.length === 0) return { file, error: `${Cls.name} declares no timeframes (does it extend Strategy?)` };
    const params = Object.entries(Cls.defaults ?? {}).map(([name, d]): StrategyParam => ({ name, type: typeof d as StrategyParam['type'], default: d }));
    return { file, class: Cls.name, name: s.name, timeframes: [...s.timeframes], positionMode: s.positionMode, params };
  } catch (e) {
    return { file, error: oneSentence(e) };
  }
}

/** A default as `--param` takes it (a string in JSON quotes, so an empty one shows). */
const shown = (v: ParamValue): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** The listing as text: per file, its class, timeframes, position mode and a table of parameters. */
function text(list: readonly StrategyListing[]): string {
  return list
    .map((s) => {
      if ('error' in s) return `${s.file}\n  ${s.error}`;
      const head = `${s.file}\n  ${s.class}${s.name !== s.class ? ` (runs as ${s.name})` : ''} · timeframes ${s.timeframes.join(', ')} · ${s.positionMode}`;
      if (s.params.length === 0) return `${head}\n  no parameters`;
      const rows = table(['param', 'type', 'default'], s.params.map((p) => [p.name, p.type, shown(p.default)]), new Set());
      return `${head}\n${rows.replace(/^/gm, '  ')}`;
    })
    .join('\n\n');
}

/** Registers `halyard strategies`. */
export function registerStrategiesCommand(program: Command): void {
  program
    .command('strategies')
    .description('List the strategy files that load, with their class, timeframes, position mode and parameters (a file that does not load says why)')
    .argument('[paths...]', `folders (their .ts/.js files) or files to list (default: ./${DEFAULT_DIR})`)
    .option('--json', 'print the list as a JSON array')
    .action(async (paths: string[], o: { json?: boolean }) => {
      const files = await strategyFiles(paths);
      const list: StrategyListing[] = [];
      for (const f of files) list.push(await describe(f));
      if (o.json) return print(JSON.stringify(list, null, 2));
      print(list.length === 0 ? `no strategy files (.ts or .js) in ${paths.length > 0 ? paths.join(', ') : DEFAULT_DIR}` : text(list));
    });
}
