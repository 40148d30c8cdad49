/**
 * The benchmarked queries, as the gateway is asked them (bench/run.ts, bench/profile.ts). Q1: a page of
 * restaurants; Q2: the signed-in user's orders with each order's restaurant. `levels`: the most statements the
 * gateway may send (one per level, whatever the page size; Q2 sends 2: its restaurants ride in the page's); `edges`: the list length a correct answer
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

// ---------------------------------------------------------------------------------------------
// The same queries as each peer is asked them, and their answers in one shape to compare.

/**
 * Who is asked: the gateway and the naive set share the gateway's schema; the Yoga and envelop floors have the gateway's
 * shape (its `me` from a header); the others have their own.
 */
export type Asked = 'gateway' | 'naive' | 'postgraphile' | 'floor' | 'yoga' | 'envelop';

/**
 * PostGraphile's Amber schema of our tables: `allRestaurants`, `userByRowId { ordersByUserId }`,
 * `restaurantByRestaurantId`, Relay `id`s, numerics as strings. Orders as the gateway's: restaurants by
 * rating then id, descending (its default RATING_DESC); orders newest first (order_date DESC, id DESC).
 */
const postgraphileQuery = (name: BenchQueryName, userId: string) => {
  const { edges } = BENCH_QUERIES[name];
  return name.startsWith('Q1')
    ? `{ allRestaurants(first: ${edges}, orderBy: [RATING_DESC, ROW_ID_DESC]) { edges { node { id name cuisineType rating } } } }`
    : `{ userByRowId(rowId: ${JSON.stringify(userId)}) { ordersByUserId(first: ${edges}, orderBy: [ORDER_DATE_DESC, ROW_ID_DESC]) ` +
        '{ edges { node { id orderDate totalAmount restaurantByRestaurantId { name cuisineType } } } } } }';
};

/** Where the list of edges is in each server's answer. */
export function edgesPath(asked: Asked, name: BenchQueryName): readonly string[] {
  if (asked !== 'postgraphile') return BENCH_QUERIES[name].path;
  return name.startsWith('Q1') ? ['allRestaurants'] : ['userByRowId', 'ordersByUserId'];
}

/** The request for one query to one server: the gateway's (token for `me`), PostGraphile's, the floor's. */
export function requestFor(asked: Asked, url: string, name: BenchQueryName, auth: { token: string; userId: string }) {
  if (asked === 'gateway' || asked === 'naive') return gatewayRequest(url, name, auth.token);
  if (asked === 'yoga' || asked === 'envelop') {
    const { headers, ...request } = gatewayRequest(url, name, '');
    delete headers.authorization;
    return { ...request, headers: { ...headers, 'x-bench-user': auth.userId } };
  }
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  const body =
    asked === 'postgraphile'
      ? { query: postgraphileQuery(name, auth.userId) }
      : {
          // The floor picks its statement by the operation name and ignores the text.
          operationName: name.startsWith('Q1') ? 'Q1' : 'Q2',
          query: BENCH_QUERIES[name].query,
          variables: { first: BENCH_QUERIES[name].edges, userId: auth.userId },
        };
  return { url, method: 'POST' as const, headers, body: JSON.stringify(body) };
}

/** A Relay id (the gateway's base64 `Type:id`, PostGraphile's base64 `["Type","id"]`) or a plain one → the row id. */
export function rowId(id: unknown): number {
  if (typeof id === 'number') return id;
  const s = String(id);
  if (/^\d+$/.test(s)) return Number(s);
  const decoded = Buffer.from(s, 'base64').toString('utf8');
  const parts: unknown[] = decoded.startsWith('[') ? (JSON.parse(decoded) as unknown[]) : decoded.split(':');
  const n = Number(parts.at(-1));
  if (!Number.isInteger(n)) throw new Error(`not a row id or a Relay id: ${s}`);
  return n;
}

type Json = Record<string, unknown>;

/**
 * One answer in one shape, to compare servers: its edges' nodes with numeric row ids, numbers for
 * numerics, ISO instants for dates, `restaurant` for `restaurantByRestaurantId`, `edges { node }` or `nodes`.
 */
export function normalisedAnswer(asked: Asked, name: BenchQueryName, body: Json): Json[] {
  let at: unknown = body.data;
  for (const key of edgesPath(asked, name)) at = (at as Json | null | undefined)?.[key];
  const list = at as { edges?: { node: Json }[]; nodes?: Json[] } | null | undefined;
  const nodes = list?.nodes ?? list?.edges?.map((e) => e.node) ?? [];
  return nodes.map((n) => {
    if (name.startsWith('Q1')) {
      return { id: rowId(n.id), name: n.name, cuisineType: n.cuisineType, rating: Number(n.rating) };
    }
    const r = (n.restaurant ?? n.restaurantByRestaurantId) as Json | undefined;
    return {
      id: rowId(n.id),
      orderDate: new Date(String(n.orderDate)).toISOString(),
      totalAmount: Number(n.totalAmount),
      restaurant: { name: r?.name, cuisineType: r?.cuisineType },
    };
  });
}
