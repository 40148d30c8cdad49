/**
 * `npm run bench:ml` (and the second half of `npm run bench`): the cost of embeddings and
 * recommendations on this machine, with the MiniLM-shaped model (bench/minilm-model.ts:
 * all-MiniLM-L6-v2's architecture with generated weights) standing in for the real one.
 *
 * 1. Inference throughput (sentences/s) at batch 1, 8 and 32 with 1 and 2 threads, medians of
 *    3 runs; the RSS a loaded session adds.
 * 2. Embedding N restaurants (10,000) with `npm run embed` compiled (dist-bench/scripts/embed.js,
 *    MODEL_PATH = the generated model): wall time and the process's peak RSS (VmHWM).
 * 3. The production gateway (`node dist/server.js`, bench/common.ts; MODEL_PATH set) under 10 connections of
 *    `searchRestaurants` for --duration seconds: req/s, p99, peak RSS against the 1 GB machine.
 * 4. Recommendation latency (refresh: true, in-process index) at 10,000 and 100,000 restaurants
 *    (embedded with the offline encoder: the search costs the same whatever model made the
 *    vectors), p50 and p99 over 200 users.
 * Writes bench/results/ml-latest.json and the part of docs/BENCHMARKS.md between
 * `<!-- bench-ml:start -->` and `<!-- bench-ml:end -->`. Scratch databases are dropped at the end.
 *
 * Flags: --quick (2,000 restaurants to embed, 10,000 for the large latency case), --duration S (10); bench/run.ts's
 * other flags are accepted and unused (`npm run bench -- <flags>` passes the same flags to every part).
 */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { BytesCache } from '../src/cache/bytes-cache.ts';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb, type Db } from '../src/db/pool.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { DIMENSIONS, Embedder } from '../src/ml/embedder.ts';
import { fileModelSource } from '../src/ml/model-source.ts';
import { createMl } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { Recommender } from '../src/recommend/engine.ts';
import { templateInsights } from '../src/recommend/insights.ts';
import {
  buildProduction,
  cleanup,
  compileServers,
  createScratchDatabase,
  median,
  memoryMB,
  percentile,
  startProductionGateway,
  stopServer,
  trackChild,
} from './common.ts';
import { writeMiniLmShapedModel } from './minilm-model.ts';

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    duration: { type: 'string' },
    // bench/run.ts's and bench/flood.ts's, accepted so that `npm run bench -- <flags>` can pass them to every part.
    runs: { type: 'string' },
    warmup: { type: 'string' },
    restaurants: { type: 'string' },
    users: { type: 'string' },
    orders: { type: 'string' },
  },
  strict: true,
});
const QUICK = Boolean(flags.quick);
const DURATION = Number(flags.duration ?? 10);
const EMBED_N = QUICK ? 2_000 : 10_000;
const LATENCY_SIZES = QUICK ? [2_000, 10_000] : [10_000, 100_000];
const MODEL_DIR = 'tmp/bench-models/minilm-shaped';
const log = createLogger('warn');

const say = (s: string) => process.stderr.write(`${s}\n`);
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

/** A migrated scratch database, tm_bench_ml_<tag>_<ms>, dropped by cleanup(). */
async function scratchDatabase(tag: string): Promise<string> {
  const { url } = await createScratchDatabase(`tm_bench_ml_${tag}`);
  await migrate(url);
  return url;
}

/** Restaurant-like sentences (~40 tokens), as the embeddings see them. */
function sentences(n: number): string[] {
  const dishes = ['sushi', 'ramen', 'pizza', 'pasta', 'tacos', 'curry', 'dumplings', 'feijoada', 'burgers', 'salads'];
  return Array.from(
    { length: n },
    (_, i) =>
      `Casa ${i} ${dishes[i % 10]} Family-run place serving ${dishes[(i * 3) % 10]} and ${dishes[(i * 7) % 10]}, ` +
      `with seasonal specials, a quiet terrace and friendly staff. Street ${i}, downtown`,
  );
}

async function throughput(threads: number, batch: number): Promise<number> {
  const e = new Embedder(await fileModelSource(MODEL_DIR), { threads, batchSize: batch, idleMs: 600_000 });
  try {
    await e.embed(sentences(batch)); // load + warm
    const n = batch === 1 ? 32 : batch * 8;
    const texts = sentences(n);
    const rates: number[] = [];
    for (let run = 0; run < 3; run++) {
      const t = performance.now();
      await e.embed(texts);
      rates.push(n / ((performance.now() - t) / 1000));
    }
    return median(rates);
  } finally {
    await e.close();
  }
}

/** Runs a compiled script as a child; returns its wall time and peak RSS (VmHWM, sampled until exit). */
async function measureChild(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peakMB: number; out: string }> {
  const started = performance.now();
  const child = trackChild(
    spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, memoryMB(child.pid!, 'VmHWM'))), 100);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}:\n${out.slice(-2000)}`);
  return { seconds: (performance.now() - started) / 1000, peakMB: Math.round(peak), out };
}

async function gatewayUnderLoad(dbUrl: string) {
  const server = await startProductionGateway(dbUrl, 'bench-ml-secret-bench-ml-secret-0123456', {
    env: { MODEL_PATH: MODEL_DIR },
  });
  const body = JSON.stringify({
    query:
      '{ searchRestaurants(text: "spicy ramen with dumplings near the station", first: 10) { score restaurant { name } } }',
  });
  const check = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const checked = (await check.json()) as { errors?: unknown; data?: { searchRestaurants: unknown[] } };
  if (checked.errors || !checked.data?.searchRestaurants.length)
    throw new Error(`bad search answer: ${JSON.stringify(checked)}`);
  const idleMB = memoryMB(server.pid, 'VmRSS');
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, memoryMB(server.pid, 'VmRSS'))), 100);
  const result = await autocannon({
    url: server.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: 10,
    duration: DURATION,
  });
  clearInterval(timer);
  const hwm = memoryMB(server.pid, 'VmHWM');
  await stopServer(server);
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p99Ms: result.latency.p99,
    non2xx: result.non2xx + result.errors + result.timeouts,
    idleRssMB: Math.round(idleMB),
    peakRssMB: Math.round(Math.max(peakRss, hwm)),
  };
}

async function recommendationLatency(restaurants: number) {
  const url = await scratchDatabase(`rec${restaurants}`);
  await seedDatabase(url, { restaurants, users: 200, orders: 4_000, batchSize: 5_000, seed: 7 });
  const db: Db = await createDb(
    // The pool as configured by default, with room for the benchmark's long statements.
    { url, ...loadConfig({}).db, statementTimeoutMs: 60_000, slowQueryMs: 60_000 },
    log,
  );
  const ml = await createMl(db, { batchSize: 64, threads: 1, idleMs: 600_000, vectorIndex: 'memory', syncMs: 0 }, log);
  // The recommender as the gateway builds it (src/services.ts), over a cache of this process.
  const cache = new TieredCache(
    new BytesCache({ maxBytes: 32 * 2 ** 20, ttlMs: 3_600_000 }),
    undefined,
    3_600_000,
    log,
  );
  const recommender = new Recommender({ db, index: ml.index, cache, insights: templateInsights, dims: DIMENSIONS });
  try {
    const t = performance.now();
    await backfillEmbeddings(db, ml.embedder, ml.embeddingType, { batchSize: 1_000 });
    const embedSeconds = (performance.now() - t) / 1000;
    const before = process.memoryUsage().rss;
    await ml.index.sync();
    const indexMB = mb(ml.index.stats().bytes);
    const rssGrowthMB = mb(process.memoryUsage().rss - before);
    const { rows } = await (async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return await c.query<{ id: string }>('SELECT id FROM users ORDER BY id');
      } finally {
        await c.end();
      }
    })();
    for (const u of rows.slice(0, 10)) await recommender.recommendations(String(u.id), true); // warm
    const latencies: number[] = [];
    for (const u of rows) {
      const s = performance.now();
      await recommender.recommendations(String(u.id), true);
      latencies.push(performance.now() - s);
    }
    return {
      restaurants,
      offlineEmbedSeconds: Number(embedSeconds.toFixed(1)),
      indexMB,
      rssGrowthMB,
      p50Ms: Number(percentile(latencies, 0.5).toFixed(1)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(1)),
    };
  } finally {
    await cache.close();
    await ml.close();
    await db.end();
  }
}

async function main() {
  say('compiling (npm run build → dist/, tsconfig.bench.json → dist-bench/)…');
  buildProduction();
  compileServers();

  say('generating the MiniLM-shaped model…');
  await writeMiniLmShapedModel(`${MODEL_DIR}/model.onnx`);
  copyFileSync('src/ml/assets/vocab.txt', `${MODEL_DIR}/vocab.txt`);

  say('session RSS…');
  const rss0 = process.memoryUsage().rss;
  const probe = new Embedder(await fileModelSource(MODEL_DIR), { threads: 1, batchSize: 32, idleMs: 600_000 });
  await probe.embed(sentences(32));
  const sessionMB = mb(process.memoryUsage().rss - rss0);
  await probe.close();

  say('inference throughput…');
  const rates: { threads: number; batch: number; sentencesPerSecond: number }[] = [];
  for (const threads of [1, 2]) {
    for (const batch of [1, 8, 32]) {
      rates.push({ threads, batch, sentencesPerSecond: Math.round(await throughput(threads, batch)) });
      say(`  threads ${threads} batch ${batch}: ${rates.at(-1)!.sentencesPerSecond} sentences/s`);
    }
  }

  say(`embedding ${EMBED_N} restaurants (npm run embed, compiled, MiniLM-shaped)…`);
  const embedUrl = await scratchDatabase('embed');
  await seedDatabase(embedUrl, { restaurants: EMBED_N, users: 1, orders: 0, batchSize: 5_000, seed: 3 });
  const embedRun = await measureChild(['dist-bench/scripts/embed.js'], {
    DATABASE_URL: embedUrl,
    MODEL_PATH: MODEL_DIR,
    EMBED_BATCH_SIZE: '16',
    ORT_THREADS: '1',
  });
  const embedding = {
    restaurants: EMBED_N,
    seconds: Number(embedRun.seconds.toFixed(1)),
    perSecond: Math.round(EMBED_N / embedRun.seconds),
    peakRssMB: embedRun.peakMB,
  };
  say(`  ${JSON.stringify(embedding)}`);

  say('gateway under search load with the model loaded…');
  const gateway = await gatewayUnderLoad(embedUrl);
  say(`  ${JSON.stringify(gateway)}`);

  say('recommendation latency…');
  const latency = [];
  for (const n of LATENCY_SIZES) {
    latency.push(await recommendationLatency(n));
    say(`  ${JSON.stringify(latency.at(-1))}`);
  }

  const checks = [
    { name: `embedding ${EMBED_N} restaurants: peak RSS under 300 MB`, pass: embedding.peakRssMB < 300 },
    { name: 'gateway under search load: peak RSS under 1024 MB (the 1 GB machine)', pass: gateway.peakRssMB < 1024 },
    { name: 'gateway under search load: no failed requests', pass: gateway.non2xx === 0 },
  ];
  const results = {
    date: new Date().toISOString(),
    quick: QUICK,
    sessionMB,
    rates,
    embedding,
    gateway,
    latency,
    checks,
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/ml-latest.json', `${JSON.stringify(results, null, 2)}\n`);

  const rate = (t: number, b: number) => rates.find((r) => r.threads === t && r.batch === b)!.sentencesPerSecond;
  const md = [
    `Run ${results.date.slice(0, 10)}${QUICK ? ' (--quick)' : ''}, MiniLM-shaped model (22.6 M parameters, generated weights).`,
    '',
    '| inference, sentences/s (~40 tokens) | batch 1 | batch 8 | batch 32 |',
    '|---|---|---|---|',
    `| 1 thread | ${rate(1, 1)} | ${rate(1, 8)} | ${rate(1, 32)} |`,
    `| 2 threads | ${rate(2, 1)} | ${rate(2, 8)} | ${rate(2, 32)} |`,
    '',
    `A loaded session adds ${sessionMB} MB of RSS.`,
    '',
    `| embedding ${embedding.restaurants} restaurants (\`npm run embed\`, batch 16, 1 thread) | value |`,
    '|---|---|',
    `| time | ${embedding.seconds} s (${embedding.perSecond} restaurants/s) |`,
    `| peak RSS of the whole process | ${embedding.peakRssMB} MB (target < 300 MB) |`,
    '',
    `| gateway, searchRestaurants at 10 connections, ${DURATION} s | value |`,
    '|---|---|',
    `| requests/s | ${gateway.requestsPerSecond} |`,
    `| p99 | ${gateway.p99Ms} ms |`,
    `| RSS idle with the model loaded / peak under load | ${gateway.idleRssMB} MB / ${gateway.peakRssMB} MB (of a 1 GB machine) |`,
    '',
    '| recommendations (refresh: true, in-process index) | p50 | p99 | index memory |',
    '|---|---|---|---|',
    ...latency.map(
      (l) => `| ${l.restaurants.toLocaleString('en')} restaurants | ${l.p50Ms} ms | ${l.p99Ms} ms | ${l.indexMB} MB |`,
    ),
    '',
    ...checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'}: ${c.name}`),
  ].join('\n');
  process.stdout.write(`\n${md}\n`);
  const doc = await readFile('docs/BENCHMARKS.md', 'utf8');
  const marked = /^<!-- bench-ml:start -->$[\s\S]*?^<!-- bench-ml:end -->$/m;
  const section = `<!-- bench-ml:start -->\n${md}\n<!-- bench-ml:end -->`;
  await writeFile(
    'docs/BENCHMARKS.md',
    marked.test(doc)
      ? doc.replace(marked, () => section)
      : `${doc.trimEnd()}\n\n## Embeddings and recommendations\n\n${section}\n`,
  );
  if (checks.some((c) => !c.pass)) process.exitCode = 1;
}

try {
  await main();
} finally {
  await cleanup();
}
