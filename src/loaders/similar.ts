import DataLoader from 'dataloader';
import type { Match, VectorIndex } from '../ml/vector-index.ts';
import { observedBatch } from '../observability/metrics.ts';

type SimilarKey = { id: string; first: number };

/**
 * `Restaurant.similar(first)` for every restaurant of a response in one batch: one
 * vector pass (in process) or one statement (pgvector) per distinct `first`.
 */
export function similarByRestaurantId(index: VectorIndex, maxBatchSize: number) {
  return new DataLoader<SimilarKey, Match[], string>(
    observedBatch('similar', async (keys) => {
      const byFirst = new Map<number, string[]>();
      for (const k of keys) byFirst.set(k.first, [...(byFirst.get(k.first) ?? []), k.id]);
      const results = new Map<string, Match[]>();
      for (const [first, ids] of byFirst) {
        for (const [id, matches] of await index.similar([...new Set(ids)], first))
          results.set(`${id}|${first}`, matches);
      }
      return keys.map((k) => results.get(`${k.id}|${k.first}`) ?? []);
    }),
    { maxBatchSize, cacheKeyFn: (k) => `${k.id}|${k.first}` },
  );
}
