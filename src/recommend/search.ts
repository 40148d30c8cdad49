/**
 * searchRestaurants: a lexical ranking from PostgreSQL (full-text search, weighted by field, plus
 * trigram similarity for misspellings where pg_trgm exists) fused with the vector ranking
 * (nearest embeddings of the text) by a weighted sum of their scores. docs/recommendations.md
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

/** Candidates each ranking contributes to the fusion: the largest `first`, whatever `first` is (5 and 50 cost the same). */
const CANDIDATES = 50;
/**
 * The fused score: LEXICAL_WEIGHT × the lexical score relative to the best lexical match (0–1) +
 * VECTOR_WEIGHT × the cosine (clipped to 0–1). Calibrated on the offline encoder, whose cosines
 * for short texts sit within a few hundredths of each other (~0.2): the words decide, the vector
 * breaks their ties (every restaurant of a cuisine scores the same for "<cuisine> food") and
 * ranks the texts whose words match nothing. Rank fusion (RRF) was tried first: it ignores the
 * gap between scores, so a weak lexical match that the vectors also liked beat the strong ones.
 */
const LEXICAL_WEIGHT = 0.7;
const VECTOR_WEIGHT = 0.3;

export type SearchMode = 'hybrid' | 'lexical' | 'vector';
export type SearchDeps = { db: Db; ml: Ml; cache?: TieredCache };

const trigramOf = new WeakMap<Db, Promise<boolean>>();

/** Whether pg_trgm is installed: looked up once per pool (an extension is not dropped under a running gateway). */
function hasTrigram(db: Db): Promise<boolean> {
  let known = trigramOf.get(db.root);
  if (!known) {
    known = selectHasTrigram(db);
    trigramOf.set(db.root, known);
    known.catch(() => trigramOf.delete(db.root));
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
async function buildLexicalQuery(
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

const byIdDesc = (a: string, b: string) => b.length - a.length || (a < b ? 1 : a > b ? -1 : 0);

/**
 * The weighted sum over both candidate lists, best first, ties by id descending (deterministic).
 * A lexical candidate outside the vector list gets that list's last cosine (an upper bound of its
 * own); a vector candidate outside the lexical list scores 0 there.
 */
function fuse(lexical: readonly Match[], vector: readonly Match[], first: number): Match[] {
  const best = lexical[0]?.score ?? 0;
  const floor = Math.max(0, vector.at(-1)?.score ?? 0);
  const lex = new Map(lexical.map((m) => [m.id, best > 0 ? m.score / best : 0]));
  const cos = new Map(vector.map((m) => [m.id, Math.min(1, Math.max(0, m.score))]));
  const ids = new Set([...lex.keys(), ...cos.keys()]);
  return [...ids]
    .map((id) => ({ id, score: LEXICAL_WEIGHT * (lex.get(id) ?? 0) + VECTOR_WEIGHT * (cos.get(id) ?? floor) }))
    .sort((a, b) => b.score - a.score || byIdDesc(a.id, b.id))
    .slice(0, first);
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
