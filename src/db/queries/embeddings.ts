import { z } from 'zod';
import type { Db } from '../pool.ts';
import { sql } from '../sql.ts';

/** How `restaurants.embedding` is stored: pgvector's `vector(384)` where the extension exists, `real[]` otherwise. */
export type EmbeddingType = 'vector' | 'real[]';

export async function selectEmbeddingType(db: Db): Promise<EmbeddingType> {
  const type = await db.oneFirst(sql.type(z.object({ type: z.string() }))`/* embeddingType */
    SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute
    WHERE attrelid = 'restaurants'::regclass AND attname = 'embedding'`);
  return type.startsWith('vector') ? 'vector' : 'real[]';
}

/** A vector as SQL text for the column's type: `[…]` for pgvector, `{…}` for real[]. */
export function vectorLiteral(v: Float32Array, type: EmbeddingType): string {
  const body = Array.from(v, (x) => String(x)).join(',');
  return type === 'vector' ? `[${body}]` : `{${body}}`;
}

const castTo = (type: EmbeddingType) => (type === 'vector' ? sql.fragment`::vector` : sql.fragment`::real[]`);

/**
 * The binary form of a vector: `vector_send` (int16 dim, int16 unused, float4s) or
 * `array_send` (20-byte header, then a 4-byte length before each float4), both
 * big-endian. Binary is 2.5× smaller on the wire than text and needs no float parsing.
 */
export function decodeVector(buf: Buffer, type: EmbeddingType, dims: number): Float32Array {
  const v = new Float32Array(dims);
  if (type === 'vector') {
    for (let i = 0; i < dims; i++) v[i] = buf.readFloatBE(4 + 4 * i);
  } else {
    for (let i = 0; i < dims; i++) v[i] = buf.readFloatBE(20 + 8 * i + 4);
  }
  return v;
}
const sendVector = (type: EmbeddingType) =>
  type === 'vector' ? sql.fragment`vector_send(embedding)` : sql.fragment`array_send(embedding)`;

const TextRow = z.object({
  id: z.string(),
  name: z.string(),
  cuisine_type: z.string(),
  description: z.string().nullable(),
  location: z.string().nullable(),
});
export type RestaurantText = z.infer<typeof TextRow>;

/** The text an embedding is made from (the original's "{name} {cuisine_type} {description}", plus location). */
export function embeddingText(r: {
  name: string;
  cuisine_type: string;
  description: string | null;
  location: string | null;
}) {
  return [r.name, r.cuisine_type, r.description, r.location].filter(Boolean).join(' ');
}

/** Restaurants whose embedding is missing or was made by another model, by id, after `afterId`. */
export function selectRestaurantsToEmbed(db: Db, modelId: string, afterId: string, limit: number) {
  return db.any(sql.type(TextRow)`/* restaurantsToEmbed */
    SELECT id, name, cuisine_type, description, location FROM restaurants
    WHERE id > ${afterId}::int8 AND (embedding IS NULL OR embedding_model IS DISTINCT FROM ${modelId})
    ORDER BY id LIMIT ${limit}`);
}

export function countRestaurantsToEmbed(db: Db, modelId: string) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`/* restaurantsToEmbedCount */
    SELECT count(*)::int AS count FROM restaurants WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM ${modelId}`);
}

/** Writes a batch of embeddings in one statement (its own transaction: a commit per batch). */
export function updateRestaurantEmbeddings(
  db: Db,
  type: EmbeddingType,
  modelId: string,
  rows: readonly { id: string; vector: Float32Array }[],
) {
  return db.any(sql.type(z.object({ id: z.string() }))`/* updateRestaurantEmbeddings */
    UPDATE restaurants r SET embedding = v.e${castTo(type)}, embedding_model = ${modelId}, embedding_updated_at = now()
    FROM unnest(${sql.array(
      rows.map((r) => r.id),
      'int8',
    )}, ${sql.array(
      rows.map((r) => vectorLiteral(r.vector, type)),
      'text',
    )}) AS v(id, e)
    WHERE r.id = v.id RETURNING r.id`);
}

const VectorRow = z.object({
  id: z.string(),
  rating: z.number(),
  updated_at: z.date(),
  vector: z.instanceof(Buffer),
});
export type VectorRow = z.infer<typeof VectorRow>;

/**
 * Streams the restaurants embedded by `modelId` (changed after `since`, when given):
 * id, rating and the binary vector, nothing else.
 */
export function streamRestaurantVectors(
  db: Db,
  type: EmbeddingType,
  modelId: string,
  since: Date | null,
  onRow: (row: VectorRow) => void,
) {
  return db.stream(
    sql.type(VectorRow)`/* restaurantVectors */
    SELECT id, rating, embedding_updated_at AS updated_at, ${sendVector(type)} AS vector FROM restaurants
    WHERE embedding_model = ${modelId} AND embedding IS NOT NULL
      ${since ? sql.fragment`AND embedding_updated_at > ${since.toISOString()}::timestamptz` : sql.fragment``}`,
    onRow,
  );
}

/** The vectors of these restaurants (pgvector backend: a user's ordered restaurants, similar's sources). */
export function selectVectorsByIds(db: Db, type: EmbeddingType, modelId: string, ids: readonly string[]) {
  return db.any(sql.type(z.object({ id: z.string(), vector: z.instanceof(Buffer) }))`/* vectorsByIds */
    SELECT id, ${sendVector(type)} AS vector FROM restaurants
    WHERE id = ANY(${sql.array(ids, 'int8')}) AND embedding_model = ${modelId} AND embedding IS NOT NULL`);
}

const Scored = z.object({ id: z.string(), score: z.number() });

/** pgvector: nearest restaurants by cosine (HNSW), with the recommendation filters. */
export function selectNearest(
  db: Db,
  modelId: string,
  query: Float32Array,
  k: number,
  filter: { minRating?: number; excludeIds?: readonly string[] },
) {
  const q = vectorLiteral(query, 'vector');
  return db.any(sql.type(Scored)`/* nearestRestaurants */
    SELECT id, (1 - (embedding <=> ${q}::vector))::float8 AS score FROM restaurants
    WHERE embedding_model = ${modelId} AND rating >= ${filter.minRating ?? 0}
      AND NOT (id = ANY(${sql.array(filter.excludeIds ?? [], 'int8')}))
    ORDER BY embedding <=> ${q}::vector LIMIT ${k}`);
}

/** pgvector: for each source restaurant, its `k` nearest others, in one statement. */
export function selectSimilar(db: Db, modelId: string, ids: readonly string[], k: number) {
  return db.any(sql.type(Scored.extend({ source_id: z.string() }))`/* similarRestaurants */
    SELECT s.id AS source_id, n.id, n.score FROM restaurants s
    CROSS JOIN LATERAL (
      SELECT r.id, (1 - (r.embedding <=> s.embedding))::float8 AS score FROM restaurants r
      WHERE r.id <> s.id AND r.embedding_model = ${modelId}
      ORDER BY r.embedding <=> s.embedding LIMIT ${k}
    ) n
    WHERE s.id = ANY(${sql.array(ids, 'int8')}) AND s.embedding_model = ${modelId}
    ORDER BY s.id, n.score DESC`);
}

/** How many restaurants `modelId` has embedded (sizes the in-process index before it streams). */
export function selectVectorCount(db: Db, modelId: string) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`/* vectorCount */
    SELECT count(*)::int AS count FROM restaurants WHERE embedding_model = ${modelId} AND embedding IS NOT NULL`);
}
