/**
 * The cache's bounds: bytes (CACHE_MAX_BYTES) whatever the number of entries, no entry over
 * 2 MB, per-space TTLs; and the tiered cache without Redis behaves as the local one.
 */
import { describe, expect, it } from 'vitest';
import { BytesCache } from '../src/cache/bytes-cache.ts';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { createLogger } from '../src/observability/logger.ts';

describe('BytesCache', () => {
  it('stays under maxBytes when filled far past it, evicting the least recently used', () => {
    const cache = new BytesCache({ maxBytes: 1_000_000, ttlMs: 60_000, name: 'bound-test' });
    const value = { text: 'x'.repeat(10_000) }; // ~20 KB as a JS string
    for (let i = 0; i < 500; i++) cache.set(`k${i}`, value); // ~10 MB offered
    const { bytes, entries } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(1_000_000);
    expect(entries).toBeGreaterThan(10);
    expect(entries).toBeLessThan(500);
    expect(cache.get('k0')).toBeUndefined(); // the oldest went first
    expect(cache.get('k499')).toEqual(value);
  });

  it('refuses an entry over 2 MB (and stores nothing for it)', () => {
    const cache = new BytesCache({ maxBytes: 64 * 2 ** 20, ttlMs: 60_000, name: 'bound-test' });
    expect(cache.set('big', { text: 'x'.repeat(1_100_000) })).toBe(false); // ~2.2 MB in memory
    expect(cache.get('big')).toBeUndefined();
    expect(cache.stats().entries).toBe(0);
    expect(cache.set('fine', { text: 'x'.repeat(900_000) })).toBe(true);
  });

  it('forgets entries after their TTL', () => {
    let now = 1_000; // lru-cache reads a start time of 0 as "no TTL"
    const cache = new BytesCache({ maxBytes: 1_000_000, ttlMs: 1_000, name: 'bound-test', clock: { now: () => now } });
    cache.set('a', 1);
    cache.setText('b', '2', 10_000);
    now += 2_000;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBe(2);
  });
});

describe('TieredCache without Redis', () => {
  const log = createLogger('silent');

  it('reads back what it stored, per space, and invalidates', async () => {
    const cache = new TieredCache(new BytesCache({ maxBytes: 1_000_000, ttlMs: 60_000 }), undefined, 60_000, log);
    await cache.set('recs', 'u1', { items: [1, 2] });
    await cache.set('restaurants', 'u1', ['Thai']);
    expect(await cache.get('recs', 'u1')).toEqual({ items: [1, 2] });
    expect(await cache.get('restaurants', 'u1')).toEqual(['Thai']);
    await cache.invalidate('recs', 'u1');
    expect(await cache.get('recs', 'u1')).toBeUndefined();
    expect(await cache.get('restaurants', 'u1')).toEqual(['Thai']);
    expect(cache.stats()).toMatchObject({ redis: 'off', pendingInvalidations: 0 });
  });

  it('keeps catalogue metadata for 5 minutes at most, whatever CACHE_TTL_S', async () => {
    let now = 1_000; // lru-cache reads a start time of 0 as "no TTL"
    const local = new BytesCache({ maxBytes: 1_000_000, ttlMs: 3_600_000, clock: { now: () => now } });
    const cache = new TieredCache(local, undefined, 3_600_000, log);
    await cache.set('restaurants', 'cuisines', ['italian']);
    await cache.set('recs', 'u', [1]);
    now += 301_000;
    expect(await cache.get('restaurants', 'cuisines')).toBeUndefined();
    expect(await cache.get('recs', 'u')).toEqual([1]);
  });
});
