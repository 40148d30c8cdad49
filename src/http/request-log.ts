/**
 * One log line per GraphQL request (pino, JSON): request id, operation name(s), HTTP
 * status, duration, and what it cost at the database (statements, rows, bytes). The
 * request id is the caller's `x-request-id` when it looks like one, else a new UUID,
 * and is returned in the response's `x-request-id`. Health, readiness and metrics
 * requests log at debug only. Headers are never logged (Authorization stays out).
 * The same scope feeds `tastematch_sql_statements_per_request`.
 */
import { randomUUID } from 'node:crypto';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../observability/logger.ts';
import { sqlStatementsPerRequest } from '../observability/metrics.ts';
import { bindRequestScope, newRequestScope, type RequestScope, requestScope } from '../observability/request-scope.ts';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** The request log's plugin, and its two ends for requests served below Yoga's hooks (src/http/direct-post.ts). */
export type RequestLog = {
  plugin: Plugin;
  /** As a request arrives (`at`: when, if earlier): its scope (the GraphQL endpoint's is bound to the request, for the context). */
  start(request: Request, path: string, at?: bigint): void;
  /** As its answer is ready: the log line; returns the request id for the `x-request-id` header. */
  finish(request: Request, status: number): string | undefined;
};

export function createRequestLog(log: Logger, graphqlEndpoint: string): RequestLog {
  // The line's fields are fixed here and never hold a secret, so it skips the logger's
  // wildcard redaction, which cost ~20 µs a line (~2 % of a small request's CPU).
  const lines = log.child({}, { redact: { paths: [] } });
  const started = new WeakMap<Request, { at: bigint; scope: RequestScope; path: string }>();
  const start = (request: Request, path: string, at = process.hrtime.bigint()) => {
    const given = request.headers.get('x-request-id');
    const scope = newRequestScope(given && REQUEST_ID.test(given) ? given : randomUUID());
    started.set(request, { at, scope, path });
    // The context builder finds it there (src/context.ts): the request's database handle counts into it.
    if (path === graphqlEndpoint) bindRequestScope(request, scope);
  };
  const finish = (request: Request, status: number) => {
    const s = started.get(request);
    if (!s) return undefined;
    const graphql = s.path === graphqlEndpoint;
    if (!graphql && !lines.isLevelEnabled('debug')) return s.scope.requestId;
    const ms = Math.round(Number(process.hrtime.bigint() - s.at) / 1e5) / 10;
    if (!graphql) {
      lines.debug({ reqId: s.scope.requestId, method: request.method, path: s.path, status, ms }, 'request');
      return s.scope.requestId;
    }
    const { scope } = s;
    sqlStatementsPerRequest.observe(scope.statements);
    // One object, its fields in the line's order (a spread of a shared part made a second one per request).
    lines.info(
      {
        reqId: scope.requestId,
        method: request.method,
        path: s.path,
        status,
        ms,
        operation: scope.operations.join(',') || undefined,
        statements: scope.statements,
        rows: scope.rows,
        bytes: scope.bytes,
      },
      'graphql request',
    );
    return scope.requestId;
  };
  const plugin: Plugin = {
    onRequest({ request, url }) {
      start(request, url.pathname);
    },
    onExecute({ args }) {
      // The operation actually run (a single named operation needs no operationName).
      const name = getOperationAST(args.document, args.operationName)?.name?.value;
      const { request } = args.contextValue as { request?: Request };
      if (request) requestScope(request)?.operations.push(name ?? 'anonymous');
    },
    onResponse({ request, response }) {
      const id = finish(request, response.status);
      if (id) response.headers.set('x-request-id', id);
    },
  };
  return { plugin, start, finish };
}
