/**
 * src/db/statement-shapes.ts: a statement built once per shape and reused binds the same text and
 * values as one built from scratch with the call's values (checked against the real queries too).
 */
import { describe, expect, it } from 'vitest';
import type { Db } from '../src/db/pool.ts';
import { selectOrderPagesByUserIds } from '../src/db/queries/orders.ts';
import { selectRestaurantPage } from '../src/db/queries/restaurants.ts';
import { sql } from '../src/db/sql.ts';
import { statementShapes } from '../src/db/statement-shapes.ts';

type Token = { sql: string; values: readonly unknown[] };

/** A Db whose `any` hands back the statement it was given instead of running it. */
const capture = { any: async (q: Token) => q } as unknown as Db;
const statementOf = (p: Promise<unknown>) => p as unknown as Promise<Token>;

describe('statementShapes', () => {
  it('builds a shape once and fills in each call’s values, in the order the text binds them', () => {
    let builds = 0;
    const shapes = statementShapes(10, (table: string, [a, b]) => {
      builds++;
      // b before a: the positions follow the text, not the argument order
      return sql.unsafe`SELECT * FROM ${sql.identifier([table])} WHERE y = ${b!} AND x = ${a!}`;
    });
    const one = shapes('t', 't', [1, 'two']);
    const two = shapes('t', 't', [3, 'four']);
    expect(builds).toBe(1);
    expect(one.values).toEqual(['two', 1]);
    expect(two.values).toEqual(['four', 3]);
    expect(two.sql).toBe(one.sql);
    expect(one.sql).toBe('SELECT * FROM "t" WHERE y = $slonik_1 AND x = $slonik_2');
  });

  it('refuses a shape that binds a value of its own (it would be reused for every call)', () => {
    const shapes = statementShapes(10, (_: null, [a]) => sql.unsafe`SELECT ${a!}, ${'fixed'}`);
    expect(() => shapes('k', null, [1])).toThrow(/not one of its markers/);
  });

  it('keeps at most maxShapes shapes, and is still right past them', () => {
    let builds = 0;
    const shapes = statementShapes(1, (n: number, [a]) => {
      builds++;
      return sql.unsafe`SELECT ${a!}::int + ${sql.literalValue(String(n))}::int`;
    });
    shapes('1', 1, [10]);
    expect(shapes('2', 2, [20]).values).toEqual([20]);
    expect(shapes('2', 2, [30]).values).toEqual([30]);
    shapes('1', 1, [10]);
    expect(builds).toBe(3); // shape 1 kept, shape 2 built each time
  });
});

describe('the statements built from shapes', () => {
  it('a page of restaurants binds this call’s filters, cursor and limit', async () => {
    const page = (cuisine: string, minRating: number, after: readonly (string | number)[], limit: number) =>
      statementOf(
        selectRestaurantPage(capture, {
          filter: { cuisine, minRating },
          order: 'RATING_DESC',
          after,
          limit,
          columns: ['id', 'name'],
        }),
      );
    const first = await page('thai', 4, [4.5, '10'], 21);
    const second = await page('french', 3, [3.5, '20'], 11);
    expect(second.sql).toBe(first.sql);
    expect(first.values).toEqual(['thai', 4, 4.5, '10', 21]);
    expect(second.values).toEqual(['french', 3, 3.5, '20', 11]);
    const unfiltered = await statementOf(
      selectRestaurantPage(capture, { filter: {}, order: 'ID_ASC', after: null, limit: 5, columns: ['id'] }),
    );
    expect(unfiltered.values).toEqual([5]);
    expect(unfiltered.sql).not.toMatch(/WHERE/);
  });

  it('a page of one user’s orders binds this call’s user, cursor and limit', async () => {
    const page = (userId: string, after: { orderDate: string; id: string } | null, limit: number) =>
      statementOf(selectOrderPagesByUserIds(capture, [{ userId, after, limit }], ['id', 'order_date', 'user_id']));
    const first = await page('1', null, 51);
    const second = await page('2', { orderDate: '2026-01-01T00:00:00.000Z', id: '7' }, 11);
    expect(second.sql).toBe(first.sql);
    expect(first.values).toEqual(['1', 'infinity', '9223372036854775807', 51]);
    expect(second.values).toEqual(['2', '2026-01-01T00:00:00.000Z', '7', 11]);
  });
});
