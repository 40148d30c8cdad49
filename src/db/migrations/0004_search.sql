-- Lexical search (searchRestaurants' lexical ranking, restaurants(search:)): a weighted tsvector
-- kept by PostgreSQL itself, so every writer (the gateway, imports, the original backend's
-- tables once adopted) keeps it current. Core full-text search only: no extension needed.
-- Weights: name and cuisine A, location B, description C (ts_rank's weight array in
-- src/db/queries/restaurants.ts gives A 1.0, B 0.4, C 0.2). The explicit 'english' config makes
-- the expression immutable, as a generated column requires.
ALTER TABLE restaurants ADD COLUMN search_document tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') ||
  setweight(to_tsvector('english'::regconfig, coalesce(cuisine_type, '')), 'A') ||
  setweight(to_tsvector('english'::regconfig, coalesce(location, '')), 'B') ||
  setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')
) STORED;
-- fastupdate off: a bulk insert (seed, import) would otherwise leave every new row in the GIN
-- pending list, which each search scans in full until a vacuum merges it.
CREATE INDEX restaurants_search_document_idx ON restaurants USING gin (search_document) WITH (fastupdate = off);
-- Misspellings: search_words below (with pg_trgm); without it the gateway corrects cuisine words itself.

-- The words of the catalogue (4–40 letters or digits, lower case), for correcting misspelt search
-- words to known ones: trigram-indexed where pg_trgm is installed. Kept by triggers (new
-- restaurants, changed texts); words are never removed (a vanished word still corrects to
-- something that finds nothing, harmlessly).
CREATE TABLE search_words (word text PRIMARY KEY);

CREATE FUNCTION search_words_of(t text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
  SELECT DISTINCT w FROM regexp_split_to_table(lower(t), '[^[:alnum:]]+') AS w WHERE length(w) BETWEEN 4 AND 40
$$;

CREATE FUNCTION restaurants_search_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_words (word)
    SELECT DISTINCT w FROM new_rows, search_words_of(concat_ws(' ', name, cuisine_type, description, location)) AS w
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE FUNCTION restaurants_search_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO search_words (word)
    SELECT w FROM search_words_of(concat_ws(' ', NEW.name, NEW.cuisine_type, NEW.description, NEW.location)) AS w
    ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

CREATE TRIGGER restaurants_search_words_insert AFTER INSERT ON restaurants
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION restaurants_search_words_inserted();
CREATE TRIGGER restaurants_search_words_update AFTER UPDATE OF name, cuisine_type, description, location ON restaurants
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.cuisine_type IS DISTINCT FROM NEW.cuisine_type
    OR OLD.description IS DISTINCT FROM NEW.description OR OLD.location IS DISTINCT FROM NEW.location)
  EXECUTE FUNCTION restaurants_search_words_updated();

INSERT INTO search_words (word)
  SELECT DISTINCT w FROM restaurants, search_words_of(concat_ws(' ', name, cuisine_type, description, location)) AS w
  ON CONFLICT DO NOTHING;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    EXECUTE 'CREATE INDEX search_words_trgm_idx ON search_words USING gin (word gin_trgm_ops) WITH (fastupdate = off)';
  END IF;
END
$$;

-- The lexical score (src/db/queries/restaurants.ts explains it): one definition for
-- searchRestaurants and restaurants(search:). Inlined by the planner (a plain SQL expression).
CREATE FUNCTION search_score(doc tsvector, any_words tsquery, all_words tsquery) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT round((ts_rank('{0.05, 0.2, 0.4, 1.0}'::float4[], doc, any_words)
    + CASE WHEN doc @@ all_words THEN 0.5 ELSE 0 END)::numeric, 6)
$$;

-- searchRestaurants' lexical candidates, best first. On a small table the planner prefers a
-- sequential scan that runs `@@` on every row (it prices the match like an integer comparison);
-- the full-text index is always cheaper here, so this function plans without sequential scans
-- (a setting local to the call: PgBouncer-safe).
CREATE FUNCTION search_lexical(any_words tsquery, all_words tsquery, max_rows int)
RETURNS TABLE (id bigint, score numeric)
LANGUAGE sql STABLE PARALLEL SAFE SET enable_seqscan = off AS $$
  SELECT r.id, search_score(r.search_document, any_words, all_words) AS score
  FROM restaurants r WHERE r.search_document @@ (any_words || all_words)
  ORDER BY score DESC, r.id DESC LIMIT max_rows
$$;
