import type { ChefChoiceResult, RecommendationItem } from '../../recommend/engine.ts';
import { MAX_RECOMMENDATIONS } from '../../recommend/engine.ts';
import { builder } from '../builder.ts';
import { pageSize } from '../pagination.ts';
import { viewerId } from '../viewer.ts';
import { loadRestaurant, Restaurant } from './restaurant.ts';

type RecommendationShape = RecommendationItem & { generatedAt: string };

export const Recommendation = builder.objectRef<RecommendationShape>('Recommendation').implement({
  description: 'A restaurant for the signed-in user, with a cosine-similarity score and a one-sentence reason.',
  fields: (t) => ({
    restaurant: t.field({
      type: Restaurant,
      resolve: (r, _args, ctx, info) => loadRestaurant(ctx, r.restaurantId, info),
    }),
    score: t.exposeFloat('score'),
    insight: t.exposeString('insight'),
    generatedAt: t.field({ type: 'DateTime', resolve: (r) => new Date(r.generatedAt) }),
  }),
});

export const ChefChoice = builder.objectRef<ChefChoiceResult>('ChefChoice').implement({
  description: "One pick among the user's top 3 recommendations, with the reasons.",
  fields: (t) => ({
    restaurant: t.field({
      type: Restaurant,
      resolve: (c, _args, ctx, info) => loadRestaurant(ctx, c.restaurantId, info),
    }),
    score: t.exposeFloat('score'),
    explanation: t.exposeString('explanation'),
    reasoning: t.exposeStringList('reasoning'),
    confidence: t.exposeFloat('confidence', { description: '0–1.' }),
  }),
});

builder.queryFields((t) => ({
  recommendations: t.field({
    type: [Recommendation],
    cost: 100,
    authScopes: { authenticated: true },
    description:
      `Restaurants for the signed-in user (first: 0–${MAX_RECOMMENDATIONS}), best first; cached per user until ` +
      'they order, rate or change preferences; refresh: true recomputes.',
    args: { first: t.arg.int({ defaultValue: 10 }), refresh: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) => {
      const first = pageSize(args.first, 10, MAX_RECOMMENDATIONS);
      if (first === 0) return [];
      const list = await ctx.services.recommender.recommendations(viewerId(ctx), args.refresh ?? false);
      return list.items.slice(0, first).map((item) => ({ ...item, generatedAt: list.generatedAt }));
    },
  }),
  chefChoice: t.field({
    type: ChefChoice,
    nullable: true,
    cost: 100,
    authScopes: { authenticated: true },
    description: "The chef's pick for the signed-in user; a top-rated pick for a new user.",
    args: { refresh: t.arg.boolean({ defaultValue: false }) },
    resolve: (_root, args, ctx) => ctx.services.recommender.chefChoice(viewerId(ctx), args.refresh ?? false),
  }),
}));
