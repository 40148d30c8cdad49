/**
 * Error codes and the constructors of expected errors, in one home below every layer: auth,
 * HTTP and the schema import it, and it imports nothing from src/ (test/layering.test.ts).
 */
import { createGraphQLError } from 'graphql-yoga';

/** Every `extensions.code` this gateway sends (docs/contract.md, "Error codes"). */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  DEPTH_LIMIT_EXCEEDED: 'DEPTH_LIMIT_EXCEEDED',
  COST_LIMIT_EXCEEDED: 'COST_LIMIT_EXCEEDED',
  ALIAS_LIMIT_EXCEEDED: 'ALIAS_LIMIT_EXCEEDED',
  DIRECTIVE_LIMIT_EXCEEDED: 'DIRECTIVE_LIMIT_EXCEEDED',
  QUERY_TOO_LARGE: 'QUERY_TOO_LARGE',
  BATCH_LIMIT_EXCEEDED: 'BATCH_LIMIT_EXCEEDED',
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_REQUIRED: 'PERSISTED_QUERY_REQUIRED',
  OVERLOADED: 'OVERLOADED',
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

/** A bad credential: HTTP 401 (the original frontend signs out on any 401). */
export function unauthenticated(message = 'Invalid or expired token') {
  return createGraphQLError(message, { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

/** A field that needs a signed-in user, asked anonymously (no credential was wrong: no 401). */
export function authenticationRequired() {
  return createGraphQLError('Sign in to use this field (Authorization: Bearer <token>)', {
    extensions: { code: ErrorCode.UNAUTHENTICATED },
  });
}

/** Too many attempts: HTTP 429 with Retry-After, and the wait in `extensions.retryAfter` (seconds). */
export function rateLimited(retryAfterMs: number, what = 'failed attempts') {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return createGraphQLError(`Too many ${what}; try again in ${seconds} s`, {
    extensions: {
      code: ErrorCode.RATE_LIMITED,
      retryAfter: seconds,
      http: { status: 429, headers: { 'Retry-After': String(seconds) } },
    },
  });
}

/** Too much work queued for this kind of request: HTTP 503 with Retry-After, as the request limiter answers. */
export function overloaded(message: string, retryAfterSeconds: number) {
  return createGraphQLError(message, {
    extensions: {
      code: ErrorCode.OVERLOADED,
      retryAfter: retryAfterSeconds,
      http: { status: 503, headers: { 'Retry-After': String(retryAfterSeconds) } },
    },
  });
}
