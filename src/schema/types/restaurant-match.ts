import { badUserInput } from '../../errors.ts';
import { builder } from '../builder.ts';
import { pageSize } from '../pagination.ts';
import { textArgument } from '../validation.ts';
import { Restaurant, referencedRestaurant } from './restaurant.ts';

type MatchShape = { restaurantId: string; score: number };

const MAX_TEXT = 500;
const MAX_MATCHES = 50;

export const RestaurantMatch = builder.objectRef<MatchShape>('RestaurantMatch').implement({
  fields: (t) => ({
    restaurant: t.field({
      type: Restaurant,
      resolve: (m, _args, ctx, info) => referencedRestaurant(ctx, m.restaurantId, info),
    }),
    score: t.exposeFloat('score', { description: 'Cosine similarity of the text and the restaurant, −1 to 1.' }),
  }),
});

builder.queryFields((t) => ({
  searchRestaurants: t.field({
    type: [RestaurantMatch],
    description: `Semantic search: restaurants whose embedding is closest to the text's (text: 1–${MAX_TEXT} characters; first: 0–${MAX_MATCHES}).`,
    args: { text: t.arg.string({ required: true }), first: t.arg.int({ defaultValue: 10 }) },
    resolve: async (_root, args, ctx) => {
      const text = textArgument(args.text, 'text', MAX_TEXT).trim();
      if (text.length === 0) throw badUserInput(`"text" must be 1–${MAX_TEXT} characters`, { argument: 'text' });
      const first = pageSize(args.first, 10, MAX_MATCHES);
      if (first === 0) return [];
      const vector = await ctx.ml.embedder.embedOne(text);
      const matches = await ctx.ml.index.nearest(vector, first);
      return matches.map((m) => ({ restaurantId: m.id, score: Math.round(m.score * 10_000) / 10_000 }));
    },
  }),
}));
