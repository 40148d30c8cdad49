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
CREATE INDEX restaurants_search_document_idx ON restaurants USING gin (search_document);
-- Misspellings: the trigram index of 0001 (restaurants_search_trgm_idx) serves `word <% text`
-- where pg_trgm exists; without it the gateway corrects cuisine words itself.
