/**
 * The pgvector backend: PostgreSQL does the search with the HNSW index
 * (`vector_cosine_ops`); the process holds no vectors. HNSW is approximate and a
 * scan yields at most `hnsw.ef_search` rows (40 by default) before the WHERE filters:
 * raise it for the database (`ALTER DATABASE … SET hnsw.ef_search = 100`) when asking
 * for more results; see docs/recommendations.md.
 */
import type { Db } from '../db/pool.ts';
import { decodeVector, selectNearest, selectSimilar, selectVectorsByIds } from '../db/queries/embeddings.ts';
import type { Match, NearestFilter, VectorIndex } from './vector-index.ts';

export class PgvectorIndex implements VectorIndex {
  readonly kind = 'pgvector' as const;

  constructor(
    private readonly db: Db,
    private readonly modelId: string,
    private readonly dims: number,
  ) {}

  withDb(db: Db): VectorIndex {
    return new PgvectorIndex(db, this.modelId, this.dims);
  }

  async nearest(query: Float32Array, k: number, filter: NearestFilter = {}): Promise<Match[]> {
    const rows = await selectNearest(this.db, this.modelId, query, k, {
      minRating: filter.minRating,
      excludeIds: filter.excludeIds ? [...filter.excludeIds] : [],
    });
    return rows.map((r) => ({ id: r.id, score: r.score }));
  }

  async similar(ids: readonly string[], k: number): Promise<Map<string, Match[]>> {
    const out = new Map<string, Match[]>();
    if (ids.length === 0) return out;
    for (const row of await selectSimilar(this.db, this.modelId, ids, k)) {
      const list = out.get(row.source_id) ?? [];
      list.push({ id: row.id, score: row.score });
      out.set(row.source_id, list);
    }
    return out;
  }

  async vectors(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    if (ids.length === 0) return new Map();
    const rows = await selectVectorsByIds(this.db, 'vector', this.modelId, ids);
    return new Map(rows.map((r) => [r.id, decodeVector(r.vector, 'vector', this.dims)]));
  }

  async sync(): Promise<void> {}

  stats() {
    return { size: 0, bytes: 0, scans: 0 };
  }

  close(): void {}
}
