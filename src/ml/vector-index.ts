import type { Db } from '../db/pool.ts';
/**
 * Nearest-neighbour search over restaurant embeddings (unit vectors, so cosine
 * similarity is a dot product). Two backends, chosen at start-up: pgvector where the
 * column is `vector(384)` (an HNSW index in PostgreSQL), else in process
 * (memory-index.ts).
 */

/** A restaurant id and its cosine similarity to the query (higher is nearer). */
export type Match = { id: string; score: number };
export type NearestFilter = { minRating?: number; excludeIds?: ReadonlySet<string> };

export interface VectorIndex {
  readonly kind: 'memory' | 'pgvector';
  /** The `k` restaurants nearest to `query`, best first. */
  nearest(query: Float32Array, k: number, filter?: NearestFilter): Promise<Match[]>;
  /** For each id, its `k` nearest other restaurants: one pass (or one statement) for all ids. */
  similar(ids: readonly string[], k: number): Promise<Map<string, Match[]>>;
  /** The vectors of these restaurants; ids without an embedding are absent. */
  vectors(ids: readonly string[]): Promise<Map<string, Float32Array>>;
  /** Takes in embeddings written since the last sync (in-process index; pgvector has nothing to do). */
  sync(): Promise<void>;
  /** Restaurants indexed in process, the bytes their vectors take and full scans so far (0 for pgvector). */
  stats(): { size: number; bytes: number; scans: number };
  close(): void;
  /** The index reading through `db` (a request's handle, so its statements count for it); the in-process one is itself. */
  withDb(db: Db): VectorIndex;
}

/** The `k` best of a stream of scored items: a bounded min-heap (memory k, time n·log k). */
export class TopK {
  private readonly scores: Float64Array;
  private readonly slots: Int32Array;
  private size = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(k);
    this.slots = new Int32Array(k);
  }

  /** The score an item must beat to enter. */
  get threshold(): number {
    return this.size < this.k ? Number.NEGATIVE_INFINITY : this.scores[0]!;
  }

  push(slot: number, score: number): void {
    if (this.k === 0) return;
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (this.scores[parent]! <= score) break;
        this.scores[i] = this.scores[parent]!;
        this.slots[i] = this.slots[parent]!;
        i = parent;
      }
      this.scores[i] = score;
      this.slots[i] = slot;
      return;
    }
    if (score <= this.scores[0]!) return;
    // Replace the root and sift down.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const c = r < this.size && this.scores[r]! < this.scores[l]! ? r : l;
      if (this.scores[c]! >= score) break;
      this.scores[i] = this.scores[c]!;
      this.slots[i] = this.slots[c]!;
      i = c;
    }
    this.scores[i] = score;
    this.slots[i] = slot;
  }

  /** Best first (ties: lower slot first, i.e. deterministic). */
  sorted(): { slot: number; score: number }[] {
    const out = Array.from({ length: this.size }, (_, i) => ({ slot: this.slots[i]!, score: this.scores[i]! }));
    return out.sort((a, b) => b.score - a.score || a.slot - b.slot);
  }
}
