/**
 * A typed client in a few lines, on the types `npm run clients:types` generates from
 * clients/{mobile,web}/*.graphql: each operation's variables and result are checked by `tsc`, so code
 * that reads a field the operation no longer selects (or the schema no longer has) stops
 * compiling. Not imported by the gateway; `tsc --noEmit -p .` type-checks it.
 */
import { readFileSync } from 'node:fs';
import type {
  CreateOrderMutation,
  CreateOrderMutationVariables,
  RestaurantFeedQuery,
  RestaurantFeedQueryVariables,
} from '../generated/operations.ts';

/** Operation name → its document file and its generated types. */
interface Operations {
  RestaurantFeed: { variables: RestaurantFeedQueryVariables; result: RestaurantFeedQuery };
  CreateOrder: { variables: CreateOrderMutationVariables; result: CreateOrderMutation };
}

const FILES: { [N in keyof Operations]: string } = {
  RestaurantFeed: '../mobile/restaurant-feed.graphql',
  CreateOrder: '../mobile/create-order.graphql',
};

type GraphQLResponse<T> = { data?: T | null; errors?: { message: string }[] };

/** POSTs one operation; resolves to its typed `data`, rejects on GraphQL or HTTP errors. */
export async function request<N extends keyof Operations>(
  endpoint: string,
  operationName: N,
  variables: Operations[N]['variables'],
  token?: string,
): Promise<Operations[N]['result']> {
  const query = readFileSync(new URL(FILES[operationName], import.meta.url), 'utf8');
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, operationName, variables }),
  });
  const body = (await response.json()) as GraphQLResponse<Operations[N]['result']>;
  if (body.errors?.length) throw new Error(`${operationName}: ${body.errors.map((e) => e.message).join('; ')}`);
  if (!response.ok || !body.data) throw new Error(`${operationName}: HTTP ${response.status}`);
  return body.data;
}

/** The feed's first page as display lines: reads `cuisineType`, `rating` and `priceRange`. */
export async function feedLines(endpoint: string): Promise<string[]> {
  const { restaurants } = await request(endpoint, 'RestaurantFeed', { first: 10, orderBy: 'RATING_DESC' });
  return restaurants.edges.map(
    ({ node }) => `${node.name} · ${node.cuisineType} · ${node.rating.toFixed(1)}★ · ${node.priceRange ?? '?'}`,
  );
}

/** Orders one dish; the result's `orderDate` is the DateTime scalar, typed as an ISO string. */
export async function orderOne(endpoint: string, token: string, restaurantId: string) {
  const { createOrder } = await request(
    endpoint,
    'CreateOrder',
    { input: { restaurantId, items: [{ name: 'Margherita', quantity: 1, price: 9.5 }] } },
    token,
  );
  const placedAt: string = createOrder.orderDate;
  return { id: createOrder.id, total: createOrder.totalAmount, placedAt, restaurant: createOrder.restaurant.name };
}
