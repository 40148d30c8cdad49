import { PothosValidationError } from '@pothos/core';
import { GraphQLError } from 'graphql';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { GateFullError, GateTimeoutError } from '../backpressure/gate.ts';
import { isConnectionFailure, isForeignKeyViolation, isStatementTimeout } from '../db/errors.ts';
import { inputSqlState } from '../db/input-errors.ts';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';

function isDatabaseUnavailable(error: unknown): boolean {
  return error instanceof GateTimeoutError || error instanceof GateFullError || isConnectionFailure(error);
}

/** By name, not `instanceof`: a second copy of graphql-js (bundlers, test runners) must not unmask errors. */
function isGraphQLError(value: unknown): value is GraphQLError {
  return value instanceof Error && value.name === 'GraphQLError';
}

/**
 * Yoga's `maskError`: expected errors (ours, with a code) pass; known failures get
 * a code of src/errors.ts; everything else becomes "Unexpected error." with no stack,
 * SQL or message of the original, which is logged instead.
 */
export function createMaskError(log: Logger) {
  return (error: unknown, message: string): Error => {
    const original = isGraphQLError(error) && error.originalError ? error.originalError : error;
    if (isGraphQLError(original) && original.extensions?.code) {
      return isGraphQLError(error) ? error : original;
    }
    // A GraphQLError of its own (no original) is about the request: variable coercion and the like.
    if (isGraphQLError(error) && !error.originalError) return withCode(error);
    const path = isGraphQLError(error) ? error.path : undefined;
    if (original instanceof PothosValidationError) {
      return createGraphQLError(original.message, { path, extensions: { code: ErrorCode.BAD_USER_INPUT } });
    }
    // A valid token of a deleted account: its writes reference a user that is gone.
    if (isForeignKeyViolation(original, '_user_id_fkey')) {
      return createGraphQLError('The account of this token no longer exists', {
        path,
        extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
      });
    }
    // DB_STATEMENT_TIMEOUT_MS: PostgreSQL cancelled the statement. Retryable, like an outage.
    if (isStatementTimeout(original)) {
      log.warn({ err: original, path }, 'statement timeout');
      return createGraphQLError('The database did not answer in time; try again shortly', {
        path,
        extensions: { code: ErrorCode.DATABASE_UNAVAILABLE, http: { status: 503 } },
      });
    }
    // A value the argument rules (src/schema/validation.ts) let through and PostgreSQL refused:
    // still the client's bad input. A field error: no HTTP status of its own.
    const sqlState = inputSqlState(original);
    if (sqlState) {
      log.warn({ sqlState, path }, 'argument refused by PostgreSQL');
      return createGraphQLError('An argument is not a value the database accepts (check text and numbers)', {
        path,
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      });
    }
    if (isDatabaseUnavailable(original)) {
      log.warn({ err: original }, 'database unavailable');
      return createGraphQLError('The database is unavailable; try again shortly', {
        path,
        extensions: { code: ErrorCode.DATABASE_UNAVAILABLE, http: { status: 503 } },
      });
    }
    log.error({ err: original, path }, 'unexpected error');
    return createGraphQLError(message, { path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
  };
}

/**
 * Gives every error a code. Errors that reach here without one come from the request
 * document itself (syntax, validation, variable coercion such as an unknown enum value).
 */
const OWN_CODES = new Set<string>(Object.values(ErrorCode));

/** Yoga's codes that have a counterpart in src/errors.ts; any other foreign code becomes BAD_USER_INPUT. */
const FOREIGN_CODES: Record<string, string> = { REQUEST_ENTITY_TOO_LARGE: ErrorCode.QUERY_TOO_LARGE };

/** The error with a code of src/errors.ts: a missing or foreign one (Yoga's GRAPHQL_PARSE_FAILED…) becomes BAD_USER_INPUT. */
function withCode(e: GraphQLError): GraphQLError {
  return OWN_CODES.has(String(e.extensions?.code))
    ? e
    : new GraphQLError(e.message, {
        nodes: e.nodes,
        source: e.source,
        positions: e.positions,
        path: e.path,
        originalError: e.originalError,
        extensions: { ...e.extensions, code: FOREIGN_CODES[String(e.extensions?.code)] ?? ErrorCode.BAD_USER_INPUT },
      });
}

/** Refusals of the document by a query limit (src/http/limits.ts): HTTP 400 under either media type. */
const DOCUMENT_LIMIT_CODES = new Set<string>([
  ErrorCode.QUERY_TOO_LARGE,
  ErrorCode.DEPTH_LIMIT_EXCEEDED,
  ErrorCode.ALIAS_LIMIT_EXCEEDED,
  ErrorCode.DIRECTIVE_LIMIT_EXCEEDED,
  ErrorCode.COST_LIMIT_EXCEEDED,
  ErrorCode.BATCH_LIMIT_EXCEEDED,
]);

type HttpExtension = { status?: number; headers?: Record<string, string>; spec?: boolean };

function withHttp(e: GraphQLError, http: HttpExtension | undefined, originalError = e.originalError): GraphQLError {
  const { http: _old, ...extensions } = (e.extensions ?? {}) as { http?: HttpExtension };
  return new GraphQLError(e.message, {
    nodes: e.nodes,
    source: e.source,
    positions: e.positions,
    path: e.path,
    originalError,
    extensions: http ? { ...extensions, http } : extensions,
  });
}

/**
 * The HTTP status an error asks for, as the GraphQL-over-HTTP specification has it (Yoga
 * picks the response's status from the errors' `extensions.http`; `spec: true` means "only
 * under application/graphql-response+json", application/json answering 200):
 * - `data` present and not null (a field failed, the others answered): no error sets the
 *   status, so 200; headers such as Retry-After stay. A database outage is 503 only when no
 *   data could be produced.
 * - a document limit: 400 under both (Yoga marks parse-time refusals, the token limit, `spec`).
 * Variable coercion errors get theirs when execution ends (`coercionStatus`).
 */
function specStatus(e: GraphQLError, data: 'none' | 'null' | 'present'): GraphQLError {
  const http = e.extensions?.http as HttpExtension | undefined;
  if (data === 'present') {
    if (!http?.status) return e;
    return withHttp(e, http.headers ? { headers: http.headers } : undefined);
  }
  // A status of its own (413 for a body over MAX_BODY_BYTES) stays.
  if (DOCUMENT_LIMIT_CODES.has(String(e.extensions?.code)) && (http?.spec || !http?.status)) {
    return withHttp(e, { ...http, status: http?.status ?? 400, spec: false });
  }
  return e;
}

/**
 * An execution result with no `data` holds request errors: variables that do not coerce (a
 * wrong type, a missing required one). 400 under application/graphql-response+json and 200
 * under application/json, whichever executor ran (graphql-jit's carry no status, graphql-js's
 * a plain 400 for both media types).
 */
function coercionStatus(e: GraphQLError): GraphQLError {
  const http = e.extensions?.http as HttpExtension | undefined;
  const code = e.extensions?.code;
  if (e.path || (code && code !== ErrorCode.BAD_USER_INPUT) || (http?.status && http.status !== 400)) return e;
  // The value's own complaint (a scalar's parse error) is part of the message, not a failure to mask.
  return withHttp(
    e,
    { ...http, status: 400, spec: true },
    isGraphQLError(e.originalError) ? undefined : e.originalError,
  );
}

type Result = { data?: unknown; errors?: readonly GraphQLError[] };

/** The result as clients get it: every error with its code and its spec status (the plugin's onResultProcess). */
export function codedResult(result: Result): Result {
  if (!result.errors?.length) return result;
  const data = !('data' in result) ? 'none' : result.data === null ? 'null' : 'present';
  return { ...result, errors: result.errors.map((e) => specStatus(withCode(e), data)) };
}

const isResult = (r: unknown): r is Result => !!r && typeof r === 'object' && 'errors' in r;

export function useErrorCodes(): Plugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || 'data' in result || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map(coercionStatus) });
        },
      };
    },
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) {
        if (result.some(isResult)) setResult(result.map((r) => (isResult(r) ? codedResult(r) : r)));
        return;
      }
      if (isResult(result)) setResult(codedResult(result) as typeof result);
    },
  };
}
