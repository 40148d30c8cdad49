import type { IncomingMessage } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { createYoga, type Plugin } from 'graphql-yoga';
import { MemoryWatchdog } from './backpressure/memory-watchdog.ts';
import { type BackpressureOptions, useBackpressure } from './backpressure/request-limiter.ts';
import { type AppDeps, type Context, createContext } from './context.ts';
import { useBodyLimit } from './http/body-limit.ts';
import { useHttpCaching } from './http/cache-control.ts';
import { useCompression } from './http/compression.ts';
import { corsOptions } from './http/cors.ts';
import { createDirectPost } from './http/direct-post.ts';
import { createDocumentCaches, type DocumentCacheOptions, useExecutorNeutralErrors } from './http/document-cache.ts';
import { createMaskError, useErrorCodes } from './http/errors.ts';
import { graphiqlOptions, renderOfflineGraphiQL, useGraphiQLCaching } from './http/graphiql.ts';
import { type ReadinessCheck, useHealthEndpoints } from './http/health.ts';
import { useNoIntrospection } from './http/introspection-limit.ts';
import { type QueryLimits, useQueryLimits } from './http/limits.ts';
import { createMetrics } from './http/metrics-plugin.ts';
import { createNodeListener } from './http/node-listener.ts';
import {
  type PersistedManifest,
  type PersistedMode,
  type RegistrationStore,
  usePersistedOperationModes,
} from './http/persisted.ts';
import { createRequestLog } from './http/request-log.ts';
import type { Logger } from './observability/logger.ts';
import { watchRequests } from './observability/metrics.ts';
import { schema } from './schema/index.ts';

export type AppOptions = AppDeps & {
  log: Logger;
  production: boolean;
  corsOrigins: string[];
  ready: ReadinessCheck;
  queryLimits: QueryLimits;
  backpressure: BackpressureOptions & { memorySoftLimitMB: number };
  persisted: {
    mode: PersistedMode;
    manifest: PersistedManifest;
    /** APQ registrations */
    store: RegistrationStore;
    /** APQ_REGISTRATIONS_PER_MINUTE */
    registrationsPerMinute: number;
  };
  /** request bodies beyond this are refused with 413 (chunked ones too) */
  maxBodyBytes: number;
  /** OpenTelemetry's plugin when tracing is on (src/observability/tracing.ts) */
  tracing?: Plugin;
  /** /metrics on this app (in production it is METRICS_PORT's only) */
  metricsEndpoint: boolean;
  /** /health with memory and load figures (in production exactly {"status":"ok"}) */
  detailedHealth: boolean;
  /** COMPRESSION_MIN_BYTES (0: no compression) */
  compressionMinBytes: number;
  /** development with the embedded demo data: the demo user's token, in GraphiQL's signed-in tabs */
  demoToken?: string;
  /** bounds of the parsed and compiled documents (DOCUMENT_CACHE_MAX_BYTES, JIT_CACHE_MAX_BYTES) */
  documentCache: Omit<DocumentCacheOptions, 'precompiled'>;
};

/** graphql-jit's undeclared `debug` option (the generated source on the compiled query). */
const JIT_DEBUG = { debug: true } as Parameters<typeof useGraphQlJit>[0];

/**
 * Builds the Yoga app from its dependencies, every option given (src/gateway.ts takes them from
 * the configuration). It never listens (src/server.ts does); tests call `app.fetch`.
 */
export function createApp(opts: AppOptions) {
  const { log } = opts;
  const { queryLimits: limits, backpressure, persisted } = opts;
  const { manifest } = persisted;
  const documents = createDocumentCaches({
    ...opts.documentCache,
    precompiled: new Set(manifest.values()),
  });
  const watchdog = new MemoryWatchdog({ softLimitMB: backpressure.memorySoftLimitMB });
  // Shedding for memory that the process's own caches hold would refuse requests for nothing.
  watchdog.onShedding(() => documents.clear());
  const requests = useBackpressure(backpressure, watchdog, '/graphql');
  watchRequests(requests.state, () => watchdog.shedding);
  const load = () => ({ ...watchdog.snapshot(), requests: requests.state() });
  const graphiql = opts.production ? undefined : graphiqlOptions(opts.demoToken);
  const requestLog = createRequestLog(log, '/graphql');
  const metrics = createMetrics(opts.metricsEndpoint ? '/metrics' : false);
  const yoga = createYoga<{ req?: IncomingMessage }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Yoga's own plain check moves aside; /health (with memory figures) is ours.
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: graphiql ?? false,
    renderGraphiQL: renderOfflineGraphiQL,
    batching: { limit: limits.maxBatch },
    // Ours (src/http/body-limit.ts) counts only bodies without a Content-Length.
    maxRequestBodySize: false,
    // Parsed and compiled documents, bounded in bytes (src/http/document-cache.ts).
    parserAndValidationCache: documents.parserAndValidationCache,
    // `documentId` (a persisted operation's id) is a request parameter too.
    extraParamNames: ['documentId'],
    cors: corsOptions(opts.corsOrigins),
    maskedErrors: { maskError: createMaskError(log), errorMessage: 'Unexpected error.' },
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      // Yoga logs at error every error our maskError replaced; maskError has logged it already,
      // once and with its context (src/http/errors.ts), so this copy is debug only.
      error: (...a) => log.debug(a.map(String).join(' ')),
    },
    context: ({ request, req }) => createContext(opts, request, req),
    // graphql-jit runs repeated and manifest operations with less CPU than graphql-js's
    // interpreter; one-off documents run on graphql-js (a compiled query weighs megabytes).
    plugins: [
      // First: every request gets an id and a log line, refused ones too.
      requestLog.plugin,
      metrics.plugin,
      // Health before the limiter: it never waits behind GraphQL requests.
      useHealthEndpoints(opts.ready, opts.detailedHealth ? load : undefined),
      requests.plugin,
      useHttpCaching('/graphql'),
      // After the caching headers (the ETag is the uncompressed body's, given a suffix per encoding).
      ...(graphiql ? [useGraphiQLCaching('/graphql', graphiql)] : []),
      useCompression(opts.compressionMinBytes),
      useErrorCodes(),
      ...useQueryLimits(limits),
      // After the limits' parser wrapper, so it reads the counted body, as Yoga's own limit did.
      useBodyLimit(opts.maxBodyBytes),
      // After the limits: APQ registers in onExecute, which runs once the cost check (the
      // limits' onExecute) has passed, so only documents within every limit are kept.
      ...usePersistedOperationModes(persisted.mode, manifest, {
        store: persisted.store,
        perMinute: persisted.registrationsPerMinute,
        clientIpHeader: opts.clientIpHeader,
        trustedProxyHops: opts.trustedProxyHops,
      }),
      // Production: no introspection, no "Did you mean …?" field suggestions (GraphiQL is off too).
      ...(opts.production ? [useNoIntrospection(), blockFieldSuggestionsPlugin()] : []),
      ...(opts.tracing ? [opts.tracing] : []),
      // `debug` makes the generated source readable once, to weigh the compiled query.
      useGraphQlJit(JIT_DEBUG, { enableIf: documents.shouldCompile, cache: documents.jitCache }),
      useExecutorNeutralErrors(),
      { onDispose: () => watchdog.stop() },
    ],
  });
  // node:http's listener (src/server.ts): JSON POSTs straight into Yoga's handling, the rest through its adapter.
  const listener = createNodeListener(yoga, {
    graphqlEndpoint: '/graphql',
    maxBodyBytes: opts.maxBodyBytes,
    log,
    // Shedding refuses before the body is read; traces start from the adapter's own Request.
    viaAdapter: () => watchdog.shedding || opts.tracing !== undefined,
    direct: createDirectPost({
      graphqlEndpoint: '/graphql',
      // The context is the one Yoga's node adapter makes ({ req, res, waitUntil }), built by src/http/node-listener.ts.
      handleParams: (payload) => yoga.handleParams(payload as unknown as Parameters<typeof yoga.handleParams>[0]),
      requestLog,
      metrics,
      slots: requests.slots,
      maxQueryBytes: limits.maxQueryBytes,
      persistedMode: persisted.mode,
      compressionMinBytes: opts.compressionMinBytes,
      cors: opts.corsOrigins.length > 0,
      log,
    }),
  });
  return Object.assign(yoga, { watchdog, load, documents, listener });
}
