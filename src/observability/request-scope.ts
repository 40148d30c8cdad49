/**
 * What one HTTP request did at the database: the GraphQL operation name(s) for the slow-query
 * log, and the statements, rows and bytes for the request log and the metrics.
 *
 * Carried explicitly, not through AsyncLocalStorage: the request log binds the scope to its
 * Request, the context builder finds it there and hands the request's loaders and services a
 * database handle that counts into it (src/db/pool.ts `Db.scoped`). On Node 20 an active
 * AsyncLocalStorage runs promise hooks on every promise of the process, ~15 % of a small
 * request's CPU (measured under the benchmark's Q1, alternating rounds: 0.67 against 0.83 ms).
 */
export type RequestScope = {
  requestId: string;
  /** set when execution starts; several for a batch */
  operations: string[];
  statements: number;
  rows: number;
  bytes: number;
};

const scopes = new WeakMap<Request, RequestScope>();

export function newRequestScope(requestId: string): RequestScope {
  return { requestId, operations: [], statements: 0, rows: 0, bytes: 0 };
}

/** Makes `scope` the one of `request` (the request log does, as the request arrives). */
export function bindRequestScope(request: Request, scope: RequestScope): void {
  scopes.set(request, scope);
}

/** The scope bound to `request`, if any. */
export function requestScope(request: Request): RequestScope | undefined {
  return scopes.get(request);
}

/** The operation name(s) run in this scope so far (undefined before execution starts). */
export function operationNames(scope: RequestScope): string | undefined {
  return scope.operations.length ? scope.operations.join(',') : undefined;
}
