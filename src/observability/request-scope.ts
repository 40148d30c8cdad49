import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one HTTP request did at the database, carried to the SQL interceptors through
 * AsyncLocalStorage: the GraphQL operation name(s) for the slow-query log, and the
 * statements, rows and bytes for the request log and the metrics.
 */
export type RequestScope = {
  requestId: string;
  /** set when execution starts; several for a batch */
  operations: string[];
  statements: number;
  rows: number;
  bytes: number;
};

const scope = new AsyncLocalStorage<RequestScope>();

export function newRequestScope(requestId: string): RequestScope {
  return { requestId, operations: [], statements: 0, rows: 0, bytes: 0 };
}

export function withRequestScope<T>(store: RequestScope, fn: () => T): T {
  return scope.run(store, fn);
}

export function currentScope(): RequestScope | undefined {
  return scope.getStore();
}

/** The operation name(s) of the request this code runs for (undefined outside a request). */
export function currentOperationName(): string | undefined {
  const ops = scope.getStore()?.operations;
  return ops?.length ? ops.join(',') : undefined;
}
