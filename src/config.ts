import { z } from 'zod';

/** Environment → typed configuration. Every knob is documented in README.md. */
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).default(fallback);

const Env = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: int(4000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default('.data'),
  DB_POOL_MAX: int(4, 1),
  DB_POOL_TIMEOUT_MS: int(10_000, 1),
  DB_STATEMENT_TIMEOUT_MS: int(5_000, 1),
  DB_IDLE_TIMEOUT_MS: int(60_000, 1),
  DB_MAX_CONNECTION_AGE_MS: int(1_800_000, 1),
  DB_MAX_WAITING: int(100, 0),
  // Unset: src/db/pool.ts's DEFAULT_PREPARED_STATEMENTS (one default, where the statements are run).
  // At most 1,000: each is held by PostgreSQL on every connection.
  DB_PREPARED_STATEMENTS: z.coerce.number().int().min(0).max(1000).optional(),
  SLOW_QUERY_MS: int(1_000, 0),
  MAX_PAGE_SIZE: int(100, 1),
  MAX_DEPTH: int(8, 1),
  MAX_COST: int(5000, 1),
  MAX_ALIASES: int(30, 0),
  MAX_DIRECTIVES: int(50, 0),
  MAX_TOKENS: int(2000, 1),
  MAX_QUERY_BYTES: int(20000, 1),
  MAX_BATCH_KEYS: int(500, 1),
  MAX_BATCH: int(10, 1),
  HEAVY_COST: int(1000, 1),
  MAX_HEAVY_REQUESTS: int(2, 1),
  MAX_BODY_BYTES: int(102_400, 1024),
  COMPRESSION_MIN_BYTES: int(1024, 0),
  MAX_CONCURRENT_REQUESTS: int(15, 1),
  MAX_QUEUED_REQUESTS: int(50, 0),
  QUEUE_TIMEOUT_MS: int(2_000, 1),
  MEMORY_SOFT_LIMIT_MB: int(700, 0),
  DOCUMENT_CACHE_MAX_BYTES: int(33_554_432, 0),
  JIT_CACHE_MAX_BYTES: int(67_108_864, 0),
  REQUEST_TIMEOUT_MS: int(30_000, 1_000),
  METRICS_PORT: int(0, 0),
  PERSISTED_OPERATIONS: z.enum(['off', 'allow', 'only']).default('allow'),
  APQ_MAX_DOCUMENTS: int(1_000, 1),
  APQ_MAX_BYTES: int(4_194_304, 1),
  APQ_REGISTRATIONS_PER_MINUTE: int(30, 1),
  JWT_SECRET: z.string().optional(),
  JWT_TTL: z
    .string()
    .regex(
      /^\d+ ?(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/i,
      'must be a duration such as 15m, 24h or 7d',
    )
    .default('24h'),
  REDIS_URL: z.string().url().optional(),
  CLIENT_IP_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name such as Fly-Client-IP')
    .optional(),
  TRUSTED_PROXY_HOPS: int(1, 1),
  PASSWORD_HASH_CONCURRENCY: int(2, 1),
  PASSWORD_HASH_QUEUE: int(4, 0),
  PASSWORD_HASH_TIMEOUT_MS: int(1_000, 1),
  REGISTER_ADDRESS_LIMIT: int(5, 1),
  REGISTER_ADDRESS_WINDOW_S: int(600, 1),
  REGISTER_GLOBAL_LIMIT: int(120, 1),
  REGISTER_GLOBAL_WINDOW_S: int(60, 1),
  MODEL_PATH: z.string().min(1).optional(),
  EMBED_BATCH_SIZE: int(16, 1),
  ORT_THREADS: int(1, 1),
  EMBED_IDLE_MS: int(300_000, 0),
  VECTOR_INDEX: z.enum(['auto', 'memory', 'pgvector']).default('auto'),
  VECTOR_SYNC_MS: int(30_000, 0),
  CACHE_MAX_BYTES: int(33_554_432, 0),
  CACHE_TTL_S: int(3_600, 1),
  CORS_ORIGINS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_BUFFER_BYTES: z.coerce.number().int().min(0).max(16_000).default(4096),
  SHUTDOWN_TIMEOUT_MS: int(10_000, 0),
  SEED_ON_FIRST_START: z.enum(['true', 'false']).default('true'),
});

/**
 * Parses the environment once at start-up.
 * @throws Error listing every invalid variable (the server refuses to start).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    db: {
      poolMax: e.DB_POOL_MAX,
      poolTimeoutMs: e.DB_POOL_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      idleTimeoutMs: e.DB_IDLE_TIMEOUT_MS,
      maxConnectionAgeMs: e.DB_MAX_CONNECTION_AGE_MS,
      maxWaiting: e.DB_MAX_WAITING,
      preparedStatements: e.DB_PREPARED_STATEMENTS,
      slowQueryMs: e.SLOW_QUERY_MS,
      // Rows are checked against their query's zod type in development and tests, where a
      // query and its type can drift apart; production trusts what those tests checked.
      validateRows: !production,
    },
    limits: { maxPageSize: e.MAX_PAGE_SIZE, maxBatchKeys: e.MAX_BATCH_KEYS },
    queryLimits: {
      maxDepth: e.MAX_DEPTH,
      maxCost: e.MAX_COST,
      maxAliases: e.MAX_ALIASES,
      maxDirectives: e.MAX_DIRECTIVES,
      maxTokens: e.MAX_TOKENS,
      maxQueryBytes: e.MAX_QUERY_BYTES,
      maxPageSize: e.MAX_PAGE_SIZE,
      maxBatch: e.MAX_BATCH,
      heavyCost: e.HEAVY_COST,
      maxHeavy: e.MAX_HEAVY_REQUESTS,
      queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
    },
    http: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      metricsPort: e.METRICS_PORT,
      compressionMinBytes: e.COMPRESSION_MIN_BYTES,
    },
    backpressure: {
      maxConcurrent: e.MAX_CONCURRENT_REQUESTS,
      maxQueued: e.MAX_QUEUED_REQUESTS,
      queueTimeoutMs: e.QUEUE_TIMEOUT_MS,
      memorySoftLimitMB: e.MEMORY_SOFT_LIMIT_MB,
    },
    documentCache: { maxBytes: e.DOCUMENT_CACHE_MAX_BYTES, compiledMaxBytes: e.JIT_CACHE_MAX_BYTES },
    persistedOperations: e.PERSISTED_OPERATIONS,
    apq: {
      maxDocuments: e.APQ_MAX_DOCUMENTS,
      maxBytes: e.APQ_MAX_BYTES,
      ttlMs: e.CACHE_TTL_S * 1000,
      registrationsPerMinute: e.APQ_REGISTRATIONS_PER_MINUTE,
    },
    jwt: { secret: e.JWT_SECRET, ttl: e.JWT_TTL },
    redisUrl: e.REDIS_URL,
    ml: {
      modelPath: e.MODEL_PATH,
      batchSize: e.EMBED_BATCH_SIZE,
      threads: e.ORT_THREADS,
      idleMs: e.EMBED_IDLE_MS,
      vectorIndex: e.VECTOR_INDEX,
      syncMs: e.VECTOR_SYNC_MS,
    },
    cache: { maxBytes: e.CACHE_MAX_BYTES, ttlMs: e.CACHE_TTL_S * 1000 },
    clientIpHeader: e.CLIENT_IP_HEADER,
    trustedProxyHops: e.TRUSTED_PROXY_HOPS,
    accounts: {
      hashing: {
        concurrency: e.PASSWORD_HASH_CONCURRENCY,
        maxWaiting: e.PASSWORD_HASH_QUEUE,
        timeoutMs: e.PASSWORD_HASH_TIMEOUT_MS,
      },
      registration: {
        addressMax: e.REGISTER_ADDRESS_LIMIT,
        addressWindowMs: e.REGISTER_ADDRESS_WINDOW_S * 1000,
        globalMax: e.REGISTER_GLOBAL_LIMIT,
        globalWindowMs: e.REGISTER_GLOBAL_WINDOW_S * 1000,
      },
    },
    // Unset: same origin only in production, any origin in development (README, CORS_ORIGINS).
    corsOrigins: e.CORS_ORIGINS
      ? e.CORS_ORIGINS.split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : production
        ? []
        : ['*'],
    logLevel: e.LOG_LEVEL,
    logBufferBytes: e.LOG_BUFFER_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    seedOnFirstStart: e.SEED_ON_FIRST_START === 'true',
  };
}
