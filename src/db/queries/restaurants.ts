import { z } from 'zod';
import { columnList } from '../columns.ts';
import type { Db } from '../pool.ts';
import { type FragmentSqlToken, sql } from '../sql.ts';
import { statementShapes } from '../statement-shapes.ts';

export const PRICE_RANGES = ['low', 'medium', 'high'] as const;

/** Every readable column; a query reads the subset its caller asked for (projection). */
export const RestaurantRow = z
  .object({
    id: z.string(),
    name: z.string(),
    cuisine_type: z.string(),
    description: z.string().nullable(),
    rating: z.number(),
    price_range: z.enum(PRICE_RANGES).nullable(),
    location: z.string().nullable(),
    created_at: z.date(),
  })
  .partial()
  .required({ id: true });
export type RestaurantRow = z.infer<typeof RestaurantRow>;
export type RestaurantColumn = Exclude<keyof RestaurantRow, never>;
/** The row's columns, in its order: what `columnList` accepts. */
export const RESTAURANT_COLUMNS: readonly RestaurantColumn[] = RestaurantRow.keyof().options;

/** Reads the given columns of the restaurants with these ids (in no particular order). */
export function selectRestaurantsByIds(db: Db, ids: readonly string[], columns: readonly RestaurantColumn[]) {
  return db.any(sql.type(RestaurantRow)`/* restaurantsByIds */
    SELECT ${columnList(RESTAURANT_COLUMNS, columns)} FROM restaurants WHERE id = ANY(${sql.array(ids, 'int8')})`);
}

export const RESTAURANT_ORDERS = ['RATING_DESC', 'RATING_ASC', 'NAME_ASC', 'NAME_DESC', 'ID_ASC'] as const;
export type RestaurantOrder = (typeof RESTAURANT_ORDERS)[number];

/** Sort key columns of each ordering; the last one is always id (the tie-breaker). */
export const RESTAURANT_ORDER_KEYS = {
  RATING_DESC: ['rating', 'id'],
  RATING_ASC: ['rating', 'id'],
  NAME_ASC: ['name', 'id'],
  NAME_DESC: ['name', 'id'],
  ID_ASC: ['id'],
} as const satisfies Record<RestaurantOrder, readonly RestaurantColumn[]>;

export type RestaurantFilter = {
  cuisine?: string | null;
  minRating?: number | null;
  priceRange?: (typeof PRICE_RANGES)[number] | null;
  search?: LexicalQuery | null;
};

/** `%text%` for ILIKE with the user's own `%`, `_` and `\\` taken literally. */
function containsPattern(text: string) {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A search text as the lexical side reads it (built by src/recommend/lexical.ts):
 * - `text`: as typed (trimmed); always matched as a literal substring;
 * - `queries`: texts for `websearch_to_tsquery` (the text, and the text with misspelt cuisine
 *   words corrected); empty when the text is to be taken literally (it holds `%`, `_` or `\\`);
 * - `terms`: its words (letters and digits only) and corrections, for the any-word ranking;
 * - `trigramWords`: words to correct by trigram similarity against `search_words` when no
 *   restaurant holds them (null: pg_trgm is not installed).
 */
export type LexicalQuery = {
  text: string;
  queries: readonly string[];
  terms: readonly string[];
  trigramWords: readonly string[] | null;
};

/** The trigram-indexed expression of 0001_init.sql (restaurants_search_trgm_idx): the substring match. */
const TRIGRAM_TEXT = sql.fragment`(name || ' ' || cuisine_type || ' ' || coalesce(description, ''))`;

/** Every word of the text, as one tsquery (`a | b | c`): ranks rows by how many and which fields match. */
function anyWordQuery(q: LexicalQuery): FragmentSqlToken {
  // terms hold letters and digits only: nothing to_tsquery could read as an operator
  return sql.fragment`to_tsquery('english'::regconfig, ${q.terms.join(' | ')})`;
}

/** All words (websearch syntax: "phrases", -exclusions, or), of the text or of its corrected form. */
function allWordsQuery(q: LexicalQuery) {
  return sql.join(
    q.queries.map((t) => sql.fragment`websearch_to_tsquery('english'::regconfig, ${t})`),
    sql.fragment` || `,
  );
}

/**
 * The lexical score (`search_score`, 0004_search.sql), ≥ 0 and rounded to 6 decimals (numeric:
 * exact in a keyset cursor): ts_rank over every word (weights: name and cuisine 1.0, location 0.4,
 * description 0.2) + 0.5 when the row holds all the words. A row found only as a substring scores 0.
 */
function lexicalScore(q: LexicalQuery): FragmentSqlToken {
  // slonik refuses an empty sql.join: a literal-only text builds no tsquery at all
  if (q.queries.length === 0 || q.terms.length === 0) return sql.fragment`0::numeric`;
  return sql.fragment`search_score(search_document, ${anyWordQuery(q)}, ${allWordsQuery(q)})`;
}

/** restaurants(search:): the text as a literal substring, or all its words (the corrected ones too). */
function searchFilter(q: LexicalQuery): FragmentSqlToken {
  const substring = sql.fragment`${TRIGRAM_TEXT} ILIKE ${containsPattern(q.text)}`;
  if (q.queries.length === 0) return substring;
  return sql.fragment`(${substring} OR search_document @@ (${allWordsQuery(q)}))`;
}

function filterConditions(f: RestaurantFilter): FragmentSqlToken[] {
  const conditions: FragmentSqlToken[] = [];
  if (f.cuisine != null) conditions.push(sql.fragment`cuisine_type = ${f.cuisine}`);
  if (f.minRating != null) conditions.push(sql.fragment`rating >= ${f.minRating}`);
  if (f.priceRange != null) conditions.push(sql.fragment`price_range = ${f.priceRange}`);
  if (f.search != null) conditions.push(searchFilter(f.search));
  return conditions;
}

function where(conditions: FragmentSqlToken[]): FragmentSqlToken {
  return conditions.length ? sql.fragment`WHERE ${sql.join(conditions, sql.fragment` AND `)}` : sql.fragment``;
}

/** Keyset position: the sort key values of the last row of the previous page. */
type RestaurantAfter = readonly (string | number)[];

function keysetCondition(order: RestaurantOrder, after: RestaurantAfter): FragmentSqlToken {
  switch (order) {
    case 'RATING_DESC':
      return sql.fragment`(rating, id) < (${after[0]!}::numeric, ${after[1]!}::int8)`;
    case 'RATING_ASC':
      return sql.fragment`(rating, id) > (${after[0]!}::numeric, ${after[1]!}::int8)`;
    case 'NAME_ASC':
      return sql.fragment`(name, id) > (${after[0]!}::text, ${after[1]!}::int8)`;
    case 'NAME_DESC':
      return sql.fragment`(name, id) < (${after[0]!}::text, ${after[1]!}::int8)`;
    case 'ID_ASC':
      return sql.fragment`id > ${after[0]!}::int8`;
  }
}

const ORDER_BY: Record<RestaurantOrder, FragmentSqlToken> = {
  RATING_DESC: sql.fragment`ORDER BY rating DESC, id DESC`,
  RATING_ASC: sql.fragment`ORDER BY rating ASC, id ASC`,
  NAME_ASC: sql.fragment`ORDER BY name ASC, id ASC`,
  NAME_DESC: sql.fragment`ORDER BY name DESC, id DESC`,
  ID_ASC: sql.fragment`ORDER BY id ASC`,
};

/**
 * One keyset page: `limit` rows after `after` in `order`, filtered. The caller asks
 * for one row more than the page to learn `hasNextPage` without a count.
 */
export function selectRestaurantPage(
  db: Db,
  args: {
    filter: RestaurantFilter;
    order: RestaurantOrder;
    after: RestaurantAfter | null;
    limit: number;
    columns: readonly RestaurantColumn[];
  },
) {
  const { filter, after } = args;
  const values = [filter.cuisine, filter.minRating, filter.priceRange, after?.[0], after?.[1], args.limit];
  // A search text builds its own tsqueries (their number varies): built per call.
  if (filter.search != null) return db.any(restaurantPage(args, values));
  const set = (v: unknown) => (v == null ? 0 : 1);
  const key = `${args.order}|${args.columns.join(',')}|${set(after)}${set(filter.cuisine)}${set(filter.minRating)}${set(filter.priceRange)}`;
  return db.any(restaurantPageShapes(key, args, values));
}

type PageArgs = Parameters<typeof selectRestaurantPage>[1];

/** The page statement; `values`: cuisine, minRating, priceRange, the two `after` values, the limit. */
function restaurantPage(args: PageArgs, values: readonly unknown[]) {
  const set = <V>(v: V | null | undefined, i: number) => (v == null ? null : (values[i] as V));
  const conditions = filterConditions({
    ...args.filter,
    cuisine: set(args.filter.cuisine, 0),
    minRating: set(args.filter.minRating, 1),
    priceRange: set(args.filter.priceRange, 2),
  });
  if (args.after) conditions.push(keysetCondition(args.order, [values[3] as string, values[4] as string]));
  return sql.type(RestaurantRow)`/* restaurantPage */
    SELECT ${columnList(RESTAURANT_COLUMNS, args.columns)} FROM restaurants ${where(conditions)}
    ${ORDER_BY[args.order]} LIMIT ${values[5] as number}`;
}

/** Pages without a search text, built once per ordering, column and filter choice (src/db/statement-shapes.ts). */
const restaurantPageShapes = statementShapes(128, (shape: PageArgs, markers) => restaurantPage(shape, markers));

/** Counts the restaurants matching the filter (run only when `totalCount` is selected). */
export function countRestaurants(db: Db, filter: RestaurantFilter) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`/* restaurantCount */
    SELECT count(*)::int AS count FROM restaurants ${where(filterConditions(filter))}`);
}

/** Keyset position of the relevance ordering: the last row's lexical score and id. */
type RelevanceAfter = readonly [score: number, id: string];

/**
 * restaurants(search:) ranked by the lexical score (best first, ties by id descending), one
 * keyset page. The score is computed in a subquery so that the cursor compares the very value
 * the rows are ordered by.
 */
export function selectRestaurantSearchPage(
  db: Db,
  args: {
    filter: RestaurantFilter & { search: LexicalQuery };
    after: RelevanceAfter | null;
    limit: number;
    columns: readonly RestaurantColumn[];
  },
) {
  const after = args.after
    ? sql.fragment`WHERE (search_score, id) < (${args.after[0]}::numeric, ${args.after[1]}::int8)`
    : sql.fragment``;
  return db.any(sql.type(RestaurantRow.extend({ search_score: z.number() }))`/* restaurantSearchPage */
    SELECT * FROM (
      SELECT ${columnList(RESTAURANT_COLUMNS, args.columns)}, ${lexicalScore(args.filter.search)} AS search_score
      FROM restaurants ${where(filterConditions(args.filter))}
    ) s ${after}
    ORDER BY search_score DESC, id DESC LIMIT ${args.limit}`);
}

const Scored = z.object({ id: z.string(), score: z.number() });

/** A word is corrected to a known one at least this similar (pg_trgm `similarity`: "itaian" → "italian" is 0.5). */
const CORRECTION_SIMILARITY = 0.45;

/**
 * searchRestaurants' lexical ranking: the `limit` best rows by lexical score (ties by id
 * descending) among the rows holding any word of the text (the full-text index).
 *
 * With pg_trgm, a word that no restaurant holds (not in `search_words`: a primary-key probe) is
 * first corrected to the most similar word that one does (`search_words`' trigram index; at
 * least CORRECTION_SIMILARITY), which joins the any-word query: "carbonarra" finds carbonara.
 * Known words cost nothing more; the restaurants' own texts are never scanned by trigram.
 */
export function selectLexicalMatches(db: Db, q: LexicalQuery, limit: number) {
  const ranked = (anyWord: FragmentSqlToken) =>
    sql.fragment`SELECT id, score::float8 AS score FROM search_lexical(${anyWord}, ${allWordsQuery(q)}, ${limit})`;
  if (!q.trigramWords?.length) {
    return db.any(sql.type(Scored)`/* lexicalSearch */ ${ranked(anyWordQuery(q))}`);
  }
  // fixed words come from search_words: letters and digits only, safe for to_tsquery
  return db.any(sql.type(Scored)`/* lexicalSearch */
    WITH fixes AS MATERIALIZED (
      SELECT coalesce(string_agg(f.word, ' | ' ORDER BY f.word), '') AS terms
      FROM unnest(${sql.array(q.trigramWords, 'text')}) AS u(w)
      CROSS JOIN LATERAL (
        SELECT word FROM search_words
        WHERE word % u.w AND similarity(word, u.w) >= ${CORRECTION_SIMILARITY}
        ORDER BY similarity(word, u.w) DESC, word LIMIT 1
      ) f
      WHERE NOT EXISTS (SELECT 1 FROM search_words k WHERE k.word = u.w)
    )
    ${ranked(
      sql.fragment`(SELECT CASE WHEN terms = '' THEN ${anyWordQuery(q)}
        ELSE ${anyWordQuery(q)} || to_tsquery('english'::regconfig, terms) END FROM fixes)`,
    )}`);
}

/** Whether pg_trgm is installed in this database (its functions exist only then). */
export function selectHasTrigram(db: Db) {
  return db.oneFirst(sql.type(z.object({ has: z.boolean() }))`/* hasTrigram */
    SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') AS has`);
}

/** Distinct cuisines, alphabetical. */
export function selectCuisines(db: Db) {
  return db.any(sql.type(z.object({ cuisine_type: z.string() }))`/* cuisines */
    SELECT DISTINCT cuisine_type FROM restaurants ORDER BY cuisine_type`);
}
