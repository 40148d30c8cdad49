/**
 * A real urql client (@urql/core: cacheExchange, persistedExchange with enforcePersistedQueries,
 * fetchExchange) against a real production gateway in PERSISTED_OPERATIONS=only, with the operation
 * files of clients/: sign in, the feed, my orders, rate an order. Ids come from the manifest by
 * operation name, or from the exchange's own sha256 of the document urql sends (which must be the
 * manifest's, since `only` refuses anything else; checked for every operation too). urql's document cache invalidates every cached result that
 * holds a `__typename` the mutation returns, so the watched MyOrders is fetched again and shows the
 * new rating: that works only when the answers carry `__typename`.
 */
import { Client, cacheExchange, fetchExchange, type OperationResult } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { type DocumentNode, Kind } from 'graphql';
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
  type Sent,
  type Served,
  servedOnly,
  sha256,
} from './fixture.ts';

const EMAIL = 'urql@example.com';
let served: Served;

beforeAll(async () => {
  served = await servedOnly(EMAIL);
});
afterAll(() => served?.close());

const nameOf = (document: DocumentNode) => {
  const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
  return op?.kind === Kind.OPERATION_DEFINITION ? op.name?.value : undefined;
};

/** manifest: by operation name; urql: the exchange's own sha256 (WebCrypto); recorded: ours, recording what urql hashes */
type Ids = 'manifest' | 'urql' | 'recorded';

function appClient(ids: Ids, transport: typeof fetch = fetch) {
  const sent: Sent[] = [];
  /** urql's query text for each operation, as handed to generateHash */
  const hashed = new Map<string, string>();
  let token: string | undefined;
  const client = new Client({
    url: `${served.gateway.base}/graphql`,
    fetch: recordingFetch(sent, transport),
    fetchOptions: () => (token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    exchanges: [
      cacheExchange,
      persistedExchange({
        enforcePersistedQueries: true,
        enableForMutation: true,
        preferGetForPersistedQueries: true,
        ...(ids === 'urql'
          ? {}
          : {
              generateHash: async (query: string, document: DocumentNode) => {
                const name = nameOf(document)!;
                hashed.set(name, query);
                return ids === 'manifest' ? (idOf.get(name) ?? null) : sha256(query);
              },
            }),
      }),
      fetchExchange,
    ],
  });
  const signIn = (t: string) => {
    token = t;
  };
  return { client, sent, hashed, signIn };
}

/** Resolves with the first result `accept` takes from a live subscription's results so far or to come. */
function watch<T>(source: { subscribe(cb: (r: OperationResult<T>) => void): { unsubscribe(): void } }) {
  const results: OperationResult<T>[] = [];
  const waiters: { accept: (r: OperationResult<T>) => boolean; resolve: (r: OperationResult<T>) => void }[] = [];
  const subscription = source.subscribe((r) => {
    results.push(r);
    for (const w of [...waiters]) {
      if (w.accept(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  });
  return {
    results,
    next: (accept: (r: OperationResult<T>) => boolean) =>
      new Promise<OperationResult<T>>((resolve, reject) => {
        const found = results.find(accept);
        if (found) return resolve(found);
        waiters.push({ accept, resolve });
        setTimeout(() => reject(new Error('no such result within 10 s')), 10_000).unref();
      }),
    stop: () => subscription.unsubscribe(),
  };
}

describe.each<Ids>(['manifest', 'urql'])('urql with %s ids, PERSISTED_OPERATIONS=only', (ids) => {
  it('signs in, reads the feed and my orders, rates an order: the watched MyOrders is refetched with the rating', async () => {
    const app = appClient(ids);
    const { client } = app;

    const login = await client.mutation<LoginMutation>(doc('Login'), {
      input: { email: EMAIL, password: PASSWORD },
    });
    expect(login.error).toBeUndefined();
    expect(login.data?.login.user.email).toBe(EMAIL);
    app.signIn(login.data!.login.token);

    const feed = await client.query<RestaurantFeedQuery>(doc('RestaurantFeed'), {});
    expect(feed.error).toBeUndefined();
    expect(feed.data?.restaurants.edges).toHaveLength(RESTAURANTS);
    expect(feed.data?.restaurants.edges[0]?.node).toMatchObject({ __typename: 'Restaurant' });

    const mine = watch<MyOrdersQuery>(client.query<MyOrdersQuery>(doc('MyOrders'), {}));
    const first = await mine.next((r) => !r.stale && !!r.data);
    expect(first.error).toBeUndefined();
    const orders = first.data!.me!.orders.edges.map((e) => e.node);
    expect(orders).toHaveLength(ORDERS);
    expect(orders[0]).toMatchObject({ __typename: 'Order' });
    const order = orders[0]!;
    const rating = order.rating === 5 ? 4 : 5;

    const rated = await client.mutation<RateOrderMutation>(doc('RateOrder'), { id: order.id, rating });
    expect(rated.error).toBeUndefined();
    expect(rated.data?.rateOrder).toEqual({ __typename: 'Order', id: order.id, rating });

    // The Order typename invalidates the cached MyOrders: urql fetches it again for the live watcher.
    const updated = await mine.next(
      (r) => !r.stale && r.data?.me?.orders.edges.find((e) => e.node.id === order.id)?.node.rating === rating,
    );
    expect(updated.error).toBeUndefined();
    mine.stop();

    // Every request by a manifest id alone, answered 200; queries by GET, mutations by POST.
    expect(app.sent.map((s) => [s.operationName, s.method, s.status, s.query])).toEqual([
      ['Login', 'POST', 200, false],
      ['RestaurantFeed', 'GET', 200, false],
      ['MyOrders', 'GET', 200, false],
      ['RateOrder', 'POST', 200, false],
      ['MyOrders', 'GET', 200, false],
    ]);
    for (const s of app.sent) expect(s.hash, s.operationName!).toBe(idOf.get(s.operationName!));
  });
});

describe('ids urql computes', () => {
  it('equal the manifest id of every operation of both clients: sha256 of the document urql sends', async () => {
    // Hashing happens before the request: no server needed, every request answered with no data.
    const app = appClient('recorded', async () => Response.json({ data: null }));
    for (const op of manifest.operations) {
      const variables = {};
      await (op.type === 'mutation'
        ? app.client.mutation(doc(op.name), variables)
        : app.client.query(doc(op.name), variables)
      ).toPromise();
    }
    expect(app.hashed.size).toBe(documents.size);
    for (const [name, query] of app.hashed) expect(sha256(query), name).toBe(idOf.get(name));
  });
});
