/**
 * The process cache: bounded by bytes, not items (lru-cache `maxSize`), with a TTL.
 * Values are stored as their JSON text, which is what they cost and what a shared
 * Redis layer will hold; a reader gets its own copy, never an object another request
 * can change. An entry over `maxEntryBytes` (2 MB) is refused, not stored.
 */
import { LRUCache } from 'lru-cache';
import { cacheEvents, watchCache } from '../observability/metrics.ts';

export type CacheOptions = {
  maxBytes: number;
  ttlMs: number;
  maxEntryBytes?: number;
  /** the `cache` label of its metrics */
  name?: string;
  /** the clock for TTLs (tests); default performance */
  clock?: { now(): number };
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
      ...(opts.clock ? { perf: opts.clock, ttlResolution: 0 } : {}),
    });
  }

  get<T>(key: string): T | undefined {
    const text = this.getText(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /** The stored JSON text (what a second level such as Redis holds). */
  getText(key: string): string | undefined {
    const text = this.lru.get(key);
    cacheEvents.inc({ cache: this.name, event: text === undefined ? 'miss' : 'hit' });
    return text;
  }

  /** @returns false when the value is too large to cache */
  set(key: string, value: unknown): boolean {
    return this.setText(key, JSON.stringify(value));
  }

  /** Stores JSON text as it is. @returns false when it is too large to cache */
  setText(key: string, text: string, ttlMs?: number): boolean {
    if (!this.fits(text)) {
      cacheEvents.inc({ cache: this.name, event: 'refused' });
      return false;
    }
    this.lru.set(key, text, ttlMs === undefined ? undefined : { ttl: ttlMs });
    cacheEvents.inc({ cache: this.name, event: 'set' });
    return true;
  }

  /** Whether a JSON text is small enough to be cached (at most 2 MB). */
  fits(text: string): boolean {
    return 2 * text.length <= this.maxEntryBytes;
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  /** Drops every entry whose key starts with `prefix`. */
  deletePrefix(prefix: string): void {
    for (const key of [...this.lru.keys()]) if (key.startsWith(prefix)) this.lru.delete(key);
  }

  stats() {
    return { entries: this.lru.size, bytes: this.lru.calculatedSize };
  }
}
