/**
 * The process: configuration → database (embedded when DATABASE_URL is unset) →
 * migrations → (first start: demo data) → pool → app → listen. SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish within SHUTDOWN_TIMEOUT_MS, then close
 * the pool and the embedded database.
 */
import { createServer } from 'node:http';
import { createApp } from './app.ts';
import { createTokenService } from './auth/jwt.ts';
import { createLocalThrottle, createRedisThrottle, LOGIN_THROTTLE } from './auth/throttle.ts';
import { loadConfig } from './config.ts';
import type { EmbeddedDatabase } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createDb } from './db/pool.ts';
import { selectUserIdByEmail } from './db/queries/users.ts';
import { DEMO_EMAIL, DEMO_PASSWORD, seedDatabase } from './db/seed.ts';
import { startMetricsServer } from './http/metrics-plugin.ts';
import { loadManifest } from './http/persisted.ts';
import { createReadinessCheck } from './http/readiness.ts';
import { createLogger } from './logger.ts';
import { backfillEmbeddings, embedRestaurants } from './ml/backfill.ts';
import type { Embedder } from './ml/embedder.ts';
import { modelFiles } from './ml/model-source.ts';
import { createRedis, redisReady } from './redis.ts';
import { createServices } from './services.ts';
import { createTracing } from './tracing.ts';

const DEMO_SEED = { restaurants: 500, users: 50, orders: 3000, batchSize: 1000, seed: 42 };

/** MODEL_PATH readiness: the files are there and the last load did not fail (an unloaded model is ready). */
function modelReadiness(dir: string, embedder: Embedder): string {
  try {
    modelFiles(dir);
  } catch (error) {
    return (error as Error).message;
  }
  return embedder.loadError ? `failed to load: ${embedder.loadError}` : 'ok';
}

async function main() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const tokens = createTokenService({ ...config.jwt, production: config.production });
  if (tokens.generated) log.warn('JWT_SECRET is not set: using a random secret, tokens end with this process');

  let embedded: EmbeddedDatabase | undefined;
  let url = config.databaseUrl;
  if (!url) {
    log.info({ dataDir: config.dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
    // Imported only when used: an image with DATABASE_URL can leave the PostgreSQL binaries out.
    const { startEmbeddedPostgres, takeOverShutdownSignals } = await import('./db/embedded.ts');
    embedded = await startEmbeddedPostgres(config.dataDir, { onLog: (line) => log.debug({ pg: line }) });
    takeOverShutdownSignals();
    url = embedded.url;
  }
  const { applied } = await migrate(url, (line) => log.info(line));
  const db = await createDb({ url, ...config.db }, log);
  const redis = config.redisUrl ? createRedis(config.redisUrl, log) : undefined;
  if (redis && !(await redisReady(redis))) log.warn('Redis is not answering yet: going on without it until it does');
  const services = await createServices(db, { ml: config.ml, cache: config.cache }, log, redis);
  const { embedder, embeddingType } = services.ml;
  if (config.ml.modelPath) await embedder.warm(); // fail at start-up, not on the first search
  if (embedded?.created && config.seedOnFirstStart) {
    log.info(DEMO_SEED, 'first start: seeding demo data (with embeddings)');
    await seedDatabase(url, {
      ...DEMO_SEED,
      onRestaurantBatch: (rows) =>
        embedRestaurants(
          db,
          embedder,
          embeddingType,
          rows.map((r) => ({ ...r, cuisine_type: r.cuisineType })),
        ),
    });
  }
  // Rows without an embedding, or made by another model (MODEL_PATH changed): embedded in
  // the background, a batch at a time; search and recommendations see them as they land.
  void backfillEmbeddings(db, embedder, embeddingType, {
    batchSize: 256,
    onProgress: (p) => log.info(p, 'embedding restaurants'),
  }).catch((e: Error) => log.error({ err: e }, 'embedding backfill failed'));
  const { modelPath } = config.ml;
  const tracing = await createTracing(process.env, log);
  const app = createApp({
    db,
    tokens,
    limits: config.limits,
    queryLimits: config.queryLimits,
    backpressure: config.backpressure,
    // A bad manifest stops the start (loadManifest says which file and why).
    persisted: {
      mode: config.persistedOperations,
      manifest: config.persistedOperations === 'off' ? new Map() : loadManifest(),
      // APQ registrations in the shared cache: registered on one replica, served by all.
      store: {
        get: (id) => services.cache.get<string>('pq', id),
        set: (id, body) => services.cache.set('pq', id, body),
      },
    },
    maxBodyBytes: config.http.maxBodyBytes,
    documentCache: config.documentCache,
    tracing: tracing?.plugin,
    metricsEndpoint: config.http.metricsPort === 0,
    loginThrottle: redis ? createRedisThrottle(redis, LOGIN_THROTTLE, log) : createLocalThrottle(LOGIN_THROTTLE),
    clientIpHeader: config.clientIpHeader,
    ml: services.ml,
    recommender: services.recommender,
    cache: services.cache,
    log,
    production: config.production,
    corsOrigins: config.corsOrigins,
    ready: createReadinessCheck(db, modelPath ? () => modelReadiness(modelPath, embedder) : undefined),
  });

  const server = createServer(app);
  // Slow or idle clients cannot hold sockets: the whole request within REQUEST_TIMEOUT_MS,
  // headers within 10 s (slowloris); idle keep-alive sockets live 65 s, longer than the
  // usual proxy idle timeout (60 s), so a proxy never reuses a socket the server is closing.
  server.requestTimeout = config.http.requestTimeoutMs;
  server.headersTimeout = Math.min(10_000, config.http.requestTimeoutMs);
  server.keepAliveTimeout = 65_000;
  server.maxHeadersCount = 100;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const metricsServer = config.http.metricsPort
    ? await startMetricsServer(config.http.metricsPort, config.host)
    : undefined;
  const base = `http://localhost:${config.port}`;
  log.info({ applied, url: `${base}/graphql` }, 'TasteMatch gateway listening');
  if (embedded) {
    const demo = await selectUserIdByEmail(db, DEMO_EMAIL);
    const token = demo ? await tokens.sign(demo.id) : undefined;
    process.stdout.write(
      `\n  GraphiQL:   ${base}/graphql\n  Demo user:  ${DEMO_EMAIL} / ${DEMO_PASSWORD}\n` +
        (token ? `  Demo token: ${token}\n  (GraphiQL → Headers: {"Authorization": "Bearer <token>"})\n\n` : '\n'),
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    metricsServer?.close();
    server.closeIdleConnections();
    const timer = setTimeout(() => {
      log.warn('shutdown timeout: closing remaining connections');
      server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    await closed;
    clearTimeout(timer);
    await services.close().catch((e: Error) => log.error({ err: e }, 'closing the model failed'));
    await db.end().catch((e: Error) => log.error({ err: e }, 'pool end failed'));
    await tracing?.shutdown().catch((e: Error) => log.warn({ err: e }, 'flushing traces failed'));
    redis?.disconnect();
    await embedded?.stop().catch((e: Error) => log.error({ err: e }, 'embedded PostgreSQL stop failed'));
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: Error) => {
  process.stderr.write(`TasteMatch gateway failed to start: ${error.message}\n`);
  process.exit(1);
});
