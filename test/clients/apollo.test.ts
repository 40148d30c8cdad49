/**
 * A real Apollo Client 4 (core, no React: HttpLink, PersistedQueryLink, InMemoryCache) against a
 * real production gateway in PERSISTED_OPERATIONS=only, with the operation files of clients/ as the
 * app ships them: sign in, the feed, my orders, rate an order. Ids come from the manifest
 * (generatePersistedQueryIdsFromManifest), from the document at run time
 * (generatePersistedQueryIdsAtRuntime) or from the link's own sha256; all three must be the
 * manifest's, since `only` refuses anything else. Asserted: the manifest verification link
 * reports nothing, no request carries a document, the cache normalises `Restaurant:`/`Order:`
 * entities, and after RateOrder the cached MyOrders shows the new rating with no refetch. An app
 * build from before the bodies carried `__typename` still gets answers by its (retired) ids.
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import {
  createPersistedQueryManifestVerificationLink,
  generatePersistedQueryIdsAtRuntime,
  generatePersistedQueryIdsFromManifest,
} from '@apollo/persisted-query-lists';
import { type DocumentNode, print } from 'graphql';
import { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  LoginMutation,
  MyOrdersQuery,
  RateOrderMutation,
  RestaurantFeedQuery,
} from '../../clients/generated/operations.ts';
import {
  doc,
  documents,
  idOf,
  manifest,
  ORDERS,
  PASSWORD,
  RESTAURANTS,
  recordingFetch,
  retired,
  type Sent,
  type Served,
  servedOnly,
  sha256,
} from './fixture.ts';

const EMAIL = 'apollo@example.com';
let served: Served;
let base: string;

beforeAll(async () => {
  served = await servedOnly(EMAIL);
  base = served.gateway.base;
});
afterAll(() => served?.close());

type Ids = 'manifest' | 'runtime' | 'sha256';

/** An app's client: the verification link first (as Apollo recommends, in development builds), the token, persisted ids. */
function appClient(ids: Ids) {
  const failures: unknown[] = [];
  const sent: Sent[] = [];
  let token: string | undefined;
  const verify = createPersistedQueryManifestVerificationLink({
    loadManifest: () => manifest,
    onVerificationFailed: (details) => failures.push({ reason: details.reason, name: details.operation.operationName }),
  });
  const auth = new ApolloLink((operation, forward) => {
    if (token) operation.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
    return forward(operation);
  });
  const hashing =
    ids === 'manifest'
      ? generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest })
      : ids === 'runtime'
        ? generatePersistedQueryIdsAtRuntime({ sha256 })
        : { sha256 };
  const persisted = new PersistedQueryLink({ ...hashing, useGETForHashedQueries: true });
  const http = new HttpLink({ uri: `${base}/graphql`, fetch: recordingFetch(sent) });
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    // The package's typings name Apollo's CommonJS build; the link is the same class at run time.
    link: ApolloLink.from([verify as unknown as ApolloLink, auth, persisted, http]),
  });
  const signIn = (t: string) => {
    token = t;
  };
  return { client, failures, sent, signIn };
}

describe.each<Ids>(['manifest', 'runtime', 'sha256'])(
  'Apollo Client 4 with %s ids, PERSISTED_OPERATIONS=only',
  (ids) => {
    it('signs in, reads the feed and my orders, rates an order: the cached MyOrders shows the new rating', async () => {
      const app = appClient(ids);
      const { client } = app;

      const login = await client.mutate<LoginMutation>({
        mutation: doc('Login'),
        variables: { input: { email: EMAIL, password: PASSWORD } },
      });
      expect(login.error).toBeUndefined();
      expect(login.data?.login.user.email).toBe(EMAIL);
      app.signIn(login.data!.login.token);

      const feed = await client.query<RestaurantFeedQuery>({ query: doc('RestaurantFeed') });
      expect(feed.data?.restaurants.edges).toHaveLength(RESTAURANTS);

      const mine = await client.query<MyOrdersQuery>({ query: doc('MyOrders') });
      const orders = mine.data!.me!.orders.edges.map((e) => e.node);
      expect(orders).toHaveLength(ORDERS);
      const order = orders[0]!;
      const rating = order.rating === 5 ? 4 : 5;

      // Normalised: entities by __typename and id, the user's orders pointing at them.
      const cache = client.extract() as Record<string, { __typename?: string; rating?: number | null }>;
      const keys = Object.keys(cache);
      expect(keys.filter((k) => k.startsWith('Restaurant:')).length).toBe(RESTAURANTS);
      expect(keys.filter((k) => k.startsWith('Order:'))).toHaveLength(ORDERS);
      expect(keys.filter((k) => k.startsWith('User:'))).toHaveLength(1);
      expect(cache[`Order:${order.id}`]).toMatchObject({ __typename: 'Order', rating: order.rating });

      const rated = await client.mutate<RateOrderMutation>({
        mutation: doc('RateOrder'),
        variables: { id: order.id, rating },
      });
      expect(rated.error).toBeUndefined();
      expect(rated.data?.rateOrder).toEqual({ __typename: 'Order', id: order.id, rating });

      // No refetch: the list in the cache reads the normalised Order the mutation updated.
      const requestsBefore = app.sent.length;
      const cached = await client.query<MyOrdersQuery>({ query: doc('MyOrders'), fetchPolicy: 'cache-only' });
      expect(cached.data!.me!.orders.edges.find((e) => e.node.id === order.id)?.node.rating).toBe(rating);
      expect(client.readQuery<MyOrdersQuery>({ query: doc('MyOrders') })?.me?.orders.edges[0]?.node.rating).toBe(
        rating,
      );
      expect(app.sent.length).toBe(requestsBefore);

      // What the server has now, read back by the same id.
      const fresh = await client.query<MyOrdersQuery>({ query: doc('MyOrders'), fetchPolicy: 'network-only' });
      expect(fresh.data!.me!.orders.edges.find((e) => e.node.id === order.id)?.node.rating).toBe(rating);

      expect(app.failures).toEqual([]);
      // Every request by a manifest id alone, answered 200; queries by GET (CDN-cacheable), mutations by POST.
      expect(app.sent.map((s) => [s.operationName, s.method, s.status, s.query])).toEqual([
        ['Login', 'POST', 200, false],
        ['RestaurantFeed', 'GET', 200, false],
        ['MyOrders', 'GET', 200, false],
        ['RateOrder', 'POST', 200, false],
        ['MyOrders', 'GET', 200, false],
      ]);
      for (const s of app.sent) expect(s.hash, s.operationName!).toBe(idOf.get(s.operationName!));
    });
  },
);

describe('ids Apollo computes at run time', () => {
  it('equal the manifest id of every operation of both clients, for the document the client sends', async () => {
    // The document each operation reaches the link chain as (after the client's transforms); no server.
    const seen = new Map<string, DocumentNode>();
    const capture = new ApolloLink(
      (operation) =>
        new Observable((observer) => {
          seen.set(operation.operationName!, operation.query);
          observer.error(new Error('captured'));
        }),
    );
    const client = new ApolloClient({ cache: new InMemoryCache(), link: capture });
    for (const op of manifest.operations) {
      const run =
        op.type === 'mutation' ? client.mutate({ mutation: doc(op.name) }) : client.query({ query: doc(op.name) });
      await expect(run, op.name).rejects.toThrow('captured');
    }
    expect(seen.size).toBe(documents.size);
    const runtime = generatePersistedQueryIdsAtRuntime({ sha256 });
    for (const [name, query] of seen) {
      expect(await runtime.generateHash(query), name).toBe(idOf.get(name));
      // PersistedQueryLink's own default (`sha256: …`) hashes print(query) unsorted: the same here.
      expect(sha256(print(query)), name).toBe(idOf.get(name));
    }
  });
});

describe('an app build from before the manifest bodies carried __typename', () => {
  const oldId = (name: string) => retired.operations.find((o) => o.name === name)!.id;
  const byId = async (id: string, variables: Record<string, unknown>, token?: string) => {
    const r = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } }),
    });
    return { status: r.status, body: (await r.json()) as { data?: Record<string, never>; errors?: unknown[] } };
  };

  it('still signs in and reads its orders by the ids it shipped with (served from the retired file)', async () => {
    expect(oldId('Login')).not.toBe(idOf.get('Login'));
    const login = await byId(oldId('Login'), { input: { email: EMAIL, password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.body.errors).toBeUndefined();
    const { token, user } = (login.body.data as unknown as LoginMutation).login;
    expect(user).toEqual({ id: expect.any(String), name: 'Client', email: EMAIL });
    const mine = await byId(oldId('MyOrders'), {}, token);
    expect(mine.status).toBe(200);
    const orders = (mine.body.data as unknown as MyOrdersQuery).me!.orders.edges;
    expect(orders).toHaveLength(ORDERS);
    // The old body, as written: no __typename anywhere in the answer.
    expect(JSON.stringify(mine.body)).not.toContain('__typename');
  });
});
