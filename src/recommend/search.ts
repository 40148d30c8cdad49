/**
 * searchRestaurants: a lexical ranking from PostgreSQL (full-text search, weighted by field, plus
 * trigram similarity for misspellings where pg_trgm exists) fused with the vector ranking
 * (nearest embeddings of the text) by weighted reciprocal rank fusion. docs/recommendations.md
 * explains the calibration and what `score` means.
 *
 * Statements per search, whatever `first` (1–50): one for the lexical ranking, plus one for the
 * vector ranking with the pgvector backend (the in-process index sends none); the first search
 * of a process also looks up pg_trgm once, and the cuisines (the correction vocabulary) come from
 * the shared cache, read from the database when it has expired. Reading the restaurants' fields
 * is the batched loader's one statement.
 */
import type { TieredCache } from '../cache/tiered-cache.ts';
import type { Db } from '../db/pool.ts';
import {
  type LexicalQuery,
  selectCuisines,
  selectHasTrigram,
  selectLexicalMatches,
} from '../db/queries/restaurants.ts';
import type { Ml } from '../ml/service.ts';
import type { Match } from '../ml/vector-index.ts';
import { cuisineVocabulary, lexicalQuery } from './lexical.ts';

/** Candidates each ranking contributes to the fusion, whatever `first` is (so 5 and 50 cost the same). */
const CANDIDATES = 100;
/** RRF's k: damps the difference between the first ranks (60 is the usual choice). */
const RRF_K = 60;
/**
 * The lexical ranking weighs twice the vector one: the offline encoder ranks short texts almost
 * arbitrarily, so a restaurant found only by its vector comes after the ~60 best lexical matches
 * (1/(60+r) = 0.5/(60+1) at r = 62), while a lexical match the vector also ranks high moves up.
 */
const LEXICAL_WEIGHT = 1;
const VECTOR_WEIGHT = 0.5;
const BEST = LEXICAL_WEIGHT / (RRF_K + 1) + VECTOR_WEIGHT / (RRF_K + 1);

export type SearchMode = 'hybrid' | 'lexical' | 'vector';
export type SearchDeps = { db: Db; ml: Ml; cache?: TieredCache };

const trigramOf = new WeakMap<Db, Promise<boolean>>();

/** Whether pg_trgm is installed: looked up once per pool (an extension is not dropped under a running gateway). */
function hasTrigram(db: Db): Promise<boolean> {
  let known = trigramOf.get(db);
  if (!known) {
    known = selectHasTrigram(db);
    trigramOf.set(db, known);
    known.catch(() => trigramOf.delete(db));
  }
  return known;
}

/** Every cuisine, alphabetical: from the shared cache (5 min), else one statement. */
export async function cuisineList(db: Db, cache: TieredCache | undefined): Promise<string[]> {
  const cached = await cache?.get<string[]>('restaurants', 'cuisines');
  if (cached) return cached;
  const cuisines = (await selectCuisines(db)).map((r) => r.cuisine_type);
  await cache?.set('restaurants', 'cuisines', cuisines);
  return cuisines;
}

/** The lexical query for a search text, with the correction vocabulary and pg_trgm's presence. */
export async function buildLexicalQuery(
  deps: Pick<SearchDeps, 'db' | 'cache'>,
  text: string,
  opts: { trigram?: boolean } = {},
): Promise<LexicalQuery> {
  const [trigram, cuisines] = await Promise.all([
    opts.trigram ?? hasTrigram(deps.db),
    cuisineList(deps.db, deps.cache),
  ]);
  return lexicalQuery(text, cuisineVocabulary(cuisines), trigram);
}

const byId = (a: string, b: string) => (a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)) * -1;

/**
 * Weighted reciprocal rank fusion, normalised to (0, 1]: 1 = first in both rankings. Ties (same
 * ranks) are broken by id, descending like the lexical ranking's own ties: deterministic.
 */
function fuse(lexical: readonly Match[], vector: readonly Match[], first: number): Match[] {
  const fused = new Map<string, number>();
  const add = (list: readonly Match[], weight: number) => {
    list.forEach((m, i) => {
      fused.set(m.id, (fused.get(m.id) ?? 0) + weight / (RRF_K + i + 1));
    });
  };
  add(lexical, LEXICAL_WEIGHT);
  add(vector, VECTOR_WEIGHT);
  return [...fused]
    .sort((a, b) => b[1] - a[1] || byId(a[0], b[0]))
    .slice(0, first)
    .map(([id, s]) => ({ id, score: s / BEST }));
}

/**
 * The `first` best restaurants for `text` (trimmed, non-empty, checked by textArgument).
 * `mode` 'lexical' / 'vector' give one ranking alone (the relevance benchmark compares them);
 * their scores are then the ranking's own: the lexical score (≥ 0) or the cosine (−1 to 1).
 */
export async function searchRestaurants(
  deps: SearchDeps,
  text: string,
  first: number,
  opts: { mode?: SearchMode; trigram?: boolean } = {},
): Promise<Match[]> {
  const mode = opts.mode ?? 'hybrid';
  const lexical = async () => {
    if (mode === 'vector') return [];
    const q = await buildLexicalQuery(deps, text, opts);
    return q.queries.length ? selectLexicalMatches(deps.db, q, mode === 'lexical' ? first : CANDIDATES) : [];
  };
  const vector = async () => {
    if (mode === 'lexical') return [];
    const v = await deps.ml.embedder.embedOne(text);
    return deps.ml.index.nearest(v, mode === 'vector' ? first : CANDIDATES);
  };
  const [l, v] = await Promise.all([lexical(), vector()]);
  if (mode === 'lexical') return [...l];
  if (mode === 'vector') return v;
  return fuse(l, v, first);
}
