import { AsyncLocalStorage } from 'node:async_hooks';

/** Carries the GraphQL operation name to the SQL interceptors (slow-query log). */
const scope = new AsyncLocalStorage<{ operationName?: string }>();

export function withQueryScope<T>(operationName: string | undefined, fn: () => T): T {
  return scope.run({ operationName }, fn);
}

export function currentOperationName(): string | undefined {
  return scope.getStore()?.operationName;
}
