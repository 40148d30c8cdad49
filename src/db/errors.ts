/**
 * What the query module throws besides PostgreSQL's own errors (pg's DatabaseError, with its
 * SQLSTATE in `code`), and the SQLSTATE families the HTTP layer maps to error codes.
 */

/** `one`/`oneFirst` found no row. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly sql: string) {
    super('The query returned no row');
  }
}

/** `one`/`maybeOne`/`oneFirst` found more than one row. */
export class DataIntegrityError extends Error {
  override readonly name = 'DataIntegrityError';
  constructor(readonly sql: string) {
    super('The query returned more than one row');
  }
}

/** A row does not match its query's declared type (development and tests: `validateRows`). */
export class RowValidationError extends Error {
  override readonly name = 'RowValidationError';
  constructor(
    readonly sql: string,
    readonly issues: unknown,
  ) {
    super(`A row does not match its query's type: ${JSON.stringify(issues).slice(0, 500)}`);
  }
}

const sqlState = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** DB_STATEMENT_TIMEOUT_MS: PostgreSQL cancelled the statement (57014 query_canceled). */
export const isStatementTimeout = (error: unknown) => sqlState(error) === '57014';

/** A foreign key violation (23503) on `constraint`, when given. */
export function isForeignKeyViolation(error: unknown, constraintSuffix?: string): boolean {
  if (sqlState(error) !== '23503') return false;
  const constraint = (error as { constraint?: unknown }).constraint;
  return !constraintSuffix || (typeof constraint === 'string' && constraint.endsWith(constraintSuffix));
}

/**
 * The server or the connection is gone: connection exceptions (08…), the server shutting down or
 * terminating the backend (57P01–57P03), or the driver's own socket errors.
 */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  if (state) return state.startsWith('08') || ['57P01', '57P02', '57P03'].includes(state);
  return (
    error instanceof Error &&
    /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|pool (is being terminated|has ended)|Cannot use a pool after calling end/i.test(
      error.message,
    )
  );
}
