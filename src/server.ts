/**
 * The process: configuration → database (embedded when DATABASE_URL is unset) →
 * migrations → pool → gateway (src/gateway.ts; first start: demo data) → listen. SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish within SHUTDOWN_TIMEOUT_MS, then close
 * the pool and the embedded database.
 */
import { createServer } from 'node:http';
import { loadConfig } from './config.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from './db/demo-account.ts';
import type { EmbeddedDatabase } from './db/embedded.ts';
import { migrate } from './db/migrate.ts';
import { createDb } from './db/pool.ts';
import { selectUserIdByEmail } from './db/queries/users.ts';
import { seedDatabase } from './db/seed.ts';
import { createGateway } from './gateway.ts';
import { createDrainer } from './http/drain.ts';
import { healthDetails } from './http/health.ts';
import { startMetricsServer } from './http/metrics-plugin.ts';
import { backfillEmbeddings, embedRestaurants } from './ml/backfill.ts';
import { createLogger, type Logger, logFormat } from './observability/logger.ts';
import { createTracing } from './observability/tracing.ts';

const DEMO_SEED = { restaurants: 500, users: 50, orders: 3000, batchSize: 1000, seed: 42 };

/**
 * What the embedded-database start prints: only what is true of this process. Production has no
 * GraphiQL (the endpoint answers GraphQL requests only) and no account with a known password.
 */
function banner(base: string, opts: { production: boolean; demoToken?: string }): string {
  if (opts.production) {
    return (
      `\n  GraphQL:    ${base}/graphql (POST or GET; GraphiQL is off in production)\n` +
      '  Demo user:  none (NODE_ENV=production: no seeded account has a known password)\n\n'
    );
  }
  if (!opts.demoToken) {
    return `\n  GraphiQL:   ${base}/graphql\n  Demo user:  none (this database has no ${DEMO_EMAIL} account)\n\n`;
  }
  return (
    `\n  GraphiQL:   ${base}/graphql\n  Demo user:  ${DEMO_EMAIL} / ${DEMO_PASSWORD}\n` +
    `  Demo token: ${opts.demoToken}\n  (already in the headers of GraphiQL's signed-in tabs)\n\n`
  );
}

async function main() {
  const config = loadConfig();
  let stopping = false;
  const log = createLogger(
    config.logLevel,
    undefined,
    logFormat({ production: config.production, isTTY: process.stdout.isTTY === true }),
    config.logBufferBytes,
  );

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
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, log) : undefined;
  const tracing = await createTracing(process.env, log);
  const gateway = await createGateway(config, {
    db,
    log,
    redis,
    tracing: tracing?.plugin,
    async prepare({ services, tokens }) {
      const { embedder, embeddingType } = services.ml;
      if (embedded?.created && config.seedOnFirstStart) {
        // Production: the demo catalogue without the demo login (no account with a published password).
        const demoLogin = !config.production;
        log.info({ ...DEMO_SEED, demoLogin }, 'first start: seeding demo data (with embeddings)');
        await seedDatabase(url, {
          ...DEMO_SEED,
          demoLogin,
          onRestaurantBatch: (rows) =>
            embedRestaurants(
              db,
              embedder,
              embeddingType,
              rows.map((r) => ({ ...r, cuisine_type: r.cuisineType })),
            ),
        });
      }
      // The in-process vector index is filled before the server listens (pgvector: nothing to do),
      // so the first `similar` or search after a start or deploy does not wait for 10,000 rows,
      // and the RSS at ready is what serving takes (docs/BENCHMARKS.md).
      await services.ml.index.sync();
      // Rows without an embedding, or made by another model (MODEL_PATH changed): embedded in
      // the background, a batch at a time; search and recommendations see them as they land.
      void backfillEmbeddings(db, embedder, embeddingType, {
        batchSize: 256,
        onProgress: (p) => log.info(p, 'embedding restaurants'),
      }).catch((e: Error) =>
        // Stopping closes the pool under it: not a failure.
        stopping
          ? log.debug({ err: e }, 'embedding backfill stopped')
          : log.error({ err: e }, 'embedding backfill failed'),
      );
      // Development on the embedded demo data: the demo user's token for the banner and GraphiQL's tabs.
      const demo = embedded && !config.production ? await selectUserIdByEmail(db, DEMO_EMAIL) : undefined;
      return { demoToken: demo ? await tokens.sign(demo.id) : undefined };
    },
  });

  const { app, demoToken } = gateway;

  // Slow or idle clients cannot hold sockets: the whole request within REQUEST_TIMEOUT_MS,
  // headers within 10 s (slowloris); idle keep-alive sockets live 65 s, longer than the
  // usual proxy idle timeout (60 s), so a proxy never reuses a socket the server is closing.
  // Node enforces the first two only when it checks its connections (every 30 s by default,
  // so a 30 s timeout cut at up to 60 s): checking every tenth of the smallest timeout makes
  // the configured values the real ones within 10 %, at one pass over the open sockets a second.
  const headersTimeout = Math.min(10_000, config.http.requestTimeoutMs);
  const server = createServer({
    requestTimeout: config.http.requestTimeoutMs,
    headersTimeout,
    connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(headersTimeout / 10))),
    keepAliveTimeout: 65_000,
  });
  server.maxHeadersCount = 100;
  const drainer = createDrainer(server, app.listener);
  server.on('request', drainer.listener);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  // Production: /metrics and the detailed /health only here, never on the public port; no
  // METRICS_PORT, no listener (several processes can share a host).
  const metricsServer = config.http.metricsPort
    ? await startMetricsServer(config.http.metricsPort, config.host, { health: () => healthDetails(app.load) })
    : undefined;
  const base = `http://localhost:${config.port}`;
  log.info({ applied, url: `${base}/graphql` }, 'TasteMatch gateway listening');
  if (embedded) {
    // After the buffered log lines before it (LOG_BUFFER_BYTES), not ahead of them.
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    process.stdout.write(banner(base, { production: config.production, demoToken }));
  }

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    metricsServer?.close();
    // Only once no handler runs any more do the pool and the database close.
    await drainer.drain(config.shutdownTimeoutMs, (left) =>
      log.warn(left, 'shutdown timeout: closing the remaining connections'),
    );
    // Work the app left running after its answers (waitUntil), its plugins, then the services.
    await gateway.close();
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

/**
 * The Redis of REDIS_URL, its eviction policy checked. ioredis is imported only here, when
 * REDIS_URL asks for it (~2 MB of heap otherwise held for nothing).
 */
async function connectRedis(url: string, log: Logger) {
  const { createRedis, redisReady, warnIfRedisCanEvict } = await import('./redis.ts');
  const redis = createRedis(url, log);
  if (await redisReady(redis)) await warnIfRedisCanEvict(redis, log);
  else log.warn('Redis is not answering yet: going on without it until it does');
  return redis;
}
