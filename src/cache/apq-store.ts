/**
 * APQ registrations (sha256 → document), with bounds of their own: nothing here shares
 * room with the recommendation cache, and nothing here can push out other keys.
 *
 * - Per replica: an LRU bounded in count (APQ_MAX_DOCUMENTS) and in document bytes
 *   (APQ_MAX_BYTES), entries living CACHE_TTL_S.
 * - In Redis (REDIS_URL), so a registration made on one replica serves on all:
 *   `tastematch:apq:doc:<sha256>` (the document, expiring after CACHE_TTL_S) and
 *   `tastematch:apq:index` (a sorted set of the registered ids by registration time).
 *   One Lua script stores a document and trims, atomically across replicas, the oldest
 *   until the index holds at most APQ_MAX_DOCUMENTS documents of APQ_MAX_BYTES in all;
 *   expired or evicted documents leave the index on the next registration. Redis memory
 *   for APQ is therefore at most APQ_MAX_BYTES plus about 200 bytes per document.
 * - Redis away or slow: reads and writes give up after REDIS_TIMEOUT_MS and the replica
 *   goes on with its own LRU (a client whose hash is unknown resends the document).
 */
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../observability/logger.ts';
import { cacheEvents, watchCache } from '../observability/metrics.ts';
import { REDIS_TIMEOUT_MS, withTimeout } from './tiered-cache.ts';

export type ApqBounds = {
  /** documents kept, per replica and in Redis */
  maxDocuments: number;
  /** UTF-8 bytes of the documents kept, per replica and in Redis */
  maxBytes: number;
  ttlMs: number;
};

export const APQ_INDEX_KEY = 'tastematch:apq:index';
export const APQ_DOCUMENT_PREFIX = 'tastematch:apq:doc:';

const ID = /^[0-9a-f]{64}$/;

// KEYS[1] index, KEYS[2] the document's key; ARGV: id, body, ttl ms, now ms, max documents, max bytes, prefix.
// Newest first, documents are kept while both bounds hold; from the first that does not
// fit, every older one goes (least recently registered first, as in the local LRU).
const REGISTER = `
local index, id, prefix = KEYS[1], ARGV[1], ARGV[7]
local maxDocuments, maxBytes = tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', index, ARGV[4], id)
local count, bytes, full = 0, 0, false
for _, member in ipairs(redis.call('ZREVRANGE', index, 0, -1)) do
  local size = redis.call('STRLEN', prefix .. member)
  if size == 0 then
    redis.call('ZREM', index, member)
  elseif full or count >= maxDocuments or bytes + size > maxBytes then
    full = true
    redis.call('ZREM', index, member)
    redis.call('DEL', prefix .. member)
  else
    count = count + 1
    bytes = bytes + size
  end
end
return count
`;

export class ApqStore {
  private readonly local: LRUCache<string, string>;
  private lastWarning = 0;

  constructor(
    private readonly bounds: ApqBounds,
    private readonly redis?: Redis,
    private readonly log?: Logger,
  ) {
    this.local = new LRUCache<string, string>({
      max: bounds.maxDocuments,
      maxSize: bounds.maxBytes,
      sizeCalculation: (body) => Math.max(1, Buffer.byteLength(body)),
      ttl: bounds.ttlMs,
      dispose: (_body, _id, reason) => {
        if (reason === 'evict') cacheEvents.inc({ cache: 'apq', event: 'eviction' });
      },
    });
    watchCache('apq', () => ({ entries: this.local.size, bytes: this.local.calculatedSize }));
  }

  /** Whether this replica holds `id` already (registering it again would change nothing). */
  has(id: string): boolean {
    return this.local.has(id);
  }

  async get(id: string): Promise<string | undefined> {
    if (!ID.test(id)) return undefined; // never a registered id: no Redis round trip for it
    const local = this.local.get(id);
    if (local !== undefined) return local;
    const redis = this.available();
    if (!redis) return undefined;
    try {
      const body = await withTimeout(redis.get(APQ_DOCUMENT_PREFIX + id), REDIS_TIMEOUT_MS);
      cacheEvents.inc({ cache: 'apq', event: body === null ? 'miss' : 'hit' });
      if (body === null) return undefined;
      this.local.set(id, body);
      return body;
    } catch (error) {
      this.warn(error, 'read');
      return undefined;
    }
  }

  /** Stores a verified registration (`id` is the sha256 of `body`) here and in Redis. */
  async set(id: string, body: string): Promise<void> {
    this.local.set(id, body);
    cacheEvents.inc({ cache: 'apq', event: 'set' });
    const redis = this.available();
    if (!redis) return;
    const { maxDocuments, maxBytes, ttlMs } = this.bounds;
    try {
      await withTimeout(
        redis.eval(
          REGISTER,
          2,
          APQ_INDEX_KEY,
          APQ_DOCUMENT_PREFIX + id,
          id,
          body,
          ttlMs,
          Date.now(),
          maxDocuments,
          maxBytes,
          APQ_DOCUMENT_PREFIX,
        ),
        REDIS_TIMEOUT_MS,
      );
    } catch (error) {
      this.warn(error, 'write');
    }
  }

  private available(): Redis | undefined {
    return this.redis?.status === 'ready' ? this.redis : undefined;
  }

  private warn(error: unknown, what: string) {
    cacheEvents.inc({ cache: 'redis', event: 'error' });
    // Once per 30 s at most: an outage would otherwise log on every registration.
    if (Date.now() - this.lastWarning > 30_000) {
      this.lastWarning = Date.now();
      this.log?.warn({ err: error }, `Redis APQ ${what} failed; serving without it`);
    }
  }
}
