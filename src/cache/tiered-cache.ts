/**
 * The gateway's cache: a bytes-bounded in-process LRU (BytesCache) in front of an optional
 * shared Redis (REDIS_URL), with invalidations broadcast to every replica.
 *
 * - Key spaces: `recs` (a user's recommendation list), `restaurants` (catalogue metadata).
 *   APQ registrations have a store and bounds of their own (apq-store.ts).
 * - Reads: local first, then Redis (copied locally). Writes: both. Redis values expire
 *   with the same TTL; entries over 2 MB are stored nowhere.
 * - `invalidate(space, key)`: drops the local copy, deletes the Redis copy and PUBLISHes
 *   on `tastematch:invalidate`; every other replica drops its local copy on receipt.
 * - Redis away: the gateway serves from PostgreSQL and its local cache. No call waits on
 *   Redis longer than REDIS_TIMEOUT_MS (no offline queue: a disconnected client fails at
 *   once). Invalidations that could not be sent are kept (bounded) and sent when Redis is
 *   back; a replica whose subscription was broken clears its local copies of the
 *   invalidatable spaces when it resubscribes, since it may have missed messages.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../observability/logger.ts';
import { cacheEvents } from '../observability/metrics.ts';
import type { BytesCache } from './bytes-cache.ts';

export type CacheSpace = 'recs' | 'restaurants';

export const INVALIDATION_CHANNEL = 'tastematch:invalidate';
const PREFIX = 'tastematch:cache:';
/** The longest a request waits on Redis for a cache read or write. */
export const REDIS_TIMEOUT_MS = 250;
/** Invalidations kept while Redis is away; past this, every replica's local copies are cleared on return. */
const MAX_PENDING = 10_000;

/** Spaces that live shorter than CACHE_TTL_S: catalogue metadata as long as the public HTTP max-age. */
const SPACE_TTL_MS: Partial<Record<CacheSpace, number>> = { restaurants: 300_000 };

type Message = { origin: string; space: CacheSpace; key?: string };

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class TieredCache {
  /** This replica's id: its own broadcasts are ignored on receipt. */
  readonly origin = randomUUID();
  private readonly pending = new Map<string, Message>();
  private overflowed = false;
  private subscriber: Redis | undefined;
  private subscribedOnce = false;
  private lastWarning = 0;

  constructor(
    readonly local: BytesCache,
    private readonly redis: Redis | undefined,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    if (!redis) return;
    this.subscriber = redis.duplicate({ enableOfflineQueue: true });
    this.subscriber.on('error', () => {}); // the main client logs Redis trouble
    this.subscriber.on('message', (_channel: string, raw: string) => this.receive(raw));
    this.subscriber.on('ready', () => void this.onSubscriberReady());
    redis.on('ready', () => void this.flushPending());
  }

  async get<T>(space: CacheSpace, key: string): Promise<T | undefined> {
    const k = `${space}:${key}`;
    const local = this.local.getText(k);
    if (local !== undefined) return JSON.parse(local) as T;
    const redis = this.available();
    if (!redis) return undefined;
    try {
      const text = await withTimeout(redis.get(PREFIX + k), REDIS_TIMEOUT_MS);
      cacheEvents.inc({ cache: 'redis', event: text === null ? 'miss' : 'hit' });
      if (text === null) return undefined;
      this.local.setText(k, text, this.ttl(space));
      return JSON.parse(text) as T;
    } catch (error) {
      this.warn(error, 'read');
      return undefined;
    }
  }

  async set(space: CacheSpace, key: string, value: unknown): Promise<void> {
    const k = `${space}:${key}`;
    const text = JSON.stringify(value);
    const ttlMs = this.ttl(space);
    if (!this.local.setText(k, text, ttlMs)) return; // over 2 MB: not cached anywhere
    const redis = this.available();
    if (!redis) return;
    try {
      await withTimeout(redis.set(PREFIX + k, text, 'PX', ttlMs), REDIS_TIMEOUT_MS);
      cacheEvents.inc({ cache: 'redis', event: 'set' });
    } catch (error) {
      this.warn(error, 'write');
    }
  }

  /** Forgets `space:key` here, in Redis and on every other replica. */
  async invalidate(space: CacheSpace, key: string): Promise<void> {
    this.local.delete(`${space}:${key}`);
    cacheEvents.inc({ cache: 'main', event: 'invalidation' });
    if (!this.redis) return;
    const message: Message = { origin: this.origin, space, key };
    if (!(await this.send(message))) this.keep(message);
  }

  /** Local and Redis entry counts and bytes, for /health and tests. */
  stats() {
    return { ...this.local.stats(), pendingInvalidations: this.pending.size, redis: this.redis?.status ?? 'off' };
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  private ttl(space: CacheSpace): number {
    return Math.min(SPACE_TTL_MS[space] ?? this.ttlMs, this.ttlMs);
  }

  private available(): Redis | undefined {
    return this.redis?.status === 'ready' ? this.redis : undefined;
  }

  private async send(message: Message): Promise<boolean> {
    const redis = this.available();
    if (!redis) return false;
    try {
      const multi = redis.multi();
      if (message.key !== undefined) multi.del(`${PREFIX}${message.space}:${message.key}`);
      multi.publish(INVALIDATION_CHANNEL, JSON.stringify(message));
      await withTimeout(multi.exec(), REDIS_TIMEOUT_MS);
      return true;
    } catch (error) {
      this.warn(error, 'invalidation');
      return false;
    }
  }

  private keep(message: Message) {
    if (this.pending.size >= MAX_PENDING) {
      this.overflowed = true;
      return;
    }
    this.pending.set(`${message.space}:${message.key ?? ''}`, message);
  }

  /** Redis is back: send what could not be sent. */
  private async flushPending() {
    if (this.overflowed) {
      this.overflowed = false;
      this.pending.clear();
      // Too many to replay: every replica clears its local invalidatable copies instead.
      await this.send({ origin: this.origin, space: 'recs' });
    }
    for (const [id, message] of [...this.pending]) {
      if (!(await this.send(message))) return;
      this.pending.delete(id);
    }
  }

  private async onSubscriberReady() {
    const sub = this.subscriber;
    if (!sub) return;
    if (this.subscribedOnce) {
      // Messages sent while the subscription was down are lost: start afresh.
      this.local.deletePrefix('recs:');
      this.log.info('Redis subscription restored: local recommendation copies cleared');
    }
    this.subscribedOnce = true;
    await sub.subscribe(INVALIDATION_CHANNEL).catch((error: Error) => this.warn(error, 'subscribe'));
  }

  private receive(raw: string) {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (message.origin === this.origin) return;
    cacheEvents.inc({ cache: 'main', event: 'remote_invalidation' });
    if (message.key === undefined) this.local.deletePrefix(`${message.space}:`);
    else this.local.delete(`${message.space}:${message.key}`);
  }

  private warn(error: unknown, what: string) {
    cacheEvents.inc({ cache: 'redis', event: 'error' });
    // Once per 30 s at most: an outage would otherwise log on every request.
    if (Date.now() - this.lastWarning > 30_000) {
      this.lastWarning = Date.now();
      this.log.warn({ err: error }, `Redis cache ${what} failed; serving without it`);
    }
  }
}
