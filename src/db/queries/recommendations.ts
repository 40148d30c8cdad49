import { z } from 'zod';
import type { Db } from '../pool.ts';
import { sql } from '../sql.ts';

const Signal = z.object({
  restaurant_id: z.string(),
  order_date: z.date(),
  rating: z.number().int().nullable(),
  cuisine_type: z.string(),
  price_range: z.string().nullable(),
});
export type OrderSignal = z.infer<typeof Signal>;

/** A user's last 1,000 orders, newest first: what the user vector and insights need, nothing else. */
export function selectOrderSignals(db: Db, userId: string, limit = 1000) {
  return db.any(sql.type(Signal)`/* orderSignals */
    SELECT o.restaurant_id, o.order_date, o.rating, r.cuisine_type, r.price_range
    FROM orders o JOIN restaurants r ON r.id = o.restaurant_id
    WHERE o.user_id = ${userId}::int8
    ORDER BY o.order_date DESC, o.id DESC LIMIT ${limit}`);
}

export function selectPreferences(db: Db, userId: string) {
  return db.maybeOne(sql.type(
    z.object({ favorite_cuisines: z.array(z.string()), price_preference: z.string().nullable() }),
  )`/* preferences */
    SELECT favorite_cuisines, price_preference FROM user_preferences WHERE user_id = ${userId}::int8`);
}

/** The `perCuisine` top-rated restaurants of each cuisine (and price range, when given): the onboarding vector's sources. */
export function selectTopRatedOfCuisines(
  db: Db,
  cuisines: readonly string[],
  priceRange: string | null,
  perCuisine: number,
) {
  return db.any(sql.type(z.object({ id: z.string() }))`/* topRatedOfCuisines */
    SELECT id FROM (
      SELECT id, row_number() OVER (PARTITION BY cuisine_type ORDER BY rating DESC, id) AS rank
      FROM restaurants
      WHERE cuisine_type = ANY(${sql.array(cuisines, 'text')})
        ${priceRange ? sql.fragment`AND price_range = ${priceRange}` : sql.fragment``}
    ) ranked WHERE rank <= ${perCuisine}`);
}

const Card = z.object({
  id: z.string(),
  name: z.string(),
  cuisine_type: z.string(),
  rating: z.number(),
  price_range: z.string().nullable(),
});
export type RestaurantCard = z.infer<typeof Card>;

/** The top-rated restaurants (cold start), excluding some ids; index (rating DESC, id DESC). */
export function selectTopRated(db: Db, limit: number, minRating: number, excludeIds: readonly string[]) {
  return db.any(sql.type(Card)`/* topRated */
    SELECT id, name, cuisine_type, rating, price_range FROM restaurants
    WHERE rating >= ${minRating} AND NOT (id = ANY(${sql.array(excludeIds, 'int8')}))
    ORDER BY rating DESC, id DESC LIMIT ${limit}`);
}

/** What an insight says about a restaurant (no description, no embedding). */
export function selectCards(db: Db, ids: readonly string[]) {
  return db.any(sql.type(Card)`/* restaurantCards */
    SELECT id, name, cuisine_type, rating, price_range FROM restaurants WHERE id = ANY(${sql.array(ids, 'int8')})`);
}
