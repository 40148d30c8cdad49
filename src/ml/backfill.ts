/**
 * Restaurant embeddings, written in batches with one commit each: memory holds one
 * batch of texts and vectors, whatever the table's size, and a failure loses one batch.
 */
import type { Db } from '../db/pool.ts';
import {
  countRestaurantsToEmbed,
  type EmbeddingType,
  embeddingText,
  type RestaurantText,
  selectRestaurantsToEmbed,
  updateRestaurantEmbeddings,
} from '../db/queries/embeddings.ts';
import type { Embedder } from './embedder.ts';

export type EmbedProgress = { done: number; total: number };

/** Embeds and stores these restaurants (one statement for the batch). */
export async function embedRestaurants(
  db: Db,
  embedder: Embedder,
  type: EmbeddingType,
  rows: readonly RestaurantText[],
): Promise<void> {
  if (rows.length === 0) return;
  const vectors = await embedder.embed(rows.map(embeddingText));
  await updateRestaurantEmbeddings(
    db,
    type,
    embedder.modelId,
    rows.map((r, i) => ({ id: r.id, vector: vectors[i]! })),
  );
}

/**
 * Embeds every restaurant whose embedding is missing or was made by another model.
 * @returns how many were embedded
 */
export async function backfillEmbeddings(
  db: Db,
  embedder: Embedder,
  type: EmbeddingType,
  opts: { batchSize: number; onProgress?: (p: EmbedProgress) => void },
): Promise<number> {
  const total = await countRestaurantsToEmbed(db, embedder.modelId);
  let done = 0;
  let after = '0';
  while (done < total) {
    const rows = await selectRestaurantsToEmbed(db, embedder.modelId, after, opts.batchSize);
    if (rows.length === 0) break;
    await embedRestaurants(db, embedder, type, rows);
    done += rows.length;
    after = rows.at(-1)!.id;
    opts.onProgress?.({ done, total });
  }
  return done;
}
