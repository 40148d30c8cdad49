/**
 * The process's Redis connection (REDIS_URL). Commands fail fast while Redis is away
 * (no offline queue, one retry, a command timeout) so callers can fall back instead of
 * piling up requests; the client reconnects by itself.
 */
import { Redis } from 'ioredis';
import type { Logger } from './observability/logger.ts';

export function createRedis(url: string, log: Logger): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });
  let lastError = 0;
  redis.on('error', (err: Error) => {
    // Reconnect attempts repeat the same error: log it at most every 30 s.
    if (Date.now() - lastError > 30_000) {
      lastError = Date.now();
      log.warn({ err }, 'Redis connection error');
    }
  });
  return redis;
}

/** Resolves true once the client is connected, false after `timeoutMs` (the caller goes on without it). */
export function redisReady(redis: Redis, timeoutMs = 2_000): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/**
 * Warns once when this Redis may evict keys under memory pressure (a `maxmemory` and a
 * policy other than `noeviction`). Cache entries and APQ documents carry a TTL and are
 * rebuilt when evicted; the throttle's counters have none, so `volatile-*` policies leave
 * them, while `allkeys-*` ones can evict them too (each replica's own counters then still
 * block, src/auth/throttle.ts). A Redis that refuses CONFIG (managed services often do) is
 * not checked; the start goes on in every case.
 */
export async function warnIfRedisCanEvict(redis: Redis, log: Logger): Promise<void> {
  let settings: Map<string, string>;
  try {
    const reply = (await redis.config('GET', 'maxmemory*')) as string[];
    settings = new Map(reply.flatMap((v, i) => (i % 2 === 0 ? [[v, String(reply[i + 1])] as const] : [])));
  } catch (err) {
    log.debug({ err }, 'Redis CONFIG GET refused: its eviction policy is not checked');
    return;
  }
  const policy = settings.get('maxmemory-policy');
  const maxmemory = Number(settings.get('maxmemory') ?? 0);
  if (!policy || policy === 'noeviction' || !(maxmemory > 0)) return;
  const allKeys = policy.startsWith('allkeys-');
  log.warn(
    { maxmemoryPolicy: policy, maxmemory },
    `Redis maxmemory-policy is ${policy} with a maxmemory of ${maxmemory} bytes: when full, Redis evicts ` +
      (allKeys
        ? "any key, the login throttle's shared counters included (each replica then counts alone)"
        : 'cache entries and APQ documents (the login throttle keeps its counters: they have no TTL)') +
      '; maxmemory-policy noeviction is safest (README: Redis settings)',
  );
}
