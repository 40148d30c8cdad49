-- Which model made each restaurant embedding, and when: the backfill redoes rows made by
-- another model, and the in-process vector index pulls rows changed since its last sync.
ALTER TABLE restaurants ADD COLUMN embedding_model varchar(100);
ALTER TABLE restaurants ADD COLUMN embedding_updated_at timestamptz;
CREATE INDEX restaurants_embedding_updated_idx ON restaurants (embedding_updated_at) WHERE embedding_updated_at IS NOT NULL;

-- pgvector: an HNSW index for cosine distance (`ORDER BY embedding <=> $1`).
DO $$
BEGIN
  IF (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
      WHERE attrelid = 'restaurants'::regclass AND attname = 'embedding') = 'vector(384)' THEN
    EXECUTE 'CREATE INDEX restaurants_embedding_hnsw_idx ON restaurants USING hnsw (embedding vector_cosine_ops)';
  END IF;
END
$$;
