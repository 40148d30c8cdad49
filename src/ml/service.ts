/**
 * The process's embedding machinery: the model source, the embedder and the vector
 * index backend (pgvector when the column is `vector(384)`, else in process).
 */
import type { Db } from '../db/pool.ts';
import { type EmbeddingType, selectEmbeddingType } from '../db/queries/embeddings.ts';
import type { Logger } from '../observability/logger.ts';
import { DIMENSIONS, Embedder } from './embedder.ts';
import { MemoryIndex } from './memory-index.ts';
import { modelSource } from './model-source.ts';
import { PgvectorIndex } from './pgvector-index.ts';
import type { VectorIndex } from './vector-index.ts';

export type MlOptions = {
  modelPath?: string;
  batchSize: number;
  threads: number;
  idleMs: number;
  vectorIndex: 'auto' | 'memory' | 'pgvector';
  syncMs: number;
};

export type Ml = { embedder: Embedder; index: VectorIndex; embeddingType: EmbeddingType; close(): Promise<void> };

/**
 * @throws ModelFilesError when MODEL_PATH lacks a file; Error when VECTOR_INDEX=pgvector
 *   but the column is not `vector(384)`.
 */
export async function createMl(db: Db, opts: MlOptions, log: Logger): Promise<Ml> {
  const source = await modelSource(opts.modelPath);
  const embedder = new Embedder(source, { threads: opts.threads, batchSize: opts.batchSize, idleMs: opts.idleMs });
  const embeddingType = await selectEmbeddingType(db);
  if (opts.vectorIndex === 'pgvector' && embeddingType !== 'vector') {
    throw new Error('VECTOR_INDEX=pgvector, but restaurants.embedding is not a pgvector column (no extension?)');
  }
  const usePgvector = opts.vectorIndex === 'pgvector' || (opts.vectorIndex === 'auto' && embeddingType === 'vector');
  const index: VectorIndex = usePgvector
    ? new PgvectorIndex(db, source.id, DIMENSIONS)
    : new MemoryIndex(db, embeddingType, source.id, log, { dims: DIMENSIONS, syncMs: opts.syncMs });
  log.info({ model: source.id, index: index.kind, column: embeddingType }, 'embeddings ready');
  return {
    embedder,
    index,
    embeddingType,
    async close() {
      index.close();
      await embedder.close();
    },
  };
}
