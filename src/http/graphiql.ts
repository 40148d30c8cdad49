/**
 * GraphiQL (development only; production turns it off): served from the project's own
 * dependencies, never a CDN. Yoga's default page loads GraphiQL from unpkg; this one uses
 * @graphql-yoga/render-graphiql, which inlines the editor (about 9 MB of JS), so it works
 * on a machine with no internet. The module is imported on the first GraphiQL request and
 * the page rendered once per process.
 *
 * It opens on a commented tour that runs against the demo data, with a tab per main use case.
 */
import type { GraphiQLOptions } from 'graphql-yoga';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../db/demo-account.ts';

const WELCOME = `# Welcome to TasteMatch.
#
# Run this query with the ▶ button (or Ctrl/Cmd + Enter):
# it reads the demo data. The other tabs hold the main
# use cases: search, sign in, your orders and taste,
# recommendations, placing an order.
#
# Signed-in operations need a token: \`npm start\` prints
# the demo user's, or run the Login tab. Then open
# "Headers" (below) and paste:
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

/** The GraphiQL options: title, tabs, and headers kept out of browser storage (tokens are not persisted). */
export const GRAPHIQL_OPTIONS: GraphiQLOptions = {
  title: 'TasteMatch GraphiQL',
  defaultTabs: TABS,
  shouldPersistHeaders: false,
};

let page: Promise<string> | undefined;

/** Renders the self-contained page once (the first GraphiQL request pays for the import). */
export function renderOfflineGraphiQL(options: GraphiQLOptions): Promise<string> {
  page ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(options));
  return page;
}
