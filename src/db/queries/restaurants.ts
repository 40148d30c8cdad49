import { type FragmentSqlToken, sql } from 'slonik';
import { z } from 'zod';
import { columnList } from '../columns.ts';
import type { Db } from '../pool.ts';

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
export const RESTAURANT_COLUMNS: readonly RestaurantColumn[] = [
  'id',
  'name',
  'cuisine_type',
  'description',
  'rating',
  'price_range',
  'location',
  'created_at',
];

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
  search?: string | null;
};

/** `%text%` for ILIKE with the user's own `%`, `_` and `\` taken literally. */
function containsPattern(text: string) {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function filterConditions(f: RestaurantFilter): FragmentSqlToken[] {
  const conditions: FragmentSqlToken[] = [];
  if (f.cuisine != null) conditions.push(sql.fragment`cuisine_type = ${f.cuisine}`);
  if (f.minRating != null) conditions.push(sql.fragment`rating >= ${f.minRating}`);
  if (f.priceRange != null) conditions.push(sql.fragment`price_range = ${f.priceRange}`);
  if (f.search != null && f.search !== '') {
    // The expression matches the trigram index in 0001_init.sql.
    conditions.push(
      sql.fragment`(name || ' ' || cuisine_type || ' ' || coalesce(description, '')) ILIKE ${containsPattern(f.search)}`,
    );
  }
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
  const conditions = filterConditions(args.filter);
  if (args.after) conditions.push(keysetCondition(args.order, args.after));
  return db.any(sql.type(RestaurantRow)`/* restaurantPage */
    SELECT ${columnList(RESTAURANT_COLUMNS, args.columns)} FROM restaurants ${where(conditions)}
    ${ORDER_BY[args.order]} LIMIT ${args.limit}`);
}

/** Counts the restaurants matching the filter (run only when `totalCount` is selected). */
export function countRestaurants(db: Db, filter: RestaurantFilter) {
  return db.oneFirst(sql.type(z.object({ count: z.number() }))`/* restaurantCount */
    SELECT count(*)::int AS count FROM restaurants ${where(filterConditions(filter))}`);
}

/** Distinct cuisines, alphabetical. */
export function selectCuisines(db: Db) {
  return db.any(sql.type(z.object({ cuisine_type: z.string() }))`/* cuisines */
    SELECT DISTINCT cuisine_type FROM restaurants ORDER BY cuisine_type`);
}
