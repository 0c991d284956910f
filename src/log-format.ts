/** How log lines look: `pretty` (one human line each), `json` (one JSON object a line), `auto` (pretty on a terminal). */
export type LogFormat = 'auto' | 'pretty' | 'json';

/**
 * The format `auto` stands for here: pretty when stderr is a terminal, JSON otherwise (a pipe, a file).
 * Kept apart from log.ts so the CLI's error boundary can ask without loading pino.
 */
export function resolveLogFormat(format: LogFormat, isTTY: boolean = process.stderr.isTTY === true): 'pretty' | 'json' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}
