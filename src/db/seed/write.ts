/**
 * The seed's writer: one `pg` connection, one transaction per batch (a failed batch leaves
 * nothing behind; earlier batches stay committed), columns sent as arrays.
 */
import pg from 'pg';
import { ANALYZE_SEEDED, INSERT_ORDERS, INSERT_RESTAURANTS, UPSERT_USERS } from '../queries/seed.ts';
import type { RestaurantDraft } from './generate.ts';

export type SeedWriter = {
  /** @returns the new ids in row order. */
  restaurants(rows: readonly RestaurantDraft[]): Promise<string[]>;
  /** Inserts users or reuses those whose email exists. @returns id by email. */
  users(
    rows: readonly { email: string; name: string; passwordHash: string; createdAt: string }[],
  ): Promise<Map<string, number>>;
  orders(
    rows: readonly {
      userId: number;
      restaurantId: number;
      orderDate: string;
      totalAmount: string;
      items: string;
      rating: number | null;
    }[],
  ): Promise<void>;
  analyze(): Promise<void>;
  close(): Promise<void>;
};

export async function openSeedWriter(databaseUrl: string): Promise<SeedWriter> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tastematch-seed' });
  await client.connect();
  // A connection that breaks between statements fails the next one; without a listener its
  // 'error' event would end the process instead.
  client.on('error', () => {});

  /** Runs `fn` in its own transaction: a failed batch leaves nothing behind. */
  const transaction = async <T>(fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  return {
    async restaurants(rows) {
      const { rows: inserted } = await transaction(() =>
        client.query<{ id: string }>(INSERT_RESTAURANTS, [
          rows.map((r) => r.name),
          rows.map((r) => r.cuisineType),
          rows.map((r) => r.description),
          rows.map((r) => r.rating),
          rows.map((r) => r.priceRange),
          rows.map((r) => r.location),
          rows.map((r) => r.createdAt),
        ]),
      );
      // Identity values are drawn in row order; sorting makes index → id independent of RETURNING order.
      return inserted.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
    },

    async users(rows) {
      const { rows: upserted } = await transaction(() =>
        client.query<{ id: string; email: string }>(UPSERT_USERS, [
          rows.map((r) => r.email),
          rows.map((r) => r.name),
          rows.map((r) => r.passwordHash),
          rows.map((r) => r.createdAt),
        ]),
      );
      // By email: reused users keep their old ids, so row order says nothing.
      return new Map(upserted.map((r) => [r.email, Number(r.id)]));
    },

    async orders(rows) {
      await transaction(() =>
        client.query(INSERT_ORDERS, [
          rows.map((o) => o.userId),
          rows.map((o) => o.restaurantId),
          rows.map((o) => o.orderDate),
          rows.map((o) => o.totalAmount),
          rows.map((o) => o.items),
          rows.map((o) => o.rating),
        ]),
      );
    },

    async analyze() {
      await client.query(ANALYZE_SEEDED);
    },

    close: () => client.end(),
  };
}
