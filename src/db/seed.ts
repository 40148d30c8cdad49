/**
 * Deterministic synthetic data: restaurants, users (the first is the demo user) and orders.
 * The vocabulary, the row generators and the writer are in src/db/seed/; the PRNG in src/random.ts.
 *
 * Same options → same rows (but for the other users' unknowable password hash, drawn per run):
 * every value comes from a seeded PRNG (one stream per table, so
 * the batch size never changes the data) and dates count back from a fixed reference date.
 * Rows are generated, written and dropped one batch at a time (one transaction each), so
 * memory holds one batch plus a few bytes per restaurant and user, never a whole table.
 */
import { createRng } from '../random.ts';
import {
  demoPasswordHash,
  generateOrder,
  generateRestaurant,
  generateUser,
  type RestaurantTraits,
  unknowablePasswordHash,
  userEmail,
} from './seed/generate.ts';
import { openSeedWriter } from './seed/write.ts';

export type SeedOptions = {
  restaurants: number;
  users: number;
  orders: number;
  batchSize: number;
  seed: number;
  onProgress?: (p: { table: string; done: number; total: number }) => void;
  /**
   * Default true: the demo user (DEMO_EMAIL) signs in with DEMO_PASSWORD. false: it gets an
   * unknowable password like every other seeded user (production).
   */
  demoLogin?: boolean;
  /** Called once per committed restaurant batch with the new rows (the server and `npm run seed` embed them). */
  onRestaurantBatch?: (
    rows: { id: string; name: string; cuisineType: string; description: string; location: string }[],
  ) => Promise<void>;
};

function validate(opts: SeedOptions) {
  for (const key of ['restaurants', 'users', 'orders', 'seed'] as const) {
    if (!Number.isSafeInteger(opts[key]) || opts[key] < 0) throw new Error(`seed: ${key} must be an integer ≥ 0`);
  }
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > 10_000) {
    throw new Error('seed: batchSize must be an integer from 1 to 10000');
  }
  if (opts.orders > 0 && (opts.restaurants === 0 || opts.users === 0)) {
    throw new Error('seed: orders need at least one restaurant and one user');
  }
}

/**
 * Adds deterministic synthetic data to a migrated database through one connection:
 * restaurants, then users (user 1 is DEMO_EMAIL / DEMO_PASSWORD unless `demoLogin` is false; the
 * others have unknowable passwords), then orders, in batches of
 * `batchSize` rows with one transaction per batch, then ANALYZE. Rows are added, never replaced;
 * a user whose email already exists is reused (not modified), so seeding twice does not fail.
 * @returns the rows written per table (users: inserted or reused).
 * @throws Error on invalid options, or when a batch fails (earlier batches stay committed).
 */
export async function seedDatabase(
  databaseUrl: string,
  opts: SeedOptions,
): Promise<{ restaurants: number; users: number; orders: number }> {
  validate(opts);
  const { batchSize, seed } = opts;
  const progress = opts.onProgress ?? (() => {});
  const writer = await openSeedWriter(databaseUrl);
  try {
    const R = opts.restaurants;
    const restaurantIds = new Float64Array(R);
    const traits: RestaurantTraits = {
      cuisine: new Uint8Array(R),
      priceRange: new Uint8Array(R),
      rating10: new Uint8Array(R),
    };
    const rr = createRng(seed, 'restaurants');
    for (let start = 0; start < R; start += batchSize) {
      const n = Math.min(batchSize, R - start);
      const rows = Array.from({ length: n }, (_, k) => generateRestaurant(rr, start + k, traits));
      const ids = await writer.restaurants(rows);
      ids.forEach((id, k) => {
        restaurantIds[start + k] = Number(id);
      });
      if (opts.onRestaurantBatch) {
        await opts.onRestaurantBatch(
          ids.map((id, k) => ({
            id,
            name: rows[k]!.name,
            cuisineType: rows[k]!.cuisineType,
            description: rows[k]!.description,
            location: rows[k]!.location,
          })),
        );
      }
      progress({ table: 'restaurants', done: start + n, total: R });
    }

    const U = opts.users;
    const userIds = new Float64Array(U);
    const otherHash = U > 1 || (U > 0 && opts.demoLogin === false) ? await unknowablePasswordHash() : '';
    const demoHash = U > 0 && opts.demoLogin !== false ? await demoPasswordHash(seed) : otherHash;
    const ur = createRng(seed, 'users');
    for (let start = 0; start < U; start += batchSize) {
      const n = Math.min(batchSize, U - start);
      const rows = Array.from({ length: n }, (_, k) => {
        const i = start + k;
        return { ...generateUser(ur, i), passwordHash: i === 0 ? demoHash : otherHash };
      });
      const byEmail = await writer.users(rows);
      for (let i = start; i < start + n; i++) userIds[i] = byEmail.get(userEmail(i))!;
      progress({ table: 'users', done: start + n, total: U });
    }

    const O = opts.orders;
    const or = createRng(seed, 'orders');
    for (let start = 0; start < O; start += batchSize) {
      const n = Math.min(batchSize, O - start);
      const rows = Array.from({ length: n }, (_, k) => {
        const { user, restaurant, ...order } = generateOrder(or, seed, start + k, U, traits);
        return { ...order, userId: userIds[user]!, restaurantId: restaurantIds[restaurant]! };
      });
      await writer.orders(rows);
      progress({ table: 'orders', done: start + n, total: O });
    }

    await writer.analyze();
    return { restaurants: R, users: U, orders: O };
  } finally {
    await writer.close();
  }
}
