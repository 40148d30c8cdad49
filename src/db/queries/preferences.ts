import { z } from 'zod';
import type { Db } from '../pool.ts';
import { sql } from '../sql.ts';

export const TasteProfileRow = z.object({
  user_id: z.string(),
  total_orders: z.number().int(),
  average_order_value: z.number().nullable(),
  top_cuisines: z.array(z.string()),
  ordered_price_range: z.string().nullable(),
  chosen_cuisines: z.array(z.string()).nullable(),
  chosen_price_range: z.string().nullable(),
  updated_at: z.date().nullable(),
});
export type TasteProfileRow = z.infer<typeof TasteProfileRow>;

/**
 * Taste profiles of several users in one statement, aggregated in Postgres (no order
 * row leaves the database): order count and average value, the top 3 cuisines and the
 * most frequent price range by order count (ties: alphabetical), and the choices saved
 * by setTastePreferences. `updated_at`: the later of the choices and the newest order.
 */
export function selectTasteProfiles(db: Db, userIds: readonly string[]) {
  return db.any(sql.type(TasteProfileRow)`/* tasteProfiles */
    SELECT k.user_id, s.total_orders, s.average_order_value,
           coalesce(c.top_cuisines, '{}') AS top_cuisines, pr.price_range AS ordered_price_range,
           p.favorite_cuisines AS chosen_cuisines, p.price_preference AS chosen_price_range,
           greatest(p.updated_at, s.last_order_at) AS updated_at
    FROM unnest(${sql.array(userIds, 'int8')}) AS k(user_id)
    LEFT JOIN user_preferences p ON p.user_id = k.user_id
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS total_orders, round(avg(total_amount), 2)::float8 AS average_order_value,
             max(created_at) AS last_order_at
      FROM orders WHERE user_id = k.user_id
    ) s
    CROSS JOIN LATERAL (
      SELECT array_agg(cuisine_type ORDER BY n DESC, cuisine_type) AS top_cuisines FROM (
        SELECT r.cuisine_type, count(*) AS n FROM orders o JOIN restaurants r ON r.id = o.restaurant_id
        WHERE o.user_id = k.user_id GROUP BY r.cuisine_type ORDER BY n DESC, r.cuisine_type LIMIT 3
      ) t
    ) c
    LEFT JOIN LATERAL (
      SELECT r.price_range FROM orders o JOIN restaurants r ON r.id = o.restaurant_id
      WHERE o.user_id = k.user_id AND r.price_range IS NOT NULL
      GROUP BY r.price_range ORDER BY count(*) DESC, r.price_range LIMIT 1
    ) pr ON true`);
}

/**
 * The canonical spelling of each known cuisine among `names` (compared case-insensitively),
 * keyed by its lower-case form.
 */
export function selectKnownCuisines(db: Db, names: readonly string[]) {
  return db.any(sql.type(z.object({ cuisine_type: z.string() }))`/* knownCuisines */
    SELECT DISTINCT cuisine_type FROM restaurants
    WHERE lower(cuisine_type) = ANY(${sql.array(
      names.map((n) => n.toLowerCase()),
      'text',
    )})`);
}

/**
 * Saves onboarding choices (replacing earlier ones). The preference embedding is
 * cleared: it was built from the old choices and is recomputed from the new ones.
 */
export function upsertPreferences(db: Db, userId: string, cuisines: readonly string[], priceRange: string | null) {
  return db.one(sql.type(z.object({ user_id: z.string() }))`/* upsertPreferences */
    INSERT INTO user_preferences (user_id, favorite_cuisines, price_preference, updated_at)
    VALUES (${userId}::int8, ${sql.array(cuisines, 'text')}, ${priceRange}, now())
    ON CONFLICT (user_id) DO UPDATE SET favorite_cuisines = excluded.favorite_cuisines,
      price_preference = excluded.price_preference, preference_embedding = NULL, updated_at = now()
    RETURNING user_id`);
}
