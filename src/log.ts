import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';
import { resolveLogFormat, type LogFormat } from './log-format.ts';

export { resolveLogFormat, type LogFormat } from './log-format.ts';

// pino-pretty loads only when a logger is pretty: JSON (pipes, files, benchmarks) does not pay for it.
const requireOnDemand = createRequire(import.meta.url);

/** What a logger is made from (the settings carry both). */
export interface LogSettings {
  readonly LOG_LEVEL: string;
  readonly LOG_FORMAT: LogFormat;
}

/**
 * Creates the logger of a command, writing to stderr (stdout stays for results), in one format only:
 * JSON lines, or human lines through pino-pretty used as a synchronous stream (not a worker transport,
 * so the lines are out before the process exits and tests see them). Colours only on a terminal without
 * NO_COLOR.
 */
export function createLogger(s: LogSettings): Logger {
  const format = resolveLogFormat(s.LOG_FORMAT);
  const options = { level: s.LOG_LEVEL, base: undefined };
  if (format === 'json') return pino(options, pino.destination({ fd: 2, sync: true }));
  const pretty = requireOnDemand('pino-pretty') as typeof import('pino-pretty');
  const stream: DestinationStream = pretty.build({
    destination: 2,
    sync: true,
    singleLine: true,
    colorize: process.stderr.isTTY === true && !process.env.NO_COLOR,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname',
  });
  return pino(options, stream);
}
