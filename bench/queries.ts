/**
 * The benchmarked queries, as the gateway is asked them (bench/run.ts, bench/profile.ts). Q1: a page of
 * restaurants; Q2: the signed-in user's orders with each order's restaurant. `levels`: the statements the
 * gateway must send (one per level, whatever the page size); `edges`: the list length a correct answer
 * has; `load`: measured under load (the others only at the wire).
 */

export type QuerySpec = {
  levels: number;
  auth: boolean;
  edges: number;
  path: readonly string[];
  load: boolean;
  query: string;
};
const restaurantsQuery = (n: number) =>
  `{ restaurants(first: ${n}) { edges { node { id name cuisineType rating } } } }`;
const ordersQuery = (n: number) =>
  `{ me { orders(first: ${n}) { edges { node { id orderDate totalAmount restaurant { name cuisineType } } } } } }`;

export const BENCH_QUERIES = {
  Q1: { levels: 1, auth: false, edges: 50, path: ['restaurants'], load: true, query: restaurantsQuery(50) },
  Q1_5: { levels: 1, auth: false, edges: 5, path: ['restaurants'], load: false, query: restaurantsQuery(5) },
  Q2: { levels: 3, auth: true, edges: 50, path: ['me', 'orders'], load: true, query: ordersQuery(50) },
  Q2_5: { levels: 3, auth: true, edges: 5, path: ['me', 'orders'], load: false, query: ordersQuery(5) },
} satisfies Record<string, QuerySpec>;
export type BenchQueryName = keyof typeof BENCH_QUERIES;

/** A POST /graphql of one query to the gateway (with the bearer token when the query needs one). */
export function gatewayRequest(url: string, name: BenchQueryName, token: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (BENCH_QUERIES[name].auth) headers.authorization = `Bearer ${token}`;
  return { url, method: 'POST' as const, headers, body: JSON.stringify({ query: BENCH_QUERIES[name].query }) };
}
