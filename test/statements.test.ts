/**
 * Statements per request, counted at the wire (every Query/Execute message), and
 * projection: what each level reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

let t: TestApp;
let restaurantIds: string[];

beforeAll(async () => {
  t = await createTestApp();
  restaurantIds = await insertRestaurants(t.db, 120);
});
afterAll(() => t?.close());

describe('restaurants(first: 50)', () => {
  it('runs one statement, two with totalCount', async () => {
    const query = `{ restaurants(first: 50) { edges { cursor node { id name cuisineType rating } } pageInfo { hasNextPage endCursor } } }`;
    t.wire.reset();
    const r = await t.gql<{ restaurants: { edges: unknown[] } }>(query);
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.restaurants.edges).toHaveLength(50);
    expect(t.wire.statements).toHaveLength(1);

    t.wire.reset();
    const withCount = await t.gql<{ restaurants: { totalCount: number } }>(
      `{ restaurants(first: 50) { totalCount edges { node { name } } } }`,
    );
    expect(withCount.body.data?.restaurants.totalCount).toBe(120);
    expect(t.wire.statements).toHaveLength(2);
  });

  it('totalCount alone reads no page', async () => {
    t.wire.reset();
    const r = await t.gql<{ restaurants: { totalCount: number } }>(
      `{ restaurants(cuisine: "italian") { totalCount } }`,
    );
    expect(r.body.data?.restaurants.totalCount).toBe(20);
    expect(t.wire.statements).toHaveLength(1);
    expect(t.wire.statements[0]!.sql).toContain('count(*)');
  });

  it('reads only the selected columns: name only reads neither description nor embedding', async () => {
    t.wire.reset();
    await t.gql(`{ restaurants(first: 50, orderBy: ID_ASC) { edges { node { name } } } }`);
    const [statement] = t.wire.statements;
    expect(statement!.sql).toMatch(/SELECT "id", "name" FROM restaurants/);
    expect(statement!.sql).not.toContain('description');
    expect(statement!.sql).not.toContain('embedding');
  });

  it('reads description only when asked, through fragments too', async () => {
    t.wire.reset();
    await t.gql(`
      query { restaurants(first: 5) { edges { node { ...Card } } } }
      fragment Card on Restaurant { name ... on Restaurant { description } }`);
    expect(t.wire.statements[0]!.sql).toContain('"description"');
  });

  it('projects per request: @include(if: $var) reads description only when the variable says so', async () => {
    const query = `query($d: Boolean!) { me { orders(first: 3) { edges { node { restaurant { name description @include(if: $d) } } } } } }`;
    const userId = await insertUser(t.db, 'include@example.com');
    await insertOrders(t.db, userId, restaurantIds, 3);
    const token = await t.tokenFor(userId);
    t.wire.reset();
    await t.gql(query, { d: false }, { token });
    expect(t.wire.statements.at(-1)!.sql).not.toContain('description');
    t.wire.reset();
    const r = await t.gql<{ me: { orders: { edges: { node: { restaurant: { description: string } } }[] } } }>(
      query,
      { d: true },
      { token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(t.wire.statements.at(-1)!.sql).toContain('"description"');
    expect(r.body.data?.me.orders.edges[0]?.node.restaurant.description).toContain('A long description');
  });

  it('returns fewer row bytes for fewer columns', async () => {
    t.wire.reset();
    await t.gql(`{ restaurants(first: 50) { edges { node { id name cuisineType rating } } } }`);
    const narrow = t.wire.rowBytes;
    t.wire.reset();
    await t.gql(`{ restaurants(first: 50) { edges { node { id name cuisineType rating description } } } }`);
    expect(t.wire.rows).toBe(51);
    expect(narrow).toBeLessThan(t.wire.rowBytes / 4);
    // Q1 of the benchmark: under 100 bytes of row data per restaurant.
    expect(narrow / 51).toBeLessThan(100);
  });
});

describe('a user and their orders with restaurants', () => {
  async function ordersQueryFor(orderCount: number) {
    const userId = await insertUser(t.db, `u${orderCount}@example.com`);
    await insertOrders(t.db, userId, restaurantIds, orderCount);
    const token = await t.tokenFor(userId);
    t.wire.reset();
    const r = await t.gql<{ me: { orders: { edges: { node: { restaurant: { name: string } } }[] } } }>(
      `{ me { name orders(first: 50) { edges { node { id totalAmount items { name } restaurant { name cuisineType } } } } } }`,
      {},
      { token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.orders.edges).toHaveLength(Math.min(orderCount, 50));
    expect(r.body.data?.me.orders.edges[0]?.node.restaurant.name).toMatch(/^R\d{4}$/);
    return t.wire.statements.map((s) => s.sql);
  }

  it('runs two statements, the same for 5 and 50 orders: the user, and the page with its restaurants joined', async () => {
    const five = await ordersQueryFor(5);
    const fifty = await ordersQueryFor(50);
    expect(five).toHaveLength(2);
    expect(fifty).toHaveLength(2);
    expect(fifty[0]).toContain('usersByIds');
    expect(fifty[1]).toContain('orderPagesByUserIds');
    expect(fifty[1]).toContain('LEFT JOIN restaurants r ON r.id = o.restaurant_id');
    expect(fifty[1]).toContain('"r"."name" AS "restaurant__name"');
    expect(fifty[1]).not.toContain('description');
  });

  it("restaurant { id } alone: no join and no statement of its own (the id is the order's restaurant_id)", async () => {
    const userId = await insertUser(t.db, 'ids-only@example.com');
    await insertOrders(t.db, userId, restaurantIds, 4);
    const token = await t.tokenFor(userId);
    t.wire.reset();
    const r = await t.gql<{ me: { orders: { edges: { node: { restaurant: { id: string } } }[] } } }>(
      '{ me { orders(first: 10) { edges { node { restaurant { id } } } } } }',
      {},
      { token },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.me.orders.edges).toHaveLength(4);
    for (const e of r.body.data!.me.orders.edges) {
      expect(restaurantIds).toContain(Buffer.from(e.node.restaurant.id, 'base64').toString().split(':')[1]);
    }
    // One statement: the page; `me` asks nothing of the user's row but its id, the token's.
    const sqls = t.wire.statements.map((s) => s.sql);
    expect(sqls).toHaveLength(1);
    expect(sqls[0]).toContain('orderPagesByUserIds');
    expect(sqls[0]).not.toContain('JOIN restaurants');
  });

  it("me without its row's columns reads no user row; a deleted account's token then sees no orders, and me is null once a column is asked", async () => {
    const userId = await insertUser(t.db, 'gone-reader@example.com');
    await insertOrders(t.db, userId, restaurantIds, 3);
    const token = await t.tokenFor(userId);
    const orders = '{ me { id orders(first: 5) { edges { node { id } } } } }';
    t.wire.reset();
    const before = await t.gql<{ me: { id: string; orders: { edges: unknown[] } } }>(orders, {}, { token });
    expect(before.body.data?.me.orders.edges).toHaveLength(3);
    expect(Buffer.from(before.body.data!.me.id, 'base64').toString()).toBe(`User:${userId}`);
    expect(t.wire.statements.map((s) => s.sql).join('\n')).not.toContain('usersByIds');

    await t.db.sql('DELETE FROM users WHERE id = $1', [userId]);
    const after = await t.gql<{ me: { orders: { edges: unknown[] } } }>(orders, {}, { token });
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data?.me.orders.edges).toEqual([]);
    const named = await t.gql<{ me: null }>('{ me { name } }', {}, { token });
    expect(named.body.errors).toBeUndefined();
    expect(named.body.data?.me).toBeNull();
  });

  it("the seeds' N+1 case through the real API: orders placed with createOrder, at most 3 statements for 5 or 50", async () => {
    const query = `{ me { orders(first: 50) { edges { node { restaurant { name cuisineType } } } } } }`;
    const counts: number[] = [];
    for (const orders of [5, 50]) {
      const reg = await t.gql<{ register: { token: string } }>(
        `mutation($e: String!) { register(input: {email: $e, name: "N", password: "password1"}) { token } }`,
        { e: `api${orders}@example.com` },
      );
      const token = reg.body.data!.register.token;
      for (let i = 0; i < orders; i++) {
        const created = await t.gql(
          `mutation($r: ID!) { createOrder(input: {restaurantId: $r, items: [{name: "Dish", quantity: 1, price: 9.5}]}) { id } }`,
          { r: Buffer.from(`Restaurant:${restaurantIds[i % restaurantIds.length]}`).toString('base64') },
          { token },
        );
        expect(created.body.errors).toBeUndefined();
      }
      t.wire.reset();
      const r = await t.gql<{ me: { orders: { edges: { node: { restaurant: { name: string } } }[] } } }>(
        query,
        {},
        { token },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.me.orders.edges).toHaveLength(orders);
      const sqls = t.wire.statements.map((s) => s.sql);
      for (const sql of sqls) {
        expect(sql).not.toContain('description');
        expect(sql).not.toContain('embedding');
      }
      counts.push(sqls.length);
    }
    expect(counts[0]).toBe(counts[1]);
    expect(counts[0]).toBeLessThanOrEqual(3);
  });
});
