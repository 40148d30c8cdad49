/**
 * The composition root: configuration and the process's resources (pool, Redis, logger) in,
 * the gateway out — tokens, accounts, the long-lived services, the APQ store, readiness and the
 * Yoga app. src/server.ts adds the process around it (database, migrations, seeding, listening,
 * draining); test/helpers/app.ts builds the same gateway over a fresh database.
 */

import type { Plugin } from 'graphql-yoga';
import type { Redis } from 'ioredis';
import { createApp } from './app.ts';
import { createAccounts } from './auth/accounts.ts';
import { createTokenService, type TokenService } from './auth/jwt.ts';
import { PasswordHasher } from './auth/passwords.ts';
import { createLocalThrottle, createRedisThrottle, type Throttle } from './auth/throttle.ts';
import { ApqStore } from './cache/apq-store.ts';
import type { loadConfig } from './config.ts';
import type { Db } from './db/pool.ts';
import { loadManifest, type PersistedManifest, type RegistrationStore } from './http/persisted.ts';
import { createReadinessCheck } from './http/readiness.ts';
import type { Embedder } from './ml/embedder.ts';
import { modelFiles } from './ml/model-source.ts';
import type { Logger } from './observability/logger.ts';
import { createServices, type Services } from './services.ts';

export type GatewayConfig = ReturnType<typeof loadConfig>;

/** What differs between the server, the tests and the benchmarks; unset: built from the config. */
export type GatewayDeps = {
  db: Db;
  log: Logger;
  /** REDIS_URL's client: the cache's second level, the login throttle and the APQ registrations, shared */
  redis?: Redis;
  tokens?: TokenService;
  /** unset: in Redis when there is one, else in this process */
  throttle?: Throttle;
  /** unset: none with PERSISTED_OPERATIONS=off, else `loadManifest()` (a bad manifest stops the start) */
  manifest?: PersistedManifest;
  apqStore?: RegistrationStore;
  /** OpenTelemetry's plugin when tracing is on (src/observability/tracing.ts) */
  tracing?: Plugin;
  /** unset: on the main port in development unless METRICS_PORT is set; never in production */
  metricsEndpoint?: boolean;
  /** unset: in development only (production answers exactly {"status":"ok"}) */
  detailedHealth?: boolean;
  /**
   * Runs once the services exist and before the app is built (the server seeds a new embedded
   * database there, with the model's embeddings); the token it returns is in GraphiQL's signed-in tabs.
   */
  prepare?: (built: { services: Services; tokens: TokenService }) => Promise<{ demoToken?: string } | undefined>;
};

export type Gateway = {
  app: ReturnType<typeof createApp>;
  services: Services;
  tokens: TokenService;
  /** the demo user's token (when `prepare` returned one) */
  demoToken?: string;
  /** Work the app left running (waitUntil), its plugins, then the services; the pool and Redis stay the caller's. */
  close(): Promise<void>;
};

/** MODEL_PATH readiness: the files are there and the last load did not fail (an unloaded model is ready). */
function modelReadiness(dir: string, embedder: Embedder): string {
  try {
    modelFiles(dir);
  } catch (error) {
    return (error as Error).message;
  }
  return embedder.loadError ? `failed to load: ${embedder.loadError}` : 'ok';
}

export async function createGateway(config: GatewayConfig, deps: GatewayDeps): Promise<Gateway> {
  const { db, log, redis } = deps;
  const tokens = deps.tokens ?? createTokenService({ ...config.jwt, production: config.production });
  if (tokens.generated) log.warn('JWT_SECRET is not set: using a random secret, tokens end with this process');
  const services = await createServices(db, { ml: config.ml, cache: config.cache }, log, redis);
  const { embedder } = services.ml;
  if (config.ml.modelPath) await embedder.warm(); // fail at start-up, not on the first search
  const demoToken = (await deps.prepare?.({ services, tokens }))?.demoToken;
  const { modelPath } = config.ml;
  const mode = config.persistedOperations;
  const app = createApp({
    db,
    tokens,
    limits: config.limits,
    queryLimits: config.queryLimits,
    backpressure: config.backpressure,
    persisted: {
      mode,
      manifest: deps.manifest ?? (mode === 'off' ? new Map() : loadManifest()),
      // APQ registrations in their own bounded store, shared through Redis: registered on one replica, served by all.
      store: deps.apqStore ?? new ApqStore(config.apq, redis, log),
      registrationsPerMinute: config.apq.registrationsPerMinute,
    },
    maxBodyBytes: config.http.maxBodyBytes,
    compressionMinBytes: config.http.compressionMinBytes,
    demoToken,
    documentCache: config.documentCache,
    tracing: deps.tracing,
    metricsEndpoint: deps.metricsEndpoint ?? (!config.production && config.http.metricsPort === 0),
    detailedHealth: deps.detailedHealth ?? !config.production,
    accounts: createAccounts({
      db,
      throttle: deps.throttle ?? (redis ? createRedisThrottle(redis, log) : createLocalThrottle()),
      hasher: new PasswordHasher(config.accounts.hashing),
      registration: config.accounts.registration,
    }),
    clientIpHeader: config.clientIpHeader,
    trustedProxyHops: config.trustedProxyHops,
    ml: services.ml,
    recommender: services.recommender,
    orders: services.orders,
    preferences: services.preferences,
    cache: services.cache,
    log,
    production: config.production,
    corsOrigins: config.corsOrigins,
    ready: createReadinessCheck(db, modelPath ? () => modelReadiness(modelPath, embedder) : undefined),
  });
  return {
    app,
    services,
    tokens,
    demoToken,
    async close() {
      await app.dispose();
      await services.close().catch((e: Error) => log.error({ err: e }, 'closing the model failed'));
    },
  };
}
