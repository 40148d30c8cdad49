/**
 * `npm run bench:search`: relevance and latency of searchRestaurants.
 *
 * 1. Relevance: a labelled query set over seeded restaurants (src/db/seed.ts: 12 cuisines, their
 *    dishes, 46 neighbourhoods) — "<cuisine> food", the cuisine misspelt by one letter, a dish
 *    word, "restaurants in <neighbourhood>" — and precision@5 of the vector ranking alone, the
 *    lexical ranking alone and the hybrid (src/recommend/search.ts). A result is relevant when
 *    its cuisine is the query's, its description names the dish, or it is located in the
 *    neighbourhood.
 * 2. Latency: every query of the set in turn (after a warm-up round), p50 and p99 of the
 *    in-process call (embedding the text + the statements + the in-process vector scan), per mode,
 *    at each size (default 10,000 and 100,000 restaurants), as bench/ml.ts measures
 *    recommendations. Target: hybrid p99 at most 1.5× vector-only p99 at 10,000.
 *
 * The encoder is the built-in offline one, or the model in MODEL_PATH (a directory with
 * model.onnx and the tokenizer files, as for the gateway): its vectors are made by the backfill
 * before measuring, so a real model's run takes the embedding time too.
 * Scratch databases on BENCH_DATABASE_URL's server (default the local PostgreSQL) are dropped
 * at the end. Writes bench/results/search-latest.json.
 *
 * Flags: --sizes 10000,100000 (restaurants; relevance is measured at the first size), --rounds N (3).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { sql } from 'slonik';
import { z } from 'zod';
import { BytesCache } from '../src/cache/bytes-cache.ts';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { createDb } from '../src/db/pool.ts';
import { CUISINES } from '../src/db/seed/vocabulary.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { backfillEmbeddings } from '../src/ml/backfill.ts';
import { createMl } from '../src/ml/service.ts';
import { createLogger } from '../src/observability/logger.ts';
import { type SearchMode, searchRestaurants } from '../src/recommend/search.ts';
import { cleanup, createScratchDatabase, percentile } from './common.ts';

const { values: flags } = parseArgs({
  options: { sizes: { type: 'string' }, rounds: { type: 'string' } },
  strict: true,
});
const SIZES = (flags.sizes ?? '10000,100000').split(',').map(Number);
const ROUNDS = Number(flags.rounds ?? 3);
const MODES: SearchMode[] = ['vector', 'lexical', 'hybrid'];
const log = createLogger('warn');
const say = (s: string) => process.stderr.write(`${s}\n`);

type Label = { kind: 'cuisine' | 'misspelt' | 'dish' | 'neighbourhood'; text: string; relevant: (r: Row) => boolean };
type Row = { cuisine_type: string; description: string; location: string };

const DISHES = [
  'carbonara',
  'tiramisu',
  'ramen',
  'gyoza',
  'feijoada',
  'picanha',
  'enchiladas',
  'churros',
  'xiaolongbao',
];
const DISHES_2 = ['biryani', 'samosa', 'pad thai', 'ratatouille', 'burger', 'falafel', 'hummus', 'bibimbap', 'kimchi'];
const HOODS = ['Kreuzberg', 'Shoreditch', 'Pinheiros', 'Alfama', 'Williamsburg', 'Condesa', 'Fitzroy', 'Yorkville'];

/** The middle letter dropped: "italian" → "itaian". */
const misspell = (w: string) => w.slice(0, Math.floor(w.length / 2)) + w.slice(Math.floor(w.length / 2) + 1);

function labels(): Label[] {
  return [
    ...CUISINES.map((c) => ({
      kind: 'cuisine' as const,
      text: `${c} food`,
      relevant: (r: Row) => r.cuisine_type === c,
    })),
    ...CUISINES.map((c) => ({
      kind: 'misspelt' as const,
      text: `${misspell(c)} food`,
      relevant: (r: Row) => r.cuisine_type === c,
    })),
    ...[...DISHES, ...DISHES_2].map((d) => ({
      kind: 'dish' as const,
      text: d,
      relevant: (r: Row) => r.description.toLowerCase().includes(d),
    })),
    ...HOODS.map((h) => ({
      kind: 'neighbourhood' as const,
      text: `restaurants in ${h}`,
      relevant: (r: Row) => r.location.startsWith(h),
    })),
  ];
}

async function run(size: number, relevance: boolean) {
  const scratch = await createScratchDatabase(`tm_bench_search_${size}`);
  await migrate(scratch.url);
  let t = performance.now();
  await seedDatabase(scratch.url, { restaurants: size, users: 1, orders: 0, batchSize: 5_000, seed: 7 });
  say(`  seeded ${size} restaurants in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  const db = await createDb(
    // The pool as configured by default, with room for the benchmark's long statements.
    { url: scratch.url, ...loadConfig({}).db, statementTimeoutMs: 60_000, slowQueryMs: 60_000 },
    log,
  );
  const ml = await createMl(
    db,
    {
      modelPath: process.env.MODEL_PATH || undefined,
      batchSize: 64,
      threads: 1,
      idleMs: 600_000,
      vectorIndex: 'auto',
      syncMs: 0,
    },
    log,
  );
  const cache = new TieredCache(
    new BytesCache({ maxBytes: 32 * 2 ** 20, ttlMs: 3_600_000 }),
    undefined,
    3_600_000,
    log,
  );
  try {
    t = performance.now();
    await backfillEmbeddings(db, ml.embedder, ml.embeddingType, { batchSize: 1_000 });
    await ml.index.sync();
    say(`  embedded (${ml.embedder.modelId}) in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    const deps = { db, ml, cache };
    const set = labels();
    const out: Record<string, unknown> = {
      restaurants: size,
      model: ml.embedder.modelId,
      index: ml.index.kind,
    };

    if (relevance) {
      const rows = new Map(
        (
          await db.any(
            sql.type(
              z.object({ id: z.string(), cuisine_type: z.string(), description: z.string(), location: z.string() }),
            )`
            SELECT id, cuisine_type, description, location FROM restaurants`,
          )
        ).map((r) => [r.id, r]),
      );
      const precision: Record<string, Record<string, number>> = {};
      for (const mode of MODES) {
        const byKind = new Map<string, number[]>();
        for (const label of set) {
          const top = await searchRestaurants(deps, label.text, 5, { mode });
          const hits = top.filter((m) => label.relevant(rows.get(m.id)!)).length;
          byKind.set(label.kind, [...(byKind.get(label.kind) ?? []), hits / 5]);
        }
        const all = [...byKind.values()].flat();
        precision[mode] = Object.fromEntries([
          ...[...byKind].map(([k, v]) => [k, round(v.reduce((a, b) => a + b, 0) / v.length)]),
          ['all', round(all.reduce((a, b) => a + b, 0) / all.length)],
        ]);
      }
      out.precisionAt5 = precision;
      out.queries = Object.fromEntries(
        ['cuisine', 'misspelt', 'dish', 'neighbourhood'].map((k) => [k, set.filter((l) => l.kind === k).length]),
      );
    }

    const latency: Record<string, { p50Ms: number; p99Ms: number; n: number }> = {};
    for (const mode of MODES) {
      for (const label of set) await searchRestaurants(deps, label.text, 10, { mode }); // warm
      const ms: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        for (const label of set) {
          const s = performance.now();
          await searchRestaurants(deps, label.text, 10, { mode });
          ms.push(performance.now() - s);
        }
      }
      latency[mode] = { p50Ms: round(percentile(ms, 0.5), 1), p99Ms: round(percentile(ms, 0.99), 1), n: ms.length };
    }
    out.latency = latency;
    return out;
  } finally {
    await cache.close();
    await ml.close();
    await db.end();
    await scratch.drop();
  }
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

async function main() {
  const results = [];
  for (const [i, size] of SIZES.entries()) {
    say(`search benchmark: ${size} restaurants`);
    const r = await run(size, i === 0);
    say(JSON.stringify(r, null, 2));
    results.push(r);
  }
  const first = results[0]?.latency as Record<string, { p99Ms: number }> | undefined;
  if (first && SIZES[0] === 10_000) {
    const ratio = first.hybrid!.p99Ms / first.vector!.p99Ms;
    say(
      `${ratio <= 1.5 ? 'PASS' : 'FAIL'}: hybrid p99 ${first.hybrid!.p99Ms} ms = ${ratio.toFixed(2)}× vector-only p99 ${first.vector!.p99Ms} ms at 10,000 (target ≤ 1.5×)`,
    );
    if (ratio > 1.5) process.exitCode = 1;
  }
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/search-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), results }, null, 2)}\n`,
  );
}

main()
  .catch((e: Error) => {
    say(e.stack ?? e.message);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
