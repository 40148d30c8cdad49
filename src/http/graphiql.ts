/**
 * GraphiQL (development only; production turns it off): served from the project's own
 * dependencies, never a CDN. Yoga's default page loads GraphiQL from unpkg; this one uses
 * @graphql-yoga/render-graphiql, which inlines the editor (about 9 MB of JS), so it works
 * on a machine with no internet. The module is imported on the first GraphiQL request and
 * the page rendered once per process.
 *
 * It opens on a commented tour that runs against the demo data, with a tab per main use case.
 */
import { createHash } from 'node:crypto';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../db/demo-account.ts';
import { addVary } from './cache-control.ts';
import { compress, type Encoding, encodedEtag, etagMatches, negotiateEncoding, notModified } from './compression.ts';
import { requestUrl } from './request-url.ts';

const WELCOME = `# Welcome to TasteMatch.
#
# Run this query with the ▶ button (or Ctrl/Cmd + Enter):
# it reads the demo data. The other tabs hold the main
# use cases: search, sign in, your orders and taste,
# recommendations, placing an order.
#
# Signed-in operations need a token: \`npm start\` prints
# the demo user's (its tabs start with it in "Headers"
# when the demo data is there), or run the Login tab.
# Then open "Headers" (below) and paste:
#
#   { "Authorization": "Bearer <token>" }
#
# Limits: depth 8, cost 5000, 100 per page.
# Docs: the book icon (top left), or schema.graphql.

query Feed($first: Int = 5, $cuisine: String) {
  restaurants(first: $first, cuisine: $cuisine) {
    totalCount
    edges {
      node {
        id
        name
        cuisineType
        rating
        priceRange
        similar(first: 3) {
          name
          cuisineType
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
  cuisines
}
`;

const TABS: NonNullable<GraphiQLOptions['defaultTabs']> = [
  { query: WELCOME },
  {
    query: `# Semantic search over restaurant descriptions (text embeddings).
query Search($text: String! = "cozy place for fresh pasta") {
  searchRestaurants(text: $text, first: 5) {
    score
    restaurant { name cuisineType rating description }
  }
}
`,
  },
  {
    query: `# Sign in as the demo user; copy the token into Headers as {"Authorization": "Bearer <token>"}.
mutation Login {
  login(input: { email: "${DEMO_EMAIL}", password: "${DEMO_PASSWORD}" }) {
    token
    user { name email }
  }
}
`,
  },
  {
    query: `# Needs the Authorization header (see the first tab).
query MyOrdersAndTaste {
  me {
    name
    tasteProfile { favoriteCuisines totalOrders averageOrderValue }
    orders(first: 5) {
      edges { node { orderDate totalAmount rating restaurant { name cuisineType } } }
    }
  }
}
`,
  },
  {
    query: `# Needs the Authorization header. refresh: true recomputes instead of using the cache.
query Recommendations {
  recommendations(first: 5) {
    score
    insight
    restaurant { name cuisineType rating }
  }
  chefChoice {
    explanation
    reasoning
    confidence
    restaurant { name }
  }
}
`,
  },
  {
    query: `# Needs the Authorization header. Put a restaurant id from the first tab in the variables.
mutation PlaceOrder($restaurantId: ID!) {
  createOrder(input: {
    restaurantId: $restaurantId
    items: [{ name: "Margherita", quantity: 2, price: 42.5 }]
    simulated: true
  }) {
    id
    totalAmount
    restaurant { name }
  }
}
`,
    variables: '{ "restaurantId": "<paste an id>" }',
  },
];

/** Tabs whose operations need a signed-in user (their comment says so). */
const needsToken = (query: string) => query.startsWith('# Needs the Authorization header');

/**
 * The GraphiQL options: title, tabs, and headers kept out of browser storage (tokens are not
 * persisted). With the demo user's token (development, embedded demo data), the tabs that
 * need one start with it in their headers.
 */
export function graphiqlOptions(demoToken?: string): GraphiQLOptions {
  const headers = demoToken ? JSON.stringify({ Authorization: `Bearer ${demoToken}` }, null, 2) : undefined;
  return {
    title: 'TasteMatch GraphiQL',
    defaultTabs: TABS.map((tab) => (headers && needsToken(tab.query ?? '') ? { ...tab, headers } : tab)),
    shouldPersistHeaders: false,
  };
}

const pages = new WeakMap<GraphiQLOptions, Promise<string>>();

/** Renders the self-contained page once per options (the first GraphiQL request pays for the import). */
export function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  let page = pages.get(options);
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
    pages.set(options, page);
  }
  return page;
}

type PageVariant = { body: Uint8Array; etag: string };

/**
 * The GraphiQL page is 9 MB and the same for the whole process: the browser keeps it
 * (`private, no-cache`: private because it may hold the demo token, revalidated on each visit,
 * so a visit after a restart gets the new page) and revalidates with its ETag, answered 304.
 * Each encoding is compressed once, when first asked for (brotli 5: 9.1 → 1.9 MB in 0.3 s;
 * gzip 6: → 2.4 MB in 0.2 s), and kept: at most three copies of one page.
 */
export function useGraphiQLCaching(endpoint: string, options: GraphiQLOptions): Plugin {
  const variants = new Map<Encoding, Promise<PageVariant>>();
  // Nothing is rendered until GraphiQL is first asked for.
  const identity = () =>
    renderOfflineGraphiQL(options).then((html) => {
      const body = new TextEncoder().encode(html);
      return { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
    });
  const variant = (encoding: Encoding): Promise<PageVariant> => {
    let v = variants.get(encoding);
    if (!v) {
      v =
        encoding === 'identity'
          ? identity()
          : variant('identity').then(async ({ body, etag }) => ({
              body: await compress(body, encoding, encoding === 'br' ? 5 : 6),
              etag: encodedEtag(etag, encoding),
            }));
      variants.set(encoding, v);
    }
    return v;
  };
  return {
    async onResponse({ request, response, setResponse }) {
      if (request.method !== 'GET' || response.status !== 200) return;
      if (!/^text\/html/i.test(response.headers.get('content-type') ?? '')) return;
      if (requestUrl(request).pathname !== endpoint) return;
      // The body is the page rendered from `options`, already at hand in its variants.
      await response.body?.cancel();
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'));
      const { body, etag } = await variant(encoding);
      const headers = new Headers(response.headers);
      headers.set('cache-control', 'private, no-cache');
      headers.set('etag', etag);
      // The same URL answers JSON to other Accept headers.
      addVary(headers, 'Accept', 'Accept-Encoding');
      if (etagMatches(request.headers.get('if-none-match'), etag)) {
        setResponse(notModified(headers));
        return;
      }
      if (encoding !== 'identity') headers.set('content-encoding', encoding);
      headers.set('content-length', String(body.byteLength));
      setResponse(new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers }));
    },
  };
}
