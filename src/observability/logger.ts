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

/** Buffered lines are written at least this often (LOG_BUFFER_BYTES). */
export const LOG_FLUSH_MS = 250;
/** sonic-boom writes at most 16 KB at once; a buffer must stay under it (LOG_BUFFER_BYTES' maximum). */
export const MAX_BUFFER_BYTES = 16_000;

/**
 * stdout, written in chunks of at least `bufferBytes` and at least every LOG_FLUSH_MS; a warning
 * or worse starts a write at once. Writes are asynchronous, as pino's own destination's: a slow
 * reader of a full pipe delays the log, never a request. At exit pino writes what is left
 * (its exit handler for asynchronous destinations). Without it (LOG_BUFFER_BYTES=0) pino's own
 * destination writes each line as it comes. Why: that is a write(2) (and, into a pipe, its
 * reader's wake-up) per request line; writing ~4 KB at a time cut ~4 % of a small request's CPU
 * (benchmark Q2, paired rounds). What a kill -9 (or the OOM killer) can lose: the info lines of
 * the last LOG_FLUSH_MS.
 */
function bufferedStdout(bufferBytes: number) {
  return pino.destination({
    dest: 1,
    sync: false,
    minLength: Math.min(bufferBytes, MAX_BUFFER_BYTES),
    periodicFlush: LOG_FLUSH_MS,
  });
}

/**
 * Creates the process logger. Secrets are redacted wherever they appear in a log object.
 * `format` 'pretty' (see logFormat) falls back to JSON when pino-pretty cannot be loaded.
 * `bufferBytes` (LOG_BUFFER_BYTES; 0: none) buffers JSON lines on stdout (`bufferedStdout`).
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  format: LogFormat = 'json',
  bufferBytes = 0,
) {
  const given = destination ?? (format === 'pretty' ? prettyStream() : undefined);
  const buffered = !given && bufferBytes > 0 ? bufferedStdout(bufferBytes) : undefined;
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
      ...(buffered && {
        hooks: {
          logMethod(args, method, levelValue) {
            method.apply(this, args);
            if (levelValue >= pino.levels.values.warn!) buffered.flush();
          },
        },
      }),
    },
    given ?? buffered,
  );
}

export type Logger = ReturnType<typeof createLogger>;
