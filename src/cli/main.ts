import { Command, CommanderError, Option } from 'commander';
import type { Settings } from '../config.ts';
import { resolveLogFormat, type LogFormat } from '../log-format.ts';
import { reportFailure } from './boundary.ts';

/** Adds one group of commands to the program. */
type Registrar = (program: Command, settings: () => Settings) => void;

/**
 * The command groups, in the order `--help` lists them: each is imported only when the command line
 * needs it, so `halyard --version` loads no store, engine or server module, and `halyard backtest` no
 * database driver.
 */
const GROUPS: readonly { readonly names: readonly string[]; readonly load: () => Promise<Registrar> }[] = [
  { names: ['backtest'], load: async () => (await import('./backtest.ts')).registerBacktestCommand },
  { names: ['optimize'], load: async () => (await import('./optimize.ts')).registerOptimizeCommand },
  {
    names: ['data'],
    load: async () => {
      const { registerDataCommands } = await import('./data.ts');
      return (program, settings) => registerDataCommands(program, { cacheRoot: () => settings().CACHE_PATH });
    },
  },
  { names: ['serve'], load: async () => (await import('./serve.ts')).registerServeCommand },
  { names: ['users', 'recorders', 'tracker'], load: async () => (await import('./tracker.ts')).registerTrackerCommands },
  { names: ['engines'], load: async () => (await import('./engines.ts')).registerEngineCommands },
  { names: ['tokens'], load: async () => (await import('./tokens.ts')).registerTokenCommands },
  { names: ['paper'], load: async () => (await import('./paper.ts')).registerPaperCommand },
  { names: ['db'], load: async () => (await import('./db.ts')).registerDbCommands },
  { names: ['strategies'], load: async () => (await import('./strategies.ts')).registerStrategiesCommand },
  { names: ['runs'], load: async () => (await import('./runs.ts')).registerRunsCommand },
];

/** The first word of the command line that is not a global option (undefined when there is none). */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1];
    if (a === '--log-format') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** Builds the `halyard` program and its global options, without commands (exported for tests). */
export function buildProgram(): Command {
  return new Command('halyard')
    .description('Halyard: backtest, forward test and track crypto perpetual futures strategies')
    .version('0.1.0')
    .addOption(new Option('--verbose', 'on failure, print the full trace (otherwise it goes to a file the error line names)'))
    .addOption(new Option('--log-format <format>', 'log lines on stderr: pretty (human), json, or auto: pretty on a terminal, json otherwise (default: LOG_FORMAT)').choices(['auto', 'pretty', 'json']))
    .showHelpAfterError('(run with --help for usage)');
}

/**
 * Adds the commands `argv` needs: the one group its command word names; none for a bare `--version`;
 * every group otherwise (help, a mistyped command, `help <command>`). The settings are read on first
 * use, with the global options that override them (`--log-format` over LOG_FORMAT).
 */
export async function addCommands(program: Command, argv: readonly string[], onSettings: (s: Settings) => void): Promise<Command> {
  const word = commandWord(argv);
  const named = GROUPS.find((g) => word !== undefined && g.names.includes(word));
  const bareVersion = word === undefined && (argv.includes('--version') || argv.includes('-V'));
  const groups = named ? [named] : bareVersion ? [] : GROUPS;
  if (groups.length === 0) return program;
  const { loadSettings } = await import('../config.ts');
  let cached: Settings | undefined;
  const settings = (): Settings => {
    if (!cached) onSettings((cached = withOptions(loadSettings(), program.opts<GlobalOptions>())));
    return cached;
  };
  for (const register of await Promise.all(groups.map((g) => g.load()))) register(program, settings);
  return program;
}

/** The global options, as parsed so far (an error may come before commander has seen them all). */
interface GlobalOptions {
  readonly verbose?: boolean;
  readonly logFormat?: LogFormat;
}

/** How the final error line is written: JSON when the log lines on stderr are JSON and not silenced, else a sentence. */
function failureFormat(o: GlobalOptions, s: Settings | undefined): 'text' | 'json' {
  const rawFormat = process.env.LOG_FORMAT?.toLowerCase();
  const format = o.logFormat ?? s?.LOG_FORMAT ?? (rawFormat === 'pretty' || rawFormat === 'json' ? rawFormat : 'auto');
  const level = s?.LOG_LEVEL ?? process.env.LOG_LEVEL?.toLowerCase() ?? 'info';
  return level !== 'silent' && resolveLogFormat(format) === 'json' ? 'json' : 'text';
}

/**
 * Runs the CLI behind one error boundary: a HalyardError or a known library error (a port in use, an
 * address not on this machine, a file, the network, a database URL) prints ONE line naming what to fix
 * and exits 2; anything else prints one line and the path of a file with the full trace (`--verbose`
 * prints it) and exits 1. Errors that escape a long-running command (an unhandled rejection, an uncaught
 * exception in a timer) go through the same boundary and end the process.
 */
export async function main(argv: readonly string[]): Promise<void> {
  let cached: Settings | undefined;
  const program = buildProgram().exitOverride();
  const globals = (): GlobalOptions => ({ ...program.opts<GlobalOptions>(), verbose: program.opts<GlobalOptions>().verbose === true || argvVerbose(argv) });
  const fail = (e: unknown): number => reportFailure(e, { verbose: globals().verbose === true, format: failureFormat(globals(), cached), argv });
  const fatal = (e: unknown): void => {
    process.exit(fail(e));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
    await addCommands(program, argv, (s) => (cached = s));
    await program.parseAsync(argv as string[]);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    process.exitCode = fail(e);
    // What failed may have left a timer or a socket open: the answer is out, so the process ends soon.
    setTimeout(() => process.exit(), 1_000).unref();
  }
}

/** The settings with the global options that override them (`--log-format` over LOG_FORMAT). */
function withOptions(s: Settings, o: GlobalOptions): Settings {
  return o.logFormat ? { ...s, LOG_FORMAT: o.logFormat } : s;
}

/** `--verbose` given anywhere before `--` (an error may come before commander has read it). */
function argvVerbose(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--verbose');
}
