import { pino, type Logger } from 'pino';

/** Creates the structured logger (JSON lines to stderr, so stdout stays for results). */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined }, pino.destination(2));
}
