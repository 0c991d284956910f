import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { Settings } from '../config.ts';
import { HalyardError, errorMessage } from '../core/errors.ts';
import type { OptimizeListing } from '../report/optimize-runs.ts';
import { paramsOf, type RunParams } from '../report/run-files.ts';
import type { RunMeta } from '../report/run-meta.ts';
import { scanRuns, type RunListing } from '../report/runs.ts';
import { print } from './output.ts';
import { runsText } from './runs-text.ts';

/** The kinds of run `halyard runs` lists. */
export const RUN_KINDS = ['backtest', 'optimize', 'paper'] as const;

/** A kind of run: a backtest or optimisation folder under OUTPUT_PATH, or a paper run in the store. */
export type RunKind = (typeof RUN_KINDS)[number];

/** Who may see a folder's run on the server (run.json), and where the folder is. */
interface FolderInfo {
  /** Absolute path of the run folder. */
  readonly dir: string;
  readonly owner: string | null;
  readonly shared: boolean;
}

/** A paper run as listed: its settings, status and wallet. */
export interface PaperListing {
  /** The run's name (`--run`). */
  readonly id: string;
  readonly strategy: string;
  readonly params: RunParams;
  /** running, stopped, finished or failed. */
  readonly status: string;
  readonly stop_reason: string | null;
  readonly symbol: string;
  readonly timeframe: string;
  /** exchange:env the orders go to. */
  readonly target: string;
  /** live or replay. */
  readonly mode: string;
  /** Epoch ms. */
  readonly started_at: number;
  /** Open time (epoch ms) of the last base candle processed, null before the first. */
  readonly last_candle: number | null;
  readonly candles: number;
  readonly trades: number;
  /** Quote, null when the run has no wallet row. */
  readonly initial_balance: number | null;
  /** Equity at the latest close (quote). */
  readonly equity: number | null;
  /** Percent. */
  readonly return_pct: number | null;
}

/** One line of `halyard runs`: its kind and its listing. */
export type RunRow =
  | ({ readonly kind: 'backtest' } & RunListing & FolderInfo)
  | ({ readonly kind: 'optimize' } & OptimizeListing & FolderInfo)
  | ({ readonly kind: 'paper' } & PaperListing);

/** When a run was made (epoch ms; the list is newest first): its results or optimize.json written, a paper run started. */
export const runTime = (r: RunRow): number => (r.kind === 'paper' ? r.started_at : r.created_at);

/** The options of `halyard runs`. */
interface RunsOptions {
  readonly kind?: RunKind;
  readonly strategy?: string;
  readonly limit?: number;
  readonly json?: boolean;
}

/** A strategy name to compare: lower case, letters and digits only (so `sma-cross` matches `SmaCross`). */
const strategyKey = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function parseLimit(v: string): number {
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw new HalyardError('invalid_input', `--limit must be a whole number of runs from 1, got "${v}"`);
  return Number(v);
}

function folderInfo(outputDir: string, id: string, meta: RunMeta): FolderInfo {
  return { dir: join(resolve(outputDir), id), owner: meta.owner ?? null, shared: meta.shared === true };
}

/** The backtest and optimisation folders under `outputDir`; a folder that cannot be read is a warning line on stderr. */
async function folderRows(outputDir: string): Promise<RunRow[]> {
  const warn = (id: string, why: string): void => void process.stderr.write(`warning: skipped ${join(outputDir, id)}: ${why}\n`);
  const folders = await scanRuns(outputDir, warn);
  return folders.map((f): RunRow => {
    const info = folderInfo(outputDir, f.run.id, f.meta);
    return f.kind === 'backtest' ? { kind: 'backtest', ...f.run, ...info } : { kind: 'optimize', ...f.run, ...info };
  });
}

/** A paper run's parameters, from the settings it was started with (JSON); a config that is not JSON gives none, with a warning. */
function paperParams(id: string, config: string): RunParams {
  try {
    return paramsOf((JSON.parse(config) as { params?: unknown } | null)?.params);
  } catch {
    process.stderr.write(`warning: paper run ${id}: its stored settings are not valid JSON; listed without parameters\n`);
    return {};
  }
}

/**
 * The paper runs of the store the settings name. A SQLite file that does not exist has none (and is not
 * created); a store that cannot be opened fails when paper runs were asked for, else is a warning line.
 */
async function paperRows(s: Settings, asked: boolean): Promise<RunRow[]> {
  if (!s.DATABASE_URL && !existsSync(s.DATABASE_PATH)) return [];
  const [{ withStore }, { listPaperRuns }] = await Promise.all([import('./store.ts'), import('../store/paper-runs.ts')]);
  let rows: Awaited<ReturnType<typeof listPaperRuns>>;
  try {
    rows = await withStore(s, (st) => listPaperRuns(st.db));
  } catch (e) {
    if (asked) throw e;
    process.stderr.write(`warning: paper runs not listed: ${errorMessage(e)}\n`);
    return [];
  }
  return rows.map((r): RunRow => {
    const initial = r.initial_balance ?? null;
    const equity = r.equity ?? null;
    return {
      kind: 'paper',
      id: r.id,
      strategy: r.strategy,
      params: paperParams(r.id, r.config),
      status: r.status,
      stop_reason: r.stop_reason,
      symbol: r.symbol,
      timeframe: r.timeframe,
      target: r.target_key,
      mode: r.mode,
      started_at: r.started_at,
      last_candle: r.cursor_ts,
      candles: r.candles,
      trades: Number(r.trades ?? 0),
      initial_balance: initial,
      equity,
      return_pct: initial !== null && equity !== null && initial > 0 ? (equity / initial - 1) * 100 : null,
    };
  });
}

/** The runs `o` asks for, newest first, at most `o.limit`. */
export async function listAllRuns(s: Settings, o: RunsOptions): Promise<RunRow[]> {
  const wants = (k: RunKind): boolean => o.kind === undefined || o.kind === k;
  const rows = [
    ...(wants('backtest') || wants('optimize') ? await folderRows(s.OUTPUT_PATH) : []),
    ...(wants('paper') ? await paperRows(s, o.kind === 'paper') : []),
  ];
  const key = o.strategy === undefined ? undefined : strategyKey(o.strategy);
  const picked = rows.filter((r) => wants(r.kind) && (key === undefined || strategyKey(r.strategy) === key));
  picked.sort((a, b) => runTime(b) - runTime(a) || a.id.localeCompare(b.id));
  return o.limit === undefined ? picked : picked.slice(0, o.limit);
}

/** Registers `halyard runs`. */
export function registerRunsCommand(program: Command, settings: () => Settings): void {
  program
    .command('runs')
    .description('List backtest and optimisation runs (folders under OUTPUT_PATH) and paper runs (in the store), newest first, with their parameters')
    .addOption(new Option('--kind <kind>', 'only runs of this kind').choices(RUN_KINDS))
    .option('--strategy <name>', 'only runs of this strategy (case and punctuation ignored: sma-cross matches SmaCross)')
    .option('--limit <n>', 'at most this many runs, the newest', parseLimit)
    .option('--json', 'print the runs as a JSON array (epoch ms times)')
    .action(async (o: RunsOptions) => {
      const s = settings();
      const rows = await listAllRuns(s, o);
      const filter = [o.kind !== undefined ? `--kind ${o.kind}` : '', o.strategy !== undefined ? `--strategy ${o.strategy}` : ''].filter((f) => f !== '').join(' ');
      print(o.json ? JSON.stringify(rows, null, 2) : runsText(rows, { outputDir: s.OUTPUT_PATH, filter: filter === '' ? null : filter }));
    });
}
