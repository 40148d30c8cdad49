/**
 * GET /metrics and the HTTP/GraphQL request metrics, on the gateway's registry
 * (src/observability/metrics.ts). The names and labels are those of
 * @graphql-yoga/plugin-prometheus, which this replaced: its envelop chain wraps every phase of
 * every request (parse, validate, context, execute, subscribe) with label-filling callbacks,
 * ~3.5 % of a small request's CPU under load, for phases that Yoga's document cache makes
 * near zero. Kept: the HTTP duration, the execution duration, results with errors by phase and
 * the request count. Cardinality (each distinct label value is a series held forever): no URL
 * label (a GET's URL carries variables), and operation names come from clients, so the first
 * MAX_OPERATION_NAMES distinct names keep theirs and later ones count as "other".
 */

import { createServer, type Server } from 'node:http';
import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Histogram } from 'prom-client';
import { registry } from '../observability/metrics.ts';

export const MAX_OPERATION_NAMES = 200;

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const httpDuration = new Histogram({
  name: 'graphql_yoga_http_duration',
  help: 'HTTP request duration (seconds) of GraphQL requests, by operation and status',
  labelNames: ['operationName', 'operationType', 'method', 'statusCode'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});
const executeDuration = new Histogram({
  name: 'graphql_envelop_phase_execute',
  help: 'GraphQL execution duration (seconds), by operation',
  labelNames: ['operationName', 'operationType'] as const,
  buckets: DURATION_BUCKETS,
  registers: [registry],
});
const errorResults = new Counter({
  name: 'graphql_envelop_error_result',
  help: 'GraphQL results with errors, by operation and the phase that failed (parse, validate, execute)',
  labelNames: ['operationName', 'operationType', 'phase'] as const,
  registers: [registry],
});
const executions = new Counter({
  name: 'graphql_envelop_request',
  help: 'GraphQL operations executed, by operation',
  labelNames: ['operationName', 'operationType'] as const,
  registers: [registry],
});

type Operation = { operationName: string; operationType: string };
const UNKNOWN: Operation = { operationName: 'anonymous', operationType: 'unknown' };

/** The metrics' plugin, and its two ends for requests served below Yoga's hooks (src/http/direct-post.ts). */
export type RequestMetrics = {
  plugin: Plugin;
  /** As a GraphQL request arrives (`at`: when, if earlier). */
  start(request: Request, at?: bigint): void;
  /** As its answer is ready: the HTTP duration. */
  finish(request: Request, status: number): void;
};

/** `endpoint: false`: /metrics is not served on this app (METRICS_PORT serves it on a port of its own). */
export function createMetrics(endpoint: '/metrics' | false = '/metrics', graphqlEndpoint = '/graphql'): RequestMetrics {
  const names = new Set<string>();
  const bounded = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (names.has(name)) return name;
    if (names.size < MAX_OPERATION_NAMES) {
      names.add(name);
      return name;
    }
    return 'other';
  };
  // Per document (documents are cached, so their objects repeat): its operation's labels.
  const labelsOf = new WeakMap<DocumentNode, Map<string, Operation>>();
  const operationOf = (document: DocumentNode, operationName?: string | null): Operation => {
    let byName = labelsOf.get(document);
    if (!byName) {
      byName = new Map();
      labelsOf.set(document, byName);
    }
    const key = operationName ?? '';
    let op = byName.get(key);
    if (!op) {
      const ast = getOperationAST(document, operationName);
      op = { operationName: bounded(ast?.name?.value), operationType: ast?.operation ?? 'unknown' };
      byName.set(key, op);
    }
    return op;
  };
  const started = new WeakMap<Request, { at: bigint; op: Operation }>();
  const seconds = (at: bigint) => Number(process.hrtime.bigint() - at) / 1e9;
  const start = (request: Request, at = process.hrtime.bigint()) => {
    started.set(request, { at, op: UNKNOWN });
  };
  const finish = (request: Request, status: number) => {
    const entry = started.get(request);
    if (!entry) return;
    httpDuration.observe({ ...entry.op, method: request.method, statusCode: String(status) }, seconds(entry.at));
  };
  const plugin: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === graphqlEndpoint) {
        start(request);
        return;
      }
      if (!endpoint || url.pathname !== endpoint || request.method !== 'GET') return;
      return registry
        .metrics()
        .then((text) =>
          endResponse(new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } })),
        );
    },
    onParse() {
      return ({ result }) => {
        if (result instanceof Error) errorResults.inc({ ...UNKNOWN, phase: 'parse' });
      };
    },
    onValidate({ params }) {
      return ({ valid }) => {
        if (!valid) errorResults.inc({ ...operationOf(params.documentAST), phase: 'validate' });
      };
    },
    onExecute({ args }) {
      const op = operationOf(args.document, args.operationName);
      const request = (args.contextValue as { request?: Request }).request;
      const entry = request && started.get(request);
      if (entry) entry.op = op;
      const at = process.hrtime.bigint();
      return {
        onExecuteDone({ result }) {
          executeDuration.observe(op, seconds(at));
          executions.inc(op);
          if ('errors' in result && result.errors?.length) errorResults.inc({ ...op, phase: 'execute' });
        },
      };
    },
    onResponse({ request, response }) {
      finish(request, response.status);
    },
  };
  return { plugin, start, finish };
}

/**
 * METRICS_PORT: /metrics and the detailed /health (`health`, memory and load figures) on a
 * listener of its own, so the public port exposes neither (Fly scrapes `[metrics] port`).
 * Only GET /metrics and GET /health answer there.
 */
export function startMetricsServer(
  port: number,
  host: string,
  opts: { health?: () => Record<string, unknown> } = {},
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/health' && opts.health) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(opts.health()));
      return;
    }
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
