import type { TestDatabase } from './db.ts';

const CUISINES = ['italian', 'japanese', 'brazilian', 'mexican', 'chinese', 'indian'];

/** Inserts `n` restaurants with deterministic names and ratings (with ties); returns their ids in insert order. */
export async function insertRestaurants(db: TestDatabase, n: number, prefix = 'R'): Promise<string[]> {
  const rows = await db.sql<{ id: string }>(
    `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location, embedding)
     SELECT $1 || lpad(i::text, 4, '0'),
            ($2::text[])[1 + i % array_length($2::text[], 1)],
            'A long description of dish ' || i || ' ' || repeat('x', 200),
            round((2.5 + (i * 7 % 26) / 10.0)::numeric, 1),
            (ARRAY['low','medium','high'])[1 + i % 3],
            'Street ' || i,
            NULL
     FROM generate_series(1, $3::int) AS i
     RETURNING id`,
    [prefix, CUISINES, n],
  );
  return rows.map((r) => String(r.id));
}

export async function insertUser(db: TestDatabase, email: string, name = email.split('@')[0]): Promise<string> {
  const [row] = await db.sql<{ id: string }>(
    `INSERT INTO users (email, name, password_hash) VALUES ($1, $2, 'x') RETURNING id`,
    [email, name],
  );
  return String(row!.id);
}

/** Inserts `n` orders for a user across the given restaurants, one day apart, newest last. */
export async function insertOrders(db: TestDatabase, userId: string, restaurantIds: string[], n: number) {
  await db.sql(
    `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items, rating)
     SELECT $1::int8, ($2::int8[])[1 + i % array_length($2::int8[], 1)],
            timestamptz '2026-01-01T12:00:00Z' + i * interval '1 day',
            10 + i, jsonb_build_array(jsonb_build_object('name', 'Dish ' || i, 'quantity', 1, 'price', 10 + i)),
            CASE WHEN i % 2 = 0 THEN 1 + i % 5 END
     FROM generate_series(1, $3::int) AS i`,
    [userId, restaurantIds, n],
  );
}
