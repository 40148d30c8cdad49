/**
 * GET /metrics and the HTTP/GraphQL metrics, through @graphql-yoga/plugin-prometheus
 * on the gateway's registry (src/observability/metrics.ts). Two changes to its defaults, both about
 * cardinality (each distinct label value is a time series held in memory forever):
 * - the `url` label is off (a GET's URL carries variables: unbounded);
 * - operation names come from clients, so they are bounded: the first
 *   MAX_OPERATION_NAMES distinct names keep theirs, later ones are counted as "other".
 */

import { createServer, type Server } from 'node:http';
import { createHistogram, usePrometheus } from '@graphql-yoga/plugin-prometheus';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { registry } from '../observability/metrics.ts';

export const MAX_OPERATION_NAMES = 200;

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** `endpoint: false`: /metrics is not served on this app (METRICS_PORT serves it on a port of its own). */
export function useMetrics(endpoint: '/metrics' | false = '/metrics'): Plugin {
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
  return usePrometheus({
    registry,
    endpoint,
    // Built-in metrics: no url, no operationName (ours below carry a bounded one).
    labels: { url: false, operationName: false },
    metrics: {
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: {
          name: 'graphql_yoga_http_duration',
          help: 'HTTP request duration (seconds) of GraphQL requests, by operation and status',
          labelNames: ['operationName', 'operationType', 'method', 'statusCode'],
          buckets: DURATION_BUCKETS,
        },
        fillLabelsFn: (params, { request, response }) => ({
          operationName: bounded(params.operationName),
          operationType: params.operationType ?? 'unknown',
          method: request.method,
          statusCode: response.status,
        }),
        phases: ['request'],
      }),
      graphql_envelop_phase_execute: createHistogram({
        registry,
        histogram: {
          name: 'graphql_envelop_phase_execute',
          help: 'GraphQL execution duration (seconds), by operation',
          labelNames: ['operationName', 'operationType'],
          buckets: DURATION_BUCKETS,
        },
        // The plugin strips operationName from these params (its label is off above); the document stays.
        fillLabelsFn: (params) => ({
          operationName: bounded(params.document ? getOperationAST(params.document)?.name?.value : undefined),
          operationType: params.operationType ?? 'unknown',
        }),
        phases: ['execute'],
      }),
      // The remaining per-phase metrics keep the plugin's operation labels off (cardinality).
      graphql_envelop_request_time_summary: false,
      graphql_envelop_request_duration: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_execute_resolver: false,
      graphql_envelop_schema_change: false,
    },
  });
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
