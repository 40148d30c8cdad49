import type { IncomingMessage } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { createYoga, type Plugin } from 'graphql-yoga';
import { type AppDeps, type Context, createContext } from './context.ts';
import { withQueryScope } from './db/query-scope.ts';
import { createMaskError, useErrorCodes } from './http/errors.ts';
import { type ReadinessCheck, useHealthEndpoints } from './http/health.ts';
import { type QueryLimits, useQueryLimits } from './http/limits.ts';
import type { Logger } from './logger.ts';
import { schema } from './schema/index.ts';

type AppOptions = AppDeps & {
  log: Logger;
  production: boolean;
  corsOrigins: string[];
  ready: ReadinessCheck;
  /** unset: the contract's defaults */
  queryLimits?: QueryLimits;
};

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxDepth: 8,
  maxCost: 5000,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 2000,
  maxQueryBytes: 20000,
  maxPageSize: 100,
};

/** Runs each execution inside a scope that tells the SQL interceptors the operation name. */
const useQueryScope = (): Plugin => ({
  onExecute({ executeFn, setExecuteFn }) {
    setExecuteFn((args) => withQueryScope(args.operationName ?? undefined, () => executeFn(args)));
  },
});

/**
 * Builds the Yoga app from its dependencies. It never listens (src/server.ts does);
 * tests call `app.fetch`.
 */
export function createApp(opts: AppOptions) {
  const { log } = opts;
  return createYoga<{ req?: IncomingMessage }, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    // Yoga's own plain check moves aside; /health (with memory figures) is ours.
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: !opts.production,
    batching: false,
    cors:
      opts.corsOrigins.length === 0
        ? false
        : {
            origin: opts.corsOrigins.includes('*') ? '*' : opts.corsOrigins,
            credentials: !opts.corsOrigins.includes('*'),
          },
    maskedErrors: { maskError: createMaskError(log), errorMessage: 'Unexpected error.' },
    logging: {
      debug: (...a) => log.debug(a.map(String).join(' ')),
      info: (...a) => log.info(a.map(String).join(' ')),
      warn: (...a) => log.warn(a.map(String).join(' ')),
      error: (...a) => log.error(a.map(String).join(' ')),
    },
    context: ({ request, req }) => createContext(opts, request, req),
    // graphql-jit compiles each operation once (kept per parsed document, which Yoga's
    // bounded parse cache owns): less CPU per request than graphql-js's interpreter.
    plugins: [
      useHealthEndpoints(opts.ready),
      useErrorCodes(),
      ...useQueryLimits(opts.queryLimits ?? DEFAULT_QUERY_LIMITS),
      // Production: no introspection, no "Did you mean …?" field suggestions (GraphiQL is off too).
      ...(opts.production ? [useDisableIntrospection(), blockFieldSuggestionsPlugin()] : []),
      useQueryScope(),
      useGraphQlJit(),
    ],
  });
}
