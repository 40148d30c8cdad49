import { type AppOptions, createApp } from '../../src/app.ts';
import { createAccounts, type RegistrationLimits } from '../../src/auth/accounts.ts';
import { createTokenService } from '../../src/auth/jwt.ts';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { createLocalThrottle, type Throttle } from '../../src/auth/throttle.ts';
import { createDb, type Db, type DbOptions } from '../../src/db/pool.ts';
import { createReadinessCheck } from '../../src/http/readiness.ts';
import { backfillEmbeddings } from '../../src/ml/backfill.ts';
import type { MlOptions } from '../../src/ml/service.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { createServices, type Services } from '../../src/services.ts';
import { freshDatabase, type TestDatabase } from './db.ts';
import { startWireCounter, type WireCounter } from './wire-counter.ts';

const TEST_JWT_SECRET = 'test-secret-test-secret-test-secret-0123456789';

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
  app: ReturnType<typeof createApp>;
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
export const TEST_ML_OPTIONS: MlOptions = {
  batchSize: 16,
  threads: 1,
  idleMs: 60_000,
  vectorIndex: 'auto',
  syncMs: 0,
};

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
  /** passed to createApp as they are (unset: the app's defaults) */
  app?: Pick<
    AppOptions,
    | 'queryLimits'
    | 'backpressure'
    | 'persisted'
    | 'maxBodyBytes'
    | 'tracing'
    | 'metricsEndpoint'
    | 'compressionMinBytes'
    | 'demoToken'
  >;
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
    app: appOptions,
    ...dbOptions
  } = options;
  const db = await freshDatabase();
  const wire = await startWireCounter(db.url);
  const log = logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const pool = await createDb(
    {
      url: wire.url,
      poolMax: 4,
      poolTimeoutMs: 5_000,
      statementTimeoutMs: 5_000,
      idleTimeoutMs: 60_000,
      maxConnectionAgeMs: 1_800_000,
      maxWaiting: 100,
      slowQueryMs: 10_000,
      ...dbOptions,
    },
    log,
  );
  const tokens = createTokenService({ secret: TEST_JWT_SECRET, ttl: '1h', production: false });
  const services = await createServices(
    pool,
    { ml: { ...TEST_ML_OPTIONS, ...ml }, cache: { maxBytes: 8 * 2 ** 20, ttlMs: 3_600_000 } },
    log,
  );
  const app = createApp({
    db: pool,
    tokens,
    limits: { maxPageSize: 100, maxBatchKeys: 500 },
    accounts: createAccounts({
      db: pool,
      throttle: loginThrottle ?? createLocalThrottle(),
      hasher: new PasswordHasher({ concurrency: 2, maxWaiting: 1_000, timeoutMs: 30_000 }),
      registration: registration ?? {
        addressMax: 1e6,
        addressWindowMs: 60_000,
        globalMax: 1e6,
        globalWindowMs: 60_000,
      },
    }),
    clientIpHeader,
    ml: services.ml,
    recommender: services.recommender,
    orders: services.orders,
    preferences: services.preferences,
    cache: services.cache,
    log,
    production: production ?? false,
    corsOrigins: [],
    ready: createReadinessCheck(pool),
    ...appOptions,
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
      await app.dispose();
      await services.close();
      await pool.end();
      await wire.close();
      await db.drop();
    },
  };
}
