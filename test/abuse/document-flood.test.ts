/**
 * A flood of distinct valid cheap documents (28 aliases each, cost 280, under every limit)
 * against a real production gateway with the Dockerfile's 448 MB heap: per-document state
 * (parsed documents, compiled queries) is bounded in bytes and one-off documents are not
 * compiled, so RSS stays near its value before the flood, the process lives, and cheap
 * queries are answered from 5 s after the flood (no shedding left over). A repeated
 * operation is still compiled. Then the parts on their own: the caches' byte bounds and
 * compile policy, and the watchdog, which drops those caches and collects when it sheds.
 */
import { readFileSync } from 'node:fs';
import { type ExecutionArgs, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MemorySample, MemoryWatchdog } from '../../src/backpressure/memory-watchdog.ts';
import { freePort } from '../../src/db/embedded.ts';
import { COMPILE_AFTER_RUNS, createDocumentCaches } from '../../src/http/document-cache.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

const DOCUMENTS = 1000;
const CONCURRENCY = 8;
/**
 * RSS after the flood may exceed its value before by at most this. Measured: +49 MB
 * (230 → 279 MB; the parsed-document LRU is 32 MB by its estimate). Before the byte bounds
 * every document was compiled and kept (about 2.7 MB each): the process died of heap
 * exhaustion after about 150 of them, RSS 627 MB.
 */
const RSS_GROWTH_BOUND_MB = 100;

const FIELDS = ['__typename', 'id', 'name', 'rating', 'cuisineType', 'description', 'location', 'priceRange'];

let ids: string[] = ['UmVzdGF1cmFudDox'];

/**
 * The n-th distinct document: its own alias names and field order; 28 restaurants by id
 * (one batched statement), 28 × 10 = cost 280, about 3.6 KB.
 */
function floodDocument(n: number): string {
  const aliases: string[] = [];
  for (let i = 0; i < 28; i++) {
    const k = (n + i) % FIELDS.length;
    const fields = [...FIELDS.slice(k), ...FIELDS.slice(0, k), 'createdAt'].join(' ');
    aliases.push(`  d${n}_${i}: restaurant(id: "${ids[(n + i) % ids.length]}") { ${fields} }`);
  }
  return `query Flood${n} {\n${aliases.join('\n')}\n}`;
}

describe('a flood of distinct cheap documents against a production process', () => {
  let db: TestDatabase;
  let gw: GatewayProcess;
  let metricsBase: string;

  beforeAll(async () => {
    db = await freshDatabase();
    ids = (await insertRestaurants(db, 20)).map((id) => Buffer.from(`Restaurant:${id}`).toString('base64'));
    const metricsPort = await freePort();
    metricsBase = `http://127.0.0.1:${metricsPort}`;
    gw = await startGateway(
      {
        NODE_ENV: 'production',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: db.url,
        SEED_ON_FIRST_START: 'false',
        METRICS_PORT: String(metricsPort),
      },
      { nodeArgs: ['--max-old-space-size=448'] },
    );
  });
  afterAll(async () => {
    await gw?.stop();
    await db?.drop();
  });

  /** The child's resident set, from the kernel (independent of what the process reports). */
  function rssMB(): number {
    const status = readFileSync(`/proc/${gw.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
  }

  async function post(query: string): Promise<{ status: number; body: { data?: unknown; errors?: unknown[] } }> {
    const r = await fetch(`${gw.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query }),
    });
    return { status: r.status, body: (await r.json()) as never };
  }

  async function metric(series: string): Promise<number> {
    const text = await (await fetch(`${metricsBase}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    if (!line) throw new Error(`no ${series} in /metrics`);
    return Number(line.split(' ').at(-1));
  }

  it('keeps RSS bounded, compiles none of them, and answers cheap queries 5 s after', async () => {
    // Warm-up: the code paths, the pool, a few documents.
    for (let i = 0; i < 10; i++) expect((await post(floodDocument(1_000_000 + i))).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await post('{ cuisines }')).status).toBe(200);
    const compiledBefore = await metric('tastematch_graphql_compilations_total');
    const before = rssMB();

    const statuses = new Map<number, number>();
    let next = 0;
    let peak = before;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < DOCUMENTS) {
          const r = await post(floodDocument(next++));
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          peak = Math.max(peak, rssMB());
        }
      }),
    );
    const floodEnd = Date.now();
    const after = rssMB();
    console.log(
      `document flood: RSS before ${before.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB`,
    );
    expect(gw.child.exitCode).toBeNull();
    expect(Object.fromEntries(statuses)).toEqual({ 200: DOCUMENTS });
    expect(after - before).toBeLessThan(RSS_GROWTH_BOUND_MB);
    expect(await metric('tastematch_graphql_compilations_total')).toBe(compiledBefore);
    expect(await metric('tastematch_cache_bytes{cache="documents"}')).toBeLessThanOrEqual(33_554_432);

    // From 5 s after the flood: every cheap query answered, nothing shed.
    await new Promise((r) => setTimeout(r, Math.max(0, floodEnd + 5_000 - Date.now())));
    for (let i = 0; i < 20; i++) {
      const r = await post('{ cuisines }');
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    }
    expect(await metric('tastematch_memory_shedding')).toBe(0);
    expect(await metric('tastematch_requests_shed_total{reason="memory"}').catch(() => 0)).toBe(0);
  }, 90_000);

  it('still compiles an operation that repeats (once, on its second run)', async () => {
    const compiledBefore = await metric('tastematch_graphql_compilations_total');
    const query = floodDocument(2_000_000);
    expect((await post(query)).status).toBe(200);
    expect(await metric('tastematch_graphql_compilations_total')).toBe(compiledBefore);
    for (let i = 0; i < 3; i++) {
      const r = await post(query);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body.data as object)).toHaveLength(28);
    }
    expect(await metric('tastematch_graphql_compilations_total')).toBe(compiledBefore + 1);
    expect(await metric('tastematch_cache_entries{cache="compiled-documents"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('document caches', () => {
  const args = (document: ReturnType<typeof parse>) => ({ document }) as ExecutionArgs;
  /** What the jit plugin hands its cache after compiling: the generated source, `chars` long. */
  const compiledQuery = (chars: number) =>
    ({
      query: () => ({}),
      stringify: JSON.stringify,
      __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation: 'x'.repeat(chars),
    }) as never;

  function parseInto(caches: ReturnType<typeof createDocumentCaches>, source: string) {
    const cached = caches.parserAndValidationCache.documentCache.get(source);
    if (cached) return cached;
    const document = parse(source);
    caches.parserAndValidationCache.documentCache.set(source, document);
    return document;
  }

  it('holds parsed documents within their byte bound, newest first', () => {
    const caches = createDocumentCaches({ maxBytes: 2 * 2 ** 20, compiledMaxBytes: 2 ** 20 });
    for (let n = 0; n < 200; n++) parseInto(caches, floodDocument(n));
    const { documents } = caches.stats();
    expect(documents.bytes).toBeLessThanOrEqual(2 * 2 ** 20);
    expect(documents.entries).toBeGreaterThan(2);
    expect(documents.entries).toBeLessThan(200);
    expect(caches.parserAndValidationCache.documentCache.get(floodDocument(199))).toBeDefined();
    expect(caches.parserAndValidationCache.documentCache.get(floodDocument(0))).toBeUndefined();
    // Parse errors share the bound.
    const error = new Error('Syntax Error');
    caches.parserAndValidationCache.errorCache.set('{ broken', error);
    expect(caches.parserAndValidationCache.errorCache.get('{ broken')).toBe(error);
    expect(caches.parserAndValidationCache.documentCache.get('{ broken')).toBeUndefined();
    caches.clear();
    expect(caches.stats().documents.entries).toBe(0);
  });

  it(`compiles a document on its run ${COMPILE_AFTER_RUNS}, a manifest operation on its first, never a multi-operation document`, () => {
    const manifestBody = 'query Cuisines { cuisines }';
    const caches = createDocumentCaches({
      maxBytes: 8 * 2 ** 20,
      compiledMaxBytes: 8 * 2 ** 20,
      precompiled: new Set([manifestBody]),
    });
    const once = parseInto(caches, '{ cuisines }');
    expect(caches.shouldCompile(args(once))).toBe(false);
    expect(caches.shouldCompile(args(parseInto(caches, '{ cuisines }')))).toBe(true);
    expect(caches.shouldCompile(args(parseInto(caches, manifestBody)))).toBe(true);
    const two = parseInto(caches, 'query A { cuisines } query B { cuisines }');
    for (let i = 0; i < 3; i++) expect(caches.shouldCompile(args(two))).toBe(false);
    // A document that is not from the cache (none is, but) runs on graphql-js.
    expect(caches.shouldCompile(args(parse('{ cuisines }')))).toBe(false);

    // Once compiled, the document moves to the compiled LRU with its compiled size, and stays compiled.
    caches.jitCache.set('{ cuisines }', compiledQuery(100_000));
    expect(caches.stats().compiled.entries).toBe(1);
    expect(caches.stats().compiled.bytes).toBeGreaterThan(300_000);
    expect(caches.parserAndValidationCache.documentCache.get('{ cuisines }')).toBe(once);
    expect(caches.shouldCompile(args(once))).toBe(true);
  });

  it('bounds compiled documents in bytes and budgets compiling (JIT_CACHE_MAX_BYTES per 10 minutes)', () => {
    const caches = createDocumentCaches({ maxBytes: 64 * 2 ** 20, compiledMaxBytes: 4 * 2 ** 20 });
    let compiled = 0;
    for (let n = 0; n < 20; n++) {
      const source = floodDocument(n);
      parseInto(caches, source);
      const document = parseInto(caches, source);
      if (!caches.shouldCompile(args(document)) && !caches.shouldCompile(args(document))) continue;
      caches.jitCache.set(source, compiledQuery(300_000)); // about 1 MB each
      compiled++;
    }
    // 4 MB of budget: about four compilations, then graphql-js for the rest.
    expect(compiled).toBeGreaterThanOrEqual(3);
    expect(compiled).toBeLessThanOrEqual(5);
    expect(caches.stats().compiled.bytes).toBeLessThanOrEqual(4 * 2 ** 20);
  });
});

describe('MemoryWatchdog', () => {
  const MB = 2 ** 20;
  const sample = (m: Partial<MemorySample>): MemorySample => ({ rss: 0, heapUsed: 0, heapTotal: 0, external: 0, ...m });

  it('when it starts shedding, drops the caches and collects; resumes once the memory in use is back under 90 %', () => {
    let now = sample({ rss: 100 * MB, heapUsed: 50 * MB, heapTotal: 60 * MB });
    let dropped = 0;
    let collected = 0;
    const w = new MemoryWatchdog({
      softLimitMB: 200,
      sample: () => now,
      // The collection frees the heap; RSS stays (V8 keeps the pages a while).
      collect: () => {
        collected++;
        now = { ...now, heapUsed: 40 * MB };
      },
      heapLimitBytes: 4096 * MB,
    });
    w.onShedding(() => dropped++);
    try {
      now = sample({ rss: 230 * MB, heapUsed: 150 * MB, heapTotal: 160 * MB });
      w.tick();
      // 230 MB in use before the collection, 230 − 120 free = 110 MB after: no reason to refuse.
      expect(dropped).toBe(1);
      expect(collected).toBe(1);
      expect(w.shedding).toBe(false);

      // Memory really in use: shedding holds until it is back under 90 %.
      now = sample({ rss: 260 * MB, heapUsed: 200 * MB, heapTotal: 200 * MB });
      w.tick();
      expect(dropped).toBe(2);
      expect(w.shedding).toBe(true);
      expect(w.snapshot()).toMatchObject({ state: 'shedding', memoryMB: { rss: 260 } });
      now = sample({ rss: 170 * MB, heapUsed: 100 * MB, heapTotal: 100 * MB });
      w.tick();
      expect(w.shedding).toBe(false);
    } finally {
      w.stop();
    }
  });

  it("sheds near V8's heap limit whatever RSS says", () => {
    let now = sample({ rss: 100 * MB, heapUsed: 100 * MB, heapTotal: 100 * MB });
    const w = new MemoryWatchdog({ softLimitMB: 2000, sample: () => now, collect: () => {}, heapLimitBytes: 448 * MB });
    try {
      expect(w.shedding).toBe(false);
      now = sample({ rss: 500 * MB, heapUsed: 420 * MB, heapTotal: 430 * MB }); // > 90 % of 448
      w.tick();
      expect(w.shedding).toBe(true);
      now = sample({ rss: 500 * MB, heapUsed: 300 * MB, heapTotal: 430 * MB });
      w.tick();
      expect(w.shedding).toBe(false);
    } finally {
      w.stop();
    }
  });
});
