/**
 * The process's Redis connection (REDIS_URL). Commands fail fast while Redis is away
 * (no offline queue, one retry, a command timeout) so callers can fall back instead of
 * piling up requests; the client reconnects by itself.
 */
import { Redis } from 'ioredis';
import type { Logger } from './logger.ts';

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
