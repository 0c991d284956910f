import { Command, CommanderError, Option } from 'commander';
import { loadSettings, type Settings } from '../config.ts';
import { resolveLogFormat, type LogFormat } from '../log.ts';
import { reportFailure } from './boundary.ts';
import { registerBacktestCommand } from './backtest.ts';
import { registerDataCommands } from './data.ts';
import { registerServeCommand } from './serve.ts';
import { registerTrackerCommands } from './tracker.ts';
import { registerEngineCommands } from './engines.ts';
import { registerTokenCommands } from './tokens.ts';
import { registerPaperCommand } from './paper.ts';

/** Builds the `halyard` program (exported for tests). */
export function buildProgram(settings: () => Settings): Command {
  const program = new Command('halyard')
    .description('Halyard: backtest, forward test and track crypto perpetual futures strategies')
    .version('0.1.0')
    .addOption(new Option('--verbose', 'on failure, print the full trace (otherwise it goes to a file the error line names)'))
    .addOption(new Option('--log-format <format>', 'log lines on stderr: pretty (human), json, or auto: pretty on a terminal, json otherwise (default: LOG_FORMAT)').choices(['auto', 'pretty', 'json']))
    .showHelpAfterError('(run with --help for usage)');
  registerBacktestCommand(program, settings);
  registerDataCommands(program, { cacheRoot: () => settings().CACHE_PATH });
  registerServeCommand(program, settings);
  registerTrackerCommands(program, settings);
  registerEngineCommands(program, settings);
  registerTokenCommands(program, settings);
  registerPaperCommand(program, settings);
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
  const program: Command = buildProgram((): Settings => (cached ??= withOptions(loadSettings(), program.opts<GlobalOptions>()))).exitOverride();
  const globals = (): GlobalOptions => ({ ...program.opts<GlobalOptions>(), verbose: program.opts<GlobalOptions>().verbose === true || argvVerbose(argv) });
  const fail = (e: unknown): number => reportFailure(e, { verbose: globals().verbose === true, format: failureFormat(globals(), cached), argv });
  const fatal = (e: unknown): void => {
    process.exit(fail(e));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
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
