/**
 * Login throttling: fixed windows of failed attempts per key (one key per email, one
 * per client address). In process with lru-cache (bounded: the oldest keys go first);
 * in Redis when REDIS_URL is set, so every replica counts the same attempts.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../logger.ts';

export type ThrottleOptions = { maxFailures: number; windowMs: number };
export const LOGIN_THROTTLE: ThrottleOptions = { maxFailures: 10, windowMs: 15 * 60_000 };

export type LoginThrottle = {
  /** Milliseconds until the first blocked key frees up, or 0 when every key may try. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failure against each key. */
  fail(keys: readonly string[]): Promise<void>;
  /** Forgets a key (a successful login clears its email's failures). */
  reset(key: string): Promise<void>;
};

type Window = { failures: number; endsAt: number };

/** In-process counters: at most `maxKeys` windows, each dropped when it ends. */
export function createLocalThrottle(options: ThrottleOptions, maxKeys = 50_000): LoginThrottle {
  const windows = new LRUCache<string, Window>({ max: maxKeys, ttl: options.windowMs, ttlAutopurge: false });
  return {
    async blockedFor(keys) {
      const now = Date.now();
      let wait = 0;
      for (const key of keys) {
        const w = windows.get(key);
        if (w && w.failures >= options.maxFailures && w.endsAt > now) wait = Math.max(wait, w.endsAt - now);
      }
      return wait;
    },
    async fail(keys) {
      const now = Date.now();
      for (const key of keys) {
        const w = windows.get(key);
        if (w && w.endsAt > now) w.failures += 1;
        else windows.set(key, { failures: 1, endsAt: now + options.windowMs }, { ttl: options.windowMs });
      }
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

// INCR and set the window's expiry on the first failure, atomically.
const FAIL_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/**
 * Shared counters in Redis (`<prefix>login:<key>`). When Redis does not answer, the
 * process falls back to its own counters instead of failing logins: throttling gets
 * per-replica for a while, it never turns off.
 */
export function createRedisThrottle(
  redis: Redis,
  options: ThrottleOptions,
  log: Logger,
  prefix = 'tastematch:',
): LoginThrottle {
  const local = createLocalThrottle(options);
  const k = (key: string) => `${prefix}login:${key}`;
  let lastWarning = 0;
  const fallback = <T>(error: unknown, run: () => Promise<T>) => {
    if (Date.now() - lastWarning > 60_000) {
      lastWarning = Date.now();
      log.warn({ err: error }, 'Redis unavailable: login throttling falls back to this process');
    }
    return run();
  };
  return {
    async blockedFor(keys) {
      try {
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.get(k(key)).pttl(k(key));
        const replies = (await pipeline.exec()) ?? [];
        let wait = 0;
        for (let i = 0; i < keys.length; i++) {
          const [countErr, count] = replies[2 * i] ?? [];
          const [ttlErr, ttl] = replies[2 * i + 1] ?? [];
          if (countErr || ttlErr) throw countErr ?? ttlErr;
          if (Number(count) >= options.maxFailures && Number(ttl) > 0) wait = Math.max(wait, Number(ttl));
        }
        return Math.max(wait, await local.blockedFor(keys));
      } catch (error) {
        return fallback(error, () => local.blockedFor(keys));
      }
    },
    async fail(keys) {
      try {
        await Promise.all(keys.map((key) => redis.eval(FAIL_SCRIPT, 1, k(key), options.windowMs)));
      } catch (error) {
        await fallback(error, () => local.fail(keys));
      }
    },
    async reset(key) {
      await local.reset(key);
      try {
        await redis.del(k(key));
      } catch (error) {
        await fallback(error, async () => {});
      }
    },
  };
}
