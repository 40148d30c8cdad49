import { createRequire } from 'node:module';
import pino from 'pino';

export type LogFormat = 'pretty' | 'json';

/**
 * Readable lines for a person at a terminal in development; JSON lines everywhere else
 * (production, pipes, files, log collectors), which is what tools parse.
 */
export function logFormat(opts: { production: boolean; isTTY: boolean }): LogFormat {
  return !opts.production && opts.isTTY ? 'pretty' : 'json';
}

/**
 * pino-pretty as a stream on stdout (in-process, synchronous: no worker thread), or undefined
 * when it is not installed: it is a devDependency, absent from a production image.
 */
function prettyStream(): pino.DestinationStream | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pretty = require('pino-pretty') as (options: Record<string, unknown>) => pino.DestinationStream;
    // Colours as the terminal supports them (pino-pretty's default; NO_COLOR turns them off).
    return pretty({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true });
  } catch {
    return undefined;
  }
}

/**
 * Creates the process logger. Secrets are redacted wherever they appear in a log object.
 * `format` 'pretty' (see logFormat) falls back to JSON when pino-pretty cannot be loaded.
 */
export function createLogger(level: string, destination?: pino.DestinationStream, format: LogFormat = 'json') {
  return pino(
    {
      level,
      redact: {
        paths: [
          'password',
          '*.password',
          '*.*.password',
          'password_hash',
          '*.password_hash',
          'variables.input.password',
          '*.variables.input.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? (format === 'pretty' ? prettyStream() : undefined),
  );
}

export type Logger = ReturnType<typeof createLogger>;
