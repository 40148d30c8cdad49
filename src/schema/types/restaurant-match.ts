import { badUserInput } from '../../errors.ts';
import { words } from '../../recommend/lexical.ts';
import { searchRestaurants } from '../../recommend/search.ts';
import { builder } from '../builder.ts';
import { pageSize } from '../pagination.ts';
import { textArgument } from '../validation.ts';
import { loadRestaurant, Restaurant } from './restaurant.ts';

type MatchShape = { restaurantId: string; score: number };

const MAX_TEXT = 500;
const MAX_MATCHES = 50;

export const RestaurantMatch = builder.objectRef<MatchShape>('RestaurantMatch').implement({
  fields: (t) => ({
    restaurant: t.field({
      type: Restaurant,
      resolve: (m, _args, ctx, info) => loadRestaurant(ctx, m.restaurantId, info),
    }),
    score: t.exposeFloat('score', {
      description:
        'Relevance, 0 to 1 (1: first by both the words and the meaning of the text): the fused rank, comparable within one answer, not across queries.',
    }),
  }),
});

builder.queryFields((t) => ({
  searchRestaurants: t.field({
    type: [RestaurantMatch],
    cost: 100,
    description: `Search by words and meaning: full-text matches (name, cuisine, location, description; misspellings too) fused with the restaurants whose embedding is closest to the text's; best first (text: 1–${MAX_TEXT} characters; first: 0–${MAX_MATCHES}). A text without a letter or digit finds nothing.`,
    args: { text: t.arg.string({ required: true }), first: t.arg.int({ defaultValue: 10 }) },
    resolve: async (_root, args, ctx) => {
      const text = textArgument(args.text, 'text', MAX_TEXT).trim();
      if (text.length === 0) throw badUserInput(`"text" must be 1–${MAX_TEXT} characters`, { argument: 'text' });
      const first = pageSize(args.first, 10, MAX_MATCHES);
      if (first === 0 || words(text).length === 0) return [];
      const matches = await searchRestaurants({ db: ctx.db, ml: ctx.services.ml, cache: ctx.cache }, text, first);
      return matches.map((m) => ({ restaurantId: m.id, score: Math.round(m.score * 10_000) / 10_000 }));
    },
  }),
}));
