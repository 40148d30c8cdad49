import type { Plugin } from 'graphql-yoga';
import type { RegistrationLimits } from '../../src/auth/accounts.ts';
import { createTokenService } from '../../src/auth/jwt.ts';
import type { Throttle } from '../../src/auth/throttle.ts';
import type { BackpressureOptions } from '../../src/backpressure/request-limiter.ts';
import { loadConfig } from '../../src/config.ts';
import { createDb, type Db, type DbOptions } from '../../src/db/pool.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import type { QueryLimits } from '../../src/http/limits.ts';
import type { PersistedManifest, PersistedMode, RegistrationStore } from '../../src/http/persisted.ts';
import { backfillEmbeddings } from '../../src/ml/backfill.ts';
import type { MlOptions } from '../../src/ml/service.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import type { Services } from '../../src/services.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { startWireCounter, type WireCounter } from './wire-counter.ts';

/** The JWT secret of every test gateway, in-process and child process alike (≥32 bytes, ≥10 distinct characters). */
export const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A token of TEST_JWT_SECRET for a gateway in a child process (in-process tests: `TestApp.tokenFor`). */
export function signTestToken(userId: string | number): Promise<string> {
  return createTokenService({ secret: TEST_JWT_SECRET, ttl: '1h', production: false }).sign(String(userId));
}

/**
 * The environment of an in-process test gateway: README's defaults but for a silent, quick
 * pool, an offline encoder whose in-process index syncs only when a test says so (`embedAll`),
 * an 8 MiB cache and hashing and registration limits no test reaches by accident (every
 * in-process request comes from one address).
 */
const TEST_ENV = {
  NODE_ENV: 'development',
  JWT_SECRET: TEST_JWT_SECRET,
  JWT_TTL: '1h',
  DB_POOL_TIMEOUT_MS: '5000',
  SLOW_QUERY_MS: '10000',
  EMBED_IDLE_MS: '60000',
  VECTOR_SYNC_MS: '0',
  CACHE_MAX_BYTES: String(8 * 2 ** 20),
  PASSWORD_HASH_QUEUE: '1000',
  PASSWORD_HASH_TIMEOUT_MS: '30000',
  REGISTER_ADDRESS_LIMIT: '1000000',
  REGISTER_ADDRESS_WINDOW_S: '60',
  REGISTER_GLOBAL_LIMIT: '1000000',
  REGISTER_GLOBAL_WINDOW_S: '60',
};

export type GraphQLResponse<T = Record<string, unknown>> = {
  status: number;
  headers: Headers;
  body: {
    data?: T | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
};

export type TestApp = {
  db: TestDatabase;
  wire: WireCounter;
  /** the app's pool (connects through `wire`) */
  pool: Db;
  app: Gateway['app'];
  /** POSTs a GraphQL operation through `app.fetch` (no port); waits until the wire is quiet. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    opts?: { token?: string; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  tokenFor(userId: string | number): Promise<string>;
  /** embeddings, vector index, cache, recommender */
  services: Services;
  /** Embeds every restaurant lacking an embedding and syncs the vector index; returns how many were embedded. */
  embedAll(): Promise<number>;
  close(): Promise<void>;
};

/** The offline encoder, an in-process index synced only when a test says so (`embedAll`). */
export const TEST_ML_OPTIONS: MlOptions = loadConfig(TEST_ENV).ml;

type TestAppOptions = Partial<DbOptions> & {
  production?: boolean;
  /** e.g. 'x-client-ip': lets a test choose its client address per request */
  clientIpHeader?: string;
  loginThrottle?: Throttle;
  /** unset: limits no test reaches (every in-process request comes from one address) */
  registration?: RegistrationLimits;
  /** the app's logger (default: silent, or TEST_LOG_LEVEL) */
  log?: Logger;
  ml?: Partial<MlOptions>;
  /** CORS_ORIGINS (default: none) */
  corsOrigins?: string[];
  /**
   * Puts something between the pool and the wire counter (e.g. test/helpers/toggle-proxy.ts);
   * returns the URL the pool connects to. The test closes it.
   */
  through?: (url: string) => Promise<string>;
  /** the configuration's values, as they are (unset: TEST_ENV's) */
  app?: {
    queryLimits?: QueryLimits;
    backpressure?: BackpressureOptions & { memorySoftLimitMB: number };
    persisted?: {
      mode: PersistedMode;
      manifest?: PersistedManifest;
      store?: RegistrationStore;
      registrationsPerMinute?: number;
    };
    maxBodyBytes?: number;
    compressionMinBytes?: number;
    tracing?: Plugin;
    metricsEndpoint?: boolean;
    /** in GraphiQL's signed-in tabs */
    demoToken?: string;
  };
};

/**
 * A fresh database, the app over a pool that connects through the wire counter,
 * so each test can assert exactly which statements a request sent.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const {
    production,
    clientIpHeader,
    loginThrottle,
    registration,
    log: logger,
    ml,
    corsOrigins,
    through,
    app: appOptions = {},
    ...dbOptions
  } = options;
  const db = await freshDatabase();
  const wire = await startWireCounter(db.url);
  const log = logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const base = loadConfig({ ...TEST_ENV, NODE_ENV: production ? 'production' : 'development' });
  const { persisted } = appOptions;
  const config: typeof base = {
    ...base,
    clientIpHeader,
    corsOrigins: corsOrigins ?? [],
    ml: { ...base.ml, ...ml },
    accounts: { ...base.accounts, registration: registration ?? base.accounts.registration },
    queryLimits: appOptions.queryLimits ?? base.queryLimits,
    backpressure: appOptions.backpressure ?? base.backpressure,
    persistedOperations: persisted?.mode ?? base.persistedOperations,
    apq: { ...base.apq, registrationsPerMinute: persisted?.registrationsPerMinute ?? base.apq.registrationsPerMinute },
    http: {
      ...base.http,
      maxBodyBytes: appOptions.maxBodyBytes ?? base.http.maxBodyBytes,
      compressionMinBytes: appOptions.compressionMinBytes ?? base.http.compressionMinBytes,
    },
  };
  const pool = await createDb({ url: through ? await through(wire.url) : wire.url, ...config.db, ...dbOptions }, log);
  const { app, services, tokens, close } = await createGateway(config, {
    db: pool,
    log,
    throttle: loginThrottle,
    manifest: persisted?.manifest,
    apqStore: persisted?.store,
    tracing: appOptions.tracing,
    metricsEndpoint: appOptions.metricsEndpoint,
    prepare: async () => ({ demoToken: appOptions.demoToken }),
  });
  await wire.settle();
  wire.reset();
  return {
    db,
    wire,
    pool,
    app,
    tokenFor: (userId) => tokens.sign(String(userId)),
    services,
    async embedAll() {
      const { embedder, embeddingType, index } = services.ml;
      const n = await backfillEmbeddings(pool, embedder, embeddingType, { batchSize: 256 });
      await index.sync();
      await wire.settle();
      return n;
    },
    async gql(query, variables, opts = {}) {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...opts.headers,
      };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      const response = await app.fetch('http://test/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as GraphQLResponse['body'];
      await wire.settle();
      return { status: response.status, headers: response.headers, body } as never;
    },
    async close() {
      await close();
      await pool.end();
      await wire.close();
      await db.drop();
    },
  };
}
