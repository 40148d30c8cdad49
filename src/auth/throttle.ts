/**
 * Attempt throttling (logins, registrations): fixed windows of attempts per key (one key
 * per email, per client address, or one for everyone). An attempt is reserved before the
 * work it guards (argon2), in one atomic step that checks every key's window and counts
 * against all of them, so concurrent attempts cannot all pass the check before any count.
 *
 * In process with lru-cache (bounded: the oldest keys go first); in Redis when REDIS_URL
 * is set, so every replica counts the same attempts. Redis keys carry no TTL (the window's
 * end is in the value, cleaned by the script), so `volatile-*` eviction never drops them;
 * the process keeps its own counters alongside, so even an `allkeys-*` eviction leaves a
 * replica blocking what it saw.
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.ts';

/** One key's limit: at most `max` attempts per window of `windowMs`. */
export type Limit = { key: string; max: number; windowMs: number };

export type ThrottleOptions = { maxFailures: number; windowMs: number };
export const LOGIN_THROTTLE: ThrottleOptions = { maxFailures: 10, windowMs: 15 * 60_000 };

export type Throttle = {
  /**
   * When no key is at its limit, counts one attempt against every key and returns 0;
   * otherwise counts nothing and returns the milliseconds until every blocked key frees up.
   */
  reserve(limits: readonly Limit[]): Promise<number>;
  /** Gives one reserved attempt back (an attempt that must not count: a success, an overload). */
  release(keys: readonly string[]): Promise<void>;
  /** Forgets a key (a successful login clears its email's failures). */
  reset(key: string): Promise<void>;
};

type Window = { count: number; endsAt: number };

export type LocalThrottle = Throttle & {
  /** Records attempts another authority admitted (Redis), without checking. */
  record(limits: readonly Limit[]): void;
  /** Milliseconds until every blocked key frees up, 0 when none is blocked. */
  waitFor(limits: readonly Limit[]): number;
};

/** In-process counters: at most `maxKeys` windows, each dropped when it ends. Synchronous, hence atomic. */
export function createLocalThrottle(maxKeys = 50_000): LocalThrottle {
  const windows = new LRUCache<string, Window>({ max: maxKeys, ttlAutopurge: false });
  const current = (key: string, now: number) => {
    const w = windows.get(key);
    return w && w.endsAt > now ? w : undefined;
  };
  const waitFor = (limits: readonly Limit[]) => {
    const now = Date.now();
    let wait = 0;
    for (const { key, max } of limits) {
      const w = current(key, now);
      if (w && w.count >= max) wait = Math.max(wait, w.endsAt - now);
    }
    return wait;
  };
  const record = (limits: readonly Limit[]) => {
    const now = Date.now();
    for (const { key, windowMs } of limits) {
      const w = current(key, now);
      if (w) w.count += 1;
      else windows.set(key, { count: 1, endsAt: now + windowMs }, { ttl: windowMs });
    }
  };
  return {
    waitFor,
    record,
    async reserve(limits) {
      const wait = waitFor(limits);
      if (wait === 0) record(limits);
      return wait;
    },
    async release(keys) {
      const now = Date.now();
      for (const key of keys) {
        const w = current(key, now);
        if (w && w.count > 0) w.count -= 1;
      }
    },
    async reset(key) {
      windows.delete(key);
    },
  };
}

/*
 * KEYS: the index (a sorted set of window keys by end time), then one hash per limit.
 * ARGV: how many expired windows to clean, then `max`, `windowMs` per limit.
 * Returns 0 (reserved against every key) or the wait in ms (nothing counted).
 * Time comes from Redis, so every replica agrees on when a window ends.
 */
const RESERVE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local index = KEYS[1]
local expired = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, key in ipairs(expired) do
  redis.call('DEL', key)
  redis.call('ZREM', index, key)
end
local wait = 0
local live = {}
for i = 2, #KEYS do
  local w = redis.call('HMGET', KEYS[i], 'count', 'endsAt')
  local count, endsAt = tonumber(w[1]), tonumber(w[2])
  if endsAt and endsAt > now then
    live[i] = true
    if count >= tonumber(ARGV[2 * i - 2]) then wait = math.max(wait, endsAt - now) end
  end
end
if wait > 0 then return wait end
for i = 2, #KEYS do
  if live[i] then
    redis.call('HINCRBY', KEYS[i], 'count', 1)
  else
    local endsAt = now + tonumber(ARGV[2 * i - 1])
    redis.call('HSET', KEYS[i], 'count', 1, 'endsAt', endsAt)
    redis.call('ZADD', index, endsAt, KEYS[i])
  end
end
return 0`;

// Gives one attempt back, never below 0, only within a live window.
const RELEASE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local w = redis.call('HMGET', KEYS[i], 'count', 'endsAt')
  if tonumber(w[2]) and tonumber(w[2]) > now and tonumber(w[1]) > 0 then
    redis.call('HINCRBY', KEYS[i], 'count', -1)
  end
end
return 0`;

/** Expired windows each reservation deletes: keeps the TTL-less keys bounded by the attempt rate. */
const CLEAN_PER_CALL = 16;

/**
 * Shared counters in Redis (`<prefix>throttle:<key>`, indexed by `<prefix>throttle:windows`).
 * When Redis does not answer, the process falls back to its own counters instead of
 * failing attempts: throttling gets per-replica for a while, it never turns off.
 */
export function createRedisThrottle(redis: Redis, log: Logger, prefix = 'tastematch:'): Throttle {
  const local = createLocalThrottle();
  const k = (key: string) => `${prefix}throttle:${key}`;
  const index = `${prefix}throttle:windows`;
  let lastWarning = 0;
  const fallback = <T>(error: unknown, run: () => Promise<T>) => {
    if (Date.now() - lastWarning > 60_000) {
      lastWarning = Date.now();
      log.warn({ err: error }, 'Redis unavailable: throttling falls back to this process');
    }
    return run();
  };
  return {
    async reserve(limits) {
      // The process's own view first: what it saw stays blocked even if Redis lost it.
      const localWait = local.waitFor(limits);
      if (localWait > 0) return localWait;
      let wait: number;
      try {
        const args = limits.flatMap((l) => [l.max, l.windowMs]);
        wait = Number(
          await redis.eval(
            RESERVE_SCRIPT,
            limits.length + 1,
            index,
            ...limits.map((l) => k(l.key)),
            CLEAN_PER_CALL,
            ...args,
          ),
        );
      } catch (error) {
        return fallback(error, () => local.reserve(limits));
      }
      if (wait === 0) local.record(limits);
      return wait;
    },
    async release(keys) {
      await local.release(keys);
      try {
        await redis.eval(RELEASE_SCRIPT, keys.length, ...keys.map(k));
      } catch (error) {
        await fallback(error, async () => {});
      }
    },
    async reset(key) {
      await local.reset(key);
      try {
        await redis.multi().del(k(key)).zrem(index, k(key)).exec();
      } catch (error) {
        await fallback(error, async () => {});
      }
    },
  };
}
