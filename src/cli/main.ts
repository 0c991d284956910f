import { Command, CommanderError } from 'commander';
import { isHalyardError } from '../core/errors.ts';
import { loadSettings, type Settings } from '../config.ts';
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

/** Runs the CLI; prints HalyardErrors as one clear line and exits non-zero. */
export async function main(argv: readonly string[]): Promise<void> {
  let cached: Settings | undefined;
  const settings = (): Settings => (cached ??= loadSettings());
  const program = buildProgram(settings).exitOverride();
  try {
    await program.parseAsync(argv as string[]);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (isHalyardError(e)) {
      process.stderr.write(`error [${e.code}]: ${e.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}
