/**
 * The process's Prometheus metrics (prom-client), served at GET /metrics. One registry
 * per process: the HTTP and GraphQL phase metrics come from @graphql-yoga/plugin-prometheus
 * (src/http/metrics-plugin.ts); these are the gateway's own. Every label has a small,
 * fixed set of values (operation names are bounded there), so the registry is bounded.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
// RSS, heap spaces, event-loop delay, GC pauses by kind, handles, CPU.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

export const sqlStatementsPerRequest = new Histogram({
  name: 'tastematch_sql_statements_per_request',
  help: 'SQL statements one GraphQL request sent (each round trip counts)',
  buckets: [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 50],
  registers: [registry],
});

export const sqlStatements = new Counter({
  name: 'tastematch_sql_statements_total',
  help: 'SQL statements sent, by outcome',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const sqlRowsRead = new Counter({
  name: 'tastematch_sql_rows_read_total',
  help: 'Rows read from PostgreSQL',
  registers: [registry],
});

export const sqlBytesRead = new Counter({
  name: 'tastematch_sql_bytes_read_total',
  help: 'Bytes of row data read from PostgreSQL (the text length of each value, as the protocol carries it)',
  registers: [registry],
});

export const loaderBatchSize = new Histogram({
  name: 'tastematch_dataloader_batch_size',
  help: 'Keys per DataLoader batch (one statement or one vector pass each)',
  labelNames: ['loader'] as const,
  buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
  registers: [registry],
});

export const cacheEvents = new Counter({
  name: 'tastematch_cache_events_total',
  help: 'Cache lookups and changes: hit, miss, set, refused (over 2 MB), eviction, invalidation',
  labelNames: ['cache', 'event'] as const,
  registers: [registry],
});

export const requestsShed = new Counter({
  name: 'tastematch_requests_shed_total',
  help: 'GraphQL requests refused with 503 OVERLOADED, by reason (concurrency, memory)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const passwordWork = new Counter({
  name: 'tastematch_password_work_total',
  help: 'Password hashes and verifications (argon2 and legacy formats) by outcome: done, refused (OVERLOADED)',
  labelNames: ['op', 'outcome'] as const,
  registers: [registry],
});

type Sources = {
  pool?: () => { active: number; waiting: number; size: number; idle: number; connections: number };
  caches: Map<string, () => { entries: number; bytes: number }>;
  requests?: () => { active: number; waiting: number };
  shedding?: () => boolean;
};
/** What the gauges read when scraped (set by whoever owns the thing measured). */
const sources: Sources = { caches: new Map() };

export function watchPool(state: NonNullable<Sources['pool']>) {
  sources.pool = state;
}
export function watchCache(name: string, stats: () => { entries: number; bytes: number }) {
  sources.caches.set(name, stats);
}
export function watchRequests(state: NonNullable<Sources['requests']>, shedding: () => boolean) {
  sources.requests = state;
  sources.shedding = shedding;
}

new Gauge({
  name: 'tastematch_db_pool_connections',
  help: 'Database pool: open connections (size), idle ones, queries running (active) and waiting for one',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    const s = sources.pool?.();
    if (!s) return;
    this.set({ state: 'size' }, s.connections);
    this.set({ state: 'idle' }, s.idle);
    this.set({ state: 'active' }, s.active);
    this.set({ state: 'waiting' }, s.waiting);
    this.set({ state: 'max' }, s.size);
  },
});

new Gauge({
  name: 'tastematch_cache_bytes',
  help: 'Bytes held by each in-process cache',
  labelNames: ['cache'] as const,
  registers: [registry],
  collect() {
    for (const [name, stats] of sources.caches) this.set({ cache: name }, stats().bytes);
  },
});

new Gauge({
  name: 'tastematch_cache_entries',
  help: 'Entries held by each in-process cache',
  labelNames: ['cache'] as const,
  registers: [registry],
  collect() {
    for (const [name, stats] of sources.caches) this.set({ cache: name }, stats().entries);
  },
});

new Gauge({
  name: 'tastematch_graphql_requests',
  help: 'GraphQL requests running (active) and waiting for a slot',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    const s = sources.requests?.();
    if (!s) return;
    this.set({ state: 'active' }, s.active);
    this.set({ state: 'waiting' }, s.waiting);
  },
});

new Gauge({
  name: 'tastematch_memory_shedding',
  help: '1 while the memory watchdog sheds new requests',
  registers: [registry],
  collect() {
    this.set(sources.shedding?.() ? 1 : 0);
  },
});

/** A DataLoader batch function that records its batch sizes. */
export function observedBatch<K, V>(
  loader: string,
  fn: (keys: readonly K[]) => Promise<readonly (V | Error)[]>,
): (keys: readonly K[]) => Promise<readonly (V | Error)[]> {
  return (keys) => {
    loaderBatchSize.observe({ loader }, keys.length);
    return fn(keys);
  };
}

/** The size of a result row as the text protocol carries it (near enough, and cheap). */
export function rowBytes(row: Record<string, unknown>): number {
  let n = 0;
  // for…in, not Object.values: no array per row (a page of orders is 51 rows per request).
  for (const key in row) {
    const v = row[key];
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') n += v.length;
    else if (typeof v === 'number' || typeof v === 'bigint') n += String(v).length;
    else if (typeof v === 'boolean') n += 1;
    else if (v instanceof Date) n += 29;
    else if (v instanceof Uint8Array) n += v.byteLength;
    else n += JSON.stringify(v).length;
  }
  return n;
}
