/**
 * The process cache: bounded by bytes, not items (lru-cache `maxSize`), with a TTL.
 * Values are stored as their JSON text, which is what they cost and what a shared
 * Redis layer will hold; a reader gets its own copy, never an object another request
 * can change. An entry over `maxEntryBytes` (2 MB) is refused, not stored.
 */
import { LRUCache } from 'lru-cache';
import { cacheEvents, watchCache } from '../metrics.ts';

export type CacheOptions = {
  maxBytes: number;
  ttlMs: number;
  maxEntryBytes?: number;
  /** the `cache` label of its metrics */
  name?: string;
};

export class BytesCache {
  private readonly lru: LRUCache<string, string>;
  private readonly maxEntryBytes: number;

  private readonly name: string;

  constructor(opts: CacheOptions) {
    this.maxEntryBytes = Math.min(opts.maxEntryBytes ?? 2 * 2 ** 20, opts.maxBytes);
    this.name = opts.name ?? 'main';
    watchCache(this.name, () => this.stats());
    this.lru = new LRUCache<string, string>({
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') cacheEvents.inc({ cache: this.name, event: 'eviction' });
      },
      maxSize: opts.maxBytes,
      // UTF-16 code units × 2: what a JS string occupies, near enough, plus the key.
      sizeCalculation: (value, key) => 2 * (value.length + key.length) + 64,
      ttl: opts.ttlMs,
      ttlAutopurge: false,
    });
  }

  get<T>(key: string): T | undefined {
    const text = this.lru.get(key);
    cacheEvents.inc({ cache: this.name, event: text === undefined ? 'miss' : 'hit' });
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** @returns false when the value is too large to cache */
  set(key: string, value: unknown): boolean {
    const text = JSON.stringify(value);
    if (2 * text.length > this.maxEntryBytes) {
      cacheEvents.inc({ cache: this.name, event: 'refused' });
      return false;
    }
    this.lru.set(key, text);
    cacheEvents.inc({ cache: this.name, event: 'set' });
    return true;
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  stats() {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}
