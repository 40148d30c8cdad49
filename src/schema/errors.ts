import { createGraphQLError } from 'graphql-yoga';

/** The contract's `extensions.code` values used by this gateway. */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;

export function badUserInput(message: string, extra: Record<string, unknown> = {}) {
  return createGraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, ...extra } });
}

/** One message per type, whether the row is missing or belongs to someone else (ids cannot be probed). */
export function notFound(typeName: string) {
  return createGraphQLError(`${typeName} not found`, { extensions: { code: ErrorCode.NOT_FOUND } });
}

export function unauthenticated(message = 'Invalid or expired token') {
  return createGraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

/** A column the projection should have read is missing: a bug, reported as an internal error. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`projection did not read ${what}`);
  return value;
}
