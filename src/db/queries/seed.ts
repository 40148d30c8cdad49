/**
 * SQL for the synthetic-data seed (src/db/seed.ts, its writer src/db/seed/write.ts). Plain strings for `pg`, not slonik:
 * the seed writes through one `pg.Client` of its own. Each batch is ONE statement per table:
 * column arrays as parameters, turned back into rows by `unnest` (COPY would need another package).
 */

/** One batch of restaurants; returns the new ids (identity values follow the array order). */
export const INSERT_RESTAURANTS = `/* seedInsertRestaurants */
  INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location, created_at, updated_at)
  SELECT r.name, r.cuisine_type, r.description, r.rating, r.price_range, r.location, r.created_at, r.created_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::timestamptz[])
    AS r (name, cuisine_type, description, rating, price_range, location, created_at)
  RETURNING id`;

/**
 * One batch of users with their password hashes. An email that already exists is
 * reused, not duplicated or modified (the no-op update only makes RETURNING give its id), so a
 * second seed into the same database adds restaurants and orders instead of failing.
 */
export const UPSERT_USERS = `/* seedUpsertUsers */
  INSERT INTO users (email, name, password_hash, created_at, updated_at)
  SELECT u.email, u.name, u.password_hash, u.created_at, u.created_at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS u (email, name, password_hash, created_at)
  ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
  RETURNING id, email`;

/** One batch of orders; `created_at` is the order date (the order was placed then). */
export const INSERT_ORDERS = `/* seedInsertOrders */
  INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items, rating, is_simulation, created_at)
  SELECT o.user_id, o.restaurant_id, o.order_date, o.total_amount, o.items, o.rating, false, o.order_date
  FROM unnest($1::int8[], $2::int8[], $3::timestamptz[], $4::numeric[], $5::jsonb[], $6::int2[])
    AS o (user_id, restaurant_id, order_date, total_amount, items, rating)`;

/** Fresh planner statistics after a bulk load, so the keyset indexes are chosen at once. */
export const ANALYZE_SEEDED = `/* seedAnalyze */ ANALYZE restaurants, users, orders`;
