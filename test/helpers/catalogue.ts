import type { TestDatabase } from './db.ts';

/** Dish words per cuisine: what makes restaurants of a cuisine close to each other in embedding space. */
export const DISHES: Record<string, string[]> = {
  japanese: ['sushi', 'sashimi', 'ramen', 'tempura', 'miso soup', 'udon', 'teriyaki', 'gyoza'],
  italian: ['pizza', 'pasta', 'risotto', 'lasagna', 'gnocchi', 'tiramisu', 'espresso', 'mozzarella'],
  mexican: ['tacos', 'burritos', 'enchiladas', 'guacamole', 'salsa', 'quesadillas', 'nachos', 'tortillas'],
  indian: ['curry', 'tandoori chicken', 'naan', 'biryani', 'masala', 'samosa', 'dal', 'paneer'],
  chinese: ['dumplings', 'noodles', 'fried rice', 'kung pao chicken', 'dim sum', 'wonton soup', 'peking duck', 'tofu'],
  brazilian: ['feijoada', 'picanha', 'churrasco', 'coxinha', 'farofa', 'moqueca', 'brigadeiro', 'acai'],
};

export type Catalogue = { byCuisine: Record<string, string[]>; ratingOf: Map<string, number> };

/**
 * `perCuisine` restaurants per cuisine with descriptive text; ratings 3.2–4.9, except
 * every 5th restaurant at 2.5 (below the recommendation floor of 3.0).
 */
export async function insertCatalogue(db: TestDatabase, perCuisine = 10): Promise<Catalogue> {
  const byCuisine: Record<string, string[]> = {};
  const ratingOf = new Map<string, number>();
  for (const [cuisine, dishes] of Object.entries(DISHES)) {
    byCuisine[cuisine] = [];
    for (let i = 0; i < perCuisine; i++) {
      const a = dishes[i % dishes.length]!;
      const b = dishes[(i + 3) % dishes.length]!;
      const rating = i % 5 === 4 ? 2.5 : Math.round((3.2 + ((i * 7) % 18) / 10) * 10) / 10;
      const [row] = await db.sql<{ id: string }>(
        `INSERT INTO restaurants (name, cuisine_type, description, rating, price_range, location)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
        [
          `${cuisine.slice(0, 3).toUpperCase()} House ${i + 1}`,
          cuisine,
          `Authentic ${cuisine} kitchen serving ${a} and ${b}, plus the best ${a} in town.`,
          rating,
          ['low', 'medium', 'high'][i % 3],
          `Street ${i + 1}`,
        ],
      );
      byCuisine[cuisine]!.push(String(row!.id));
      ratingOf.set(String(row!.id), rating);
    }
  }
  return { byCuisine, ratingOf };
}

export const restaurantGid = (id: string) => Buffer.from(`Restaurant:${id}`).toString('base64');
export const idOfGid = (gid: string) => Buffer.from(gid, 'base64').toString().split(':')[1]!;

/** `n` orders for the user at the given restaurants (round robin), `daysAgo` days ago, newest first in id order. */
export async function insertOrdersAt(
  db: TestDatabase,
  userId: string,
  restaurantIds: readonly string[],
  n: number,
  opts: { daysAgo?: number; rating?: number | null } = {},
) {
  await db.sql(
    `INSERT INTO orders (user_id, restaurant_id, order_date, total_amount, items, rating)
     SELECT $1::int8, ($2::int8[])[1 + (i - 1) % array_length($2::int8[], 1)],
            now() - make_interval(days => $4::int) - i * interval '1 minute', 20,
            '[{"name":"Dish","quantity":1,"price":20}]'::jsonb, $5::smallint
     FROM generate_series(1, $3::int) AS i`,
    [userId, restaurantIds, n, opts.daysAgo ?? 1, opts.rating ?? 5],
  );
}
