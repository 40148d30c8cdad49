import type { GraphQLResolveInfo } from 'graphql';
import { z } from 'zod';
import type { Context } from '../../context.ts';
import {
  countRestaurants,
  RESTAURANT_ORDER_KEYS,
  RESTAURANT_ORDERS,
  type RestaurantFilter,
  type RestaurantOrder,
  type RestaurantRow,
  selectRestaurantPage,
  selectRestaurantSearchPage,
} from '../../db/queries/restaurants.ts';
import { badUserInput, notFound } from '../../errors.ts';
import { lexicalQuery } from '../../recommend/lexical.ts';
import { cuisineList } from '../../recommend/search.ts';
import { builder } from '../builder.ts';
import { columnOf, must } from '../field-needs.ts';
import {
  connectionFromRows,
  decodeCursor,
  encodeCursor,
  IdString,
  PgText,
  pageSize,
  selectsPage,
} from '../pagination.ts';
import { projectedColumns } from '../projection.ts';
import { textArgument } from '../validation.ts';

export const PriceRange = builder.enumType('PriceRange', {
  values: { LOW: { value: 'low' }, MEDIUM: { value: 'medium' }, HIGH: { value: 'high' } } as const,
});

export const RestaurantOrderEnum = builder.enumType('RestaurantOrder', {
  description: 'Keyset orderings; ties are broken by id in the same direction.',
  values: RESTAURANT_ORDERS,
});

export const Restaurant = builder.objectRef<RestaurantRow>('Restaurant');

const column = columnOf<RestaurantRow>();

builder.node(Restaurant, {
  // Every read includes the key; each field below declares the columns it reads (`select`).
  select: ['id'],
  id: { resolve: (r) => r.id },
  loadWithoutCache: (id, ctx, info) => loadRestaurant(ctx, id, info),
  fields: (t) => ({
    name: t.string(column('name')),
    cuisineType: t.string(column('cuisine_type')),
    description: t.string({ nullable: true, ...column('description') }),
    rating: t.float(column('rating')),
    priceRange: t.field({ type: PriceRange, nullable: true, ...column('price_range') }),
    location: t.string({ nullable: true, ...column('location') }),
    createdAt: t.field({ type: 'DateTime', ...column('created_at') }),
    similar: t.field({
      type: [Restaurant],
      select: [],
      cost: 20,
      description: `The closest restaurants by embedding (cosine), best first; first: 0–${MAX_SIMILAR}.`,
      args: { first: t.arg.int({ defaultValue: 5 }) },
      resolve: async (r, args, ctx, info) => {
        const first = pageSize(args.first, 5, MAX_SIMILAR);
        if (first === 0) return [];
        const matches = await ctx.loaders.similarByRestaurantId.load({ id: r.id, first });
        return loadRestaurants(
          ctx,
          matches.map((m) => m.id),
          info,
        );
      },
    }),
  }),
});

const MAX_SIMILAR = 20;

/**
 * The one way to read a restaurant by id (Query.restaurant, node, Order.restaurant, a
 * recommendation's or a match's restaurant): the batched projecting loader, with the columns
 * `info` selects. One rule for a missing row: NOT_FOUND ("Restaurant not found"), whether the id
 * came from the client or from a row that refers to it (every such field is non-null).
 */
export async function loadRestaurant(ctx: Context, id: string, info: GraphQLResolveInfo): Promise<RestaurantRow> {
  const row = await ctx.loaders.restaurantsById.load(id, projectedColumns<RestaurantRow>(info, 'Restaurant'));
  if (!row) throw notFound('Restaurant');
  return row;
}

/** The same read for a list of ids, in their order: a list (similar) leaves out the ids whose row is gone. */
async function loadRestaurants(ctx: Context, ids: readonly string[], info: GraphQLResolveInfo) {
  const columns = projectedColumns<RestaurantRow>(info, 'Restaurant');
  const rows = await Promise.all(ids.map((id) => ctx.loaders.restaurantsById.load(id, columns)));
  return rows.filter((row): row is RestaurantRow => row !== null);
}

const RestaurantConnection = builder.connectionObject(
  {
    type: Restaurant,
    name: 'RestaurantConnection',
    fields: (t) => ({
      totalCount: t.int({
        cost: 10,
        description: 'Restaurants matching the filters (a separate count, run only when selected).',
        resolve: (conn) => conn.count(),
      }),
    }),
  },
  { name: 'RestaurantEdge' },
);

const EDGE_NODE = [
  ['RestaurantConnection', 'edges'],
  ['RestaurantEdge', 'node'],
] as const;

const CURSOR_VALUES = {
  RATING_DESC: z.tuple([z.number().min(0).max(5), IdString]),
  RATING_ASC: z.tuple([z.number().min(0).max(5), IdString]),
  NAME_ASC: z.tuple([PgText(255), IdString]),
  NAME_DESC: z.tuple([PgText(255), IdString]),
  ID_ASC: z.tuple([IdString]),
} satisfies Record<RestaurantOrder, z.ZodTypeAny>;

/** The relevance ordering's cursor: the lexical score (0 to 2.5, 6 decimals) and id. */
const RELEVANCE_CURSOR = z.tuple([z.number().min(0).max(10), IdString]);

const MAX_SEARCH_LENGTH = 200;

function restaurantFilter(args: {
  cuisine?: string | null;
  minRating?: number | null;
  priceRange?: RestaurantFilter['priceRange'];
  search?: string | null;
}): RestaurantFilter {
  if (args.minRating != null && !(args.minRating >= 0 && args.minRating <= 5)) {
    throw badUserInput('"minRating" must be between 0 and 5', { argument: 'minRating', value: args.minRating });
  }
  if (args.search != null) textArgument(args.search, 'search', MAX_SEARCH_LENGTH);
  if (args.cuisine != null) textArgument(args.cuisine, 'cuisine', 100);
  const search = args.search?.trim() || null;
  return {
    cuisine: args.cuisine?.trim() || null,
    minRating: args.minRating ?? null,
    priceRange: args.priceRange ?? null,
    // A filter matches the text as typed (no misspelling correction, no trigram look-up): no
    // statement besides the page's own.
    search: search ? lexicalQuery(search, [], false) : null,
  };
}

builder.queryFields((t) => ({
  restaurant: t.field({
    type: Restaurant,
    nullable: true,
    args: { id: t.arg.globalID({ required: true, for: [Restaurant] }) },
    resolve: (_root, args, ctx, info) => loadRestaurant(ctx, args.id.id, info),
  }),

  restaurants: t.field({
    type: RestaurantConnection,
    args: {
      first: t.arg.int({ defaultValue: 20 }),
      after: t.arg.string(),
      cuisine: t.arg.string(),
      minRating: t.arg.float(),
      priceRange: t.arg({ type: PriceRange }),
      search: t.arg.string(),
      orderBy: t.arg({
        type: RestaurantOrderEnum,
        description: 'Default: RATING_DESC; with `search`, relevance (the lexical score, best first).',
      }),
    },
    resolve: async (_root, args, ctx, info) => {
      const first = pageSize(args.first, 20, ctx.limits.maxPageSize);
      const filter = restaurantFilter(args);
      const count = () => countRestaurants(ctx.db, filter);
      const search = filter.search;
      if (search && args.orderBy == null) {
        const kind = 'restaurants:RELEVANCE';
        const after = args.after ? decodeCursor(args.after, kind, RELEVANCE_CURSOR) : null;
        if (!selectsPage(info, 'RestaurantConnection')) return connectionFromRows([], 0, false, String, count);
        const columns = projectedColumns<RestaurantRow>(info, 'Restaurant', EDGE_NODE);
        const rows = await selectRestaurantSearchPage(ctx.db, {
          filter: { ...filter, search },
          after,
          limit: first + 1,
          columns,
        });
        const cursorOf = (row: (typeof rows)[number]) => encodeCursor(kind, [row.search_score, row.id]);
        return connectionFromRows(rows, first, after !== null, cursorOf, count);
      }
      const order = args.orderBy ?? 'RATING_DESC';
      const kind = `restaurants:${order}`;
      const after = args.after ? decodeCursor(args.after, kind, CURSOR_VALUES[order]) : null;
      if (!selectsPage(info, 'RestaurantConnection')) return connectionFromRows([], 0, false, String, count);
      const keyColumns = RESTAURANT_ORDER_KEYS[order];
      const columns = projectedColumns<RestaurantRow>(info, 'Restaurant', EDGE_NODE, keyColumns);
      const rows = await selectRestaurantPage(ctx.db, { filter, order, after, limit: first + 1, columns });
      const cursorOf = (row: RestaurantRow) =>
        encodeCursor(
          kind,
          keyColumns.map((c) => must(row[c], c)),
        );
      return connectionFromRows(rows, first, after !== null, cursorOf, count);
    },
  }),

  cuisines: t.stringList({
    description: 'Every cuisine that has at least one restaurant, alphabetical.',
    // Catalogue metadata: cached for 5 min (the public HTTP max-age), shared by replicas.
    resolve: async (_root, _args, ctx) => {
      return cuisineList(ctx.db, ctx.cache);
    },
  }),
}));
