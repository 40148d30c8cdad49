/**
 * Semantic search, similar restaurants and recommendations through the API, on the
 * offline encoder and the in-process index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { type Catalogue, idOfGid, insertCatalogue, insertOrdersAt, restaurantGid } from './helpers/catalogue.ts';
import { insertUser } from './helpers/fixtures.ts';

let t: TestApp;
let cat: Catalogue;
const cuisineOf = new Map<string, string>();

beforeAll(async () => {
  t = await createTestApp();
  cat = await insertCatalogue(t.db, 10);
  for (const [cuisine, ids] of Object.entries(cat.byCuisine)) for (const id of ids) cuisineOf.set(id, cuisine);
  expect(await t.embedAll()).toBe(60);
});
afterAll(() => t?.close());

type Rec = { restaurant: { id: string; cuisineType: string; rating: number }; score: number; insight: string };
const RECS = `query($first: Int, $refresh: Boolean) { recommendations(first: $first, refresh: $refresh) {
  score insight generatedAt restaurant { id cuisineType rating } } }`;

async function newUser(email: string) {
  const id = await insertUser(t.db, email);
  return { id, token: await t.tokenFor(id) };
}

describe('embeddings', () => {
  it('stores a 384-dimension unit vector and the model id for every restaurant', async () => {
    const rows = await t.db.sql<{ n: number; model: string; dims: number; norm: number }>(
      `SELECT count(*)::int AS n, min(embedding_model) AS model, min(array_length(embedding, 1)) AS dims,
              min((SELECT sqrt(sum(x * x)) FROM unnest(embedding) x))::float8 AS norm
       FROM restaurants WHERE embedding IS NOT NULL`,
    );
    expect(rows[0]).toMatchObject({ n: 60, model: 'tastematch-offline-v1', dims: 384 });
    expect(rows[0]!.norm).toBeCloseTo(1, 4);
    expect(await t.embedAll()).toBe(0); // nothing left to do
  });
});

describe('searchRestaurants', () => {
  it.each([
    ['fresh sushi and sashimi', 'japanese'],
    ['wood-fired pizza and homemade pasta', 'italian'],
    ['spicy tacos with guacamole', 'mexican'],
    ['chicken curry with naan bread', 'indian'],
  ])('"%s" finds %s restaurants first', async (text, cuisine) => {
    const r = await t.gql<{ searchRestaurants: { score: number; restaurant: { cuisineType: string } }[] }>(
      `query($text: String!) { searchRestaurants(text: $text, first: 5) { score restaurant { cuisineType } } }`,
      { text },
    );
    expect(r.body.errors).toBeUndefined();
    const matches = r.body.data!.searchRestaurants;
    expect(matches).toHaveLength(5);
    expect(matches.filter((m) => m.restaurant.cuisineType === cuisine).length).toBeGreaterThanOrEqual(4);
    const scores = matches.map((m) => m.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('refuses empty or oversized text and out-of-range first with BAD_USER_INPUT', async () => {
    for (const [text, first] of [
      ['  ', 5],
      ['x'.repeat(501), 5],
      ['sushi', -1],
      ['sushi', 51],
    ] as const) {
      const r = await t.gql(
        `query($text: String!, $first: Int) { searchRestaurants(text: $text, first: $first) { score } }`,
        {
          text,
          first,
        },
      );
      expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('Restaurant.similar', () => {
  it('returns restaurants of the same cuisine first, never the restaurant itself', async () => {
    const id = cat.byCuisine.japanese![0]!;
    const r = await t.gql<{ restaurant: { similar: { id: string; cuisineType: string }[] } }>(
      `query($id: ID!) { restaurant(id: $id) { similar(first: 5) { id cuisineType } } }`,
      { id: restaurantGid(id) },
    );
    expect(r.body.errors).toBeUndefined();
    const similar = r.body.data!.restaurant.similar;
    expect(similar).toHaveLength(5);
    expect(similar.map((s) => idOfGid(s.id))).not.toContain(id);
    expect(similar.filter((s) => s.cuisineType === 'japanese').length).toBeGreaterThanOrEqual(4);
  });

  it('costs one vector pass and one statement for 20 parents', async () => {
    const before = t.services.ml.index.stats().scans;
    t.wire.reset();
    const r = await t.gql<{ restaurants: { edges: { node: { similar: { name: string }[] } }[] } }>(
      `{ restaurants(first: 20, orderBy: ID_ASC) { edges { node { name similar(first: 3) { name cuisineType } } } } }`,
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.restaurants.edges).toHaveLength(20);
    for (const e of r.body.data!.restaurants.edges) expect(e.node.similar).toHaveLength(3);
    expect(t.services.ml.index.stats().scans - before).toBe(1);
    // the page, then every similar restaurant's columns at once
    expect(t.wire.statements.map((s) => s.sql.match(/\/\* (\w+) \*\//)?.[1])).toEqual([
      'restaurantPage',
      'restaurantsByIds',
    ]);
    expect(t.wire.statements[1]!.sql).not.toContain('embedding');
  });
});

describe('recommendations', () => {
  it('needs a signed-in user', async () => {
    const r = await t.gql(RECS, { first: 5 });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('cold start: a new user gets top-rated restaurants, scored from the rating', async () => {
    const u = await newUser('cold@example.com');
    const r = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 10 }, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    const recs = r.body.data!.recommendations;
    expect(recs).toHaveLength(10);
    const ratings = recs.map((x) => x.restaurant.rating);
    expect(ratings).toEqual([...ratings].sort((a, b) => b - a));
    expect(Math.min(...ratings)).toBeGreaterThanOrEqual(3);
    for (const rec of recs) expect(rec.score).toBeCloseTo(Math.max(0.5, Math.min(1, rec.restaurant.rating / 5)), 4);
    expect(recs[0]!.insight).toMatch(/best-rated/);
  });

  it('a user who ordered only Japanese gets mostly Japanese, none of their last 10 orders, no duplicates', async () => {
    const u = await newUser('japan@example.com');
    const japanese = cat.byCuisine.japanese!.filter((id) => cat.ratingOf.get(id)! >= 3);
    // 3 restaurants ordered recently: they must not be recommended.
    const recent = japanese.slice(0, 3);
    await insertOrdersAt(t.db, u.id, recent, 10);
    const r = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 10 }, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    const recs = r.body.data!.recommendations;
    const ids = recs.map((x) => idOfGid(x.restaurant.id));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of recent) expect(ids).not.toContain(id);
    const top5 = recs.slice(0, 5).map((x) => x.restaurant.cuisineType);
    expect(top5.filter((c) => c === 'japanese').length).toBeGreaterThanOrEqual(4);
    for (const rec of recs) expect(rec.restaurant.rating).toBeGreaterThanOrEqual(3);
    const scores = recs.map((x) => x.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(recs[0]!.insight).toMatch(/^Japanese like 10 of your 10 orders/);
  });

  it('orders older than a year weigh nothing: the user falls back to top-rated, without an error', async () => {
    const u = await newUser('old@example.com');
    await insertOrdersAt(t.db, u.id, cat.byCuisine.italian!.slice(0, 2), 4, { daysAgo: 400 });
    const r = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 5 }, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.recommendations).toHaveLength(5);
    expect(r.body.data!.recommendations[0]!.insight).toMatch(/best-rated/);
  });

  it('onboarding: chosen cuisines shape the first recommendations', async () => {
    const u = await newUser('onboard@example.com');
    const set = await t.gql(
      `mutation { setTastePreferences(input: {cuisines: ["mexican"]}) { favoriteCuisines } }`,
      {},
      { token: u.token },
    );
    expect(set.body.errors).toBeUndefined();
    const r = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 5 }, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    const cuisines = r.body.data!.recommendations.map((x) => x.restaurant.cuisineType);
    expect(cuisines.filter((c) => c === 'mexican').length).toBeGreaterThanOrEqual(4);
    expect(r.body.data!.recommendations[0]!.insight).toMatch(/one of the cuisines you picked/);
  });

  it('is cached per user; createOrder invalidates it, and refresh recomputes', async () => {
    const u = await newUser('cache@example.com');
    await insertOrdersAt(t.db, u.id, cat.byCuisine.indian!.slice(0, 2), 3);
    const first = await t.gql<{ recommendations: (Rec & { generatedAt: string })[] }>(
      RECS,
      { first: 3 },
      { token: u.token },
    );
    expect(first.body.errors).toBeUndefined();

    t.wire.reset();
    const cached = await t.gql<{ recommendations: (Rec & { generatedAt: string })[] }>(
      RECS,
      { first: 3 },
      { token: u.token },
    );
    expect(cached.body.data).toEqual(first.body.data);
    // From the cache: only the restaurants' columns are read.
    expect(t.wire.statements.map((s) => s.sql.match(/\/\* (\w+) \*\//)?.[1])).toEqual(['restaurantsByIds']);

    const order = await t.gql(
      `mutation($r: ID!) { createOrder(input: {restaurantId: $r, items: [{name: "Curry", quantity: 1, price: 12}]}) { id } }`,
      { r: restaurantGid(cat.byCuisine.indian![2]!) },
      { token: u.token },
    );
    expect(order.body.errors).toBeUndefined();
    t.wire.reset();
    const after = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 3 }, { token: u.token });
    expect(after.body.errors).toBeUndefined();
    expect(t.wire.statements.some((s) => s.sql.includes('/* orderSignals */'))).toBe(true);
    // The new order's restaurant is now among the last orders: never recommended.
    expect(after.body.data!.recommendations.map((x) => idOfGid(x.restaurant.id))).not.toContain(
      cat.byCuisine.indian![2],
    );

    t.wire.reset();
    await t.gql(RECS, { first: 3, refresh: true }, { token: u.token });
    expect(t.wire.statements.some((s) => s.sql.includes('/* orderSignals */'))).toBe(true);
  });

  it('refuses first outside 0–50', async () => {
    const u = await newUser('first@example.com');
    for (const first of [-1, 51]) {
      const r = await t.gql(RECS, { first }, { token: u.token });
      expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('chefChoice', () => {
  const CHEF = `{ chefChoice { score explanation reasoning confidence restaurant { id cuisineType rating } } }`;
  type Chef = {
    chefChoice: {
      score: number;
      explanation: string;
      reasoning: string[];
      confidence: number;
      restaurant: { id: string; cuisineType: string; rating: number };
    } | null;
  };

  it('gives a new user a top-rated pick, never null', async () => {
    const u = await newUser('chef-new@example.com');
    const r = await t.gql<Chef>(CHEF, {}, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    const c = r.body.data!.chefChoice!;
    expect(c).not.toBeNull();
    expect(c.restaurant.rating).toBeGreaterThanOrEqual(4.5);
    expect(c.reasoning[0]).toMatch(/No order history/);
    expect(c.confidence).toBeGreaterThan(0);
    expect(c.confidence).toBeLessThanOrEqual(1);
  });

  it('picks one of the top 3 recommendations for a user with history, with reasons', async () => {
    const u = await newUser('chef-hist@example.com');
    await insertOrdersAt(t.db, u.id, cat.byCuisine.chinese!.slice(0, 3), 6);
    const recs = await t.gql<{ recommendations: Rec[] }>(RECS, { first: 3 }, { token: u.token });
    const top3 = recs.body.data!.recommendations.map((x) => x.restaurant.id);
    const r = await t.gql<Chef>(CHEF, {}, { token: u.token });
    expect(r.body.errors).toBeUndefined();
    const c = r.body.data!.chefChoice!;
    expect(top3).toContain(c.restaurant.id);
    expect(c.explanation).toMatch(/^The chef suggests /);
    expect(c.reasoning.length).toBeGreaterThanOrEqual(3);
    expect(c.score).toBeCloseTo(c.confidence, 4);
  });
});
