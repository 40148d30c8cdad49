import type { TasteProfileRow } from '../../db/queries/preferences.ts';
import { builder } from '../builder.ts';
import { TastePreferencesRules } from '../validation.ts';
import { viewerId } from '../viewer.ts';
import { PriceRange } from './restaurant.ts';
import { User } from './user.ts';

/**
 * Order history speaks louder than onboarding choices: with orders, the profile comes
 * from them; without, from the choices saved by setTastePreferences.
 */
export const TasteProfile = builder.objectRef<TasteProfileRow>('TasteProfile').implement({
  description: "A user's tastes, aggregated in one statement (orders are never loaded for it).",
  ownedBy: (p) => p.user_id,
  fields: (t) => ({
    favoriteCuisines: t.stringList({
      description: 'Top 3 cuisines by order count; before any order, the cuisines chosen in setTastePreferences.',
      resolve: (p) => (p.total_orders > 0 ? p.top_cuisines : (p.chosen_cuisines ?? [])),
    }),
    totalOrders: t.exposeInt('total_orders'),
    averageOrderValue: t.float({ nullable: true, resolve: (p) => p.average_order_value }),
    pricePreference: t.string({
      nullable: true,
      description:
        'LOW, MEDIUM or HIGH (PriceRange names): the most ordered price range; before any order, the one chosen.',
      resolve: (p) =>
        ((p.total_orders > 0 ? p.ordered_price_range : null) ?? p.chosen_price_range)?.toUpperCase() ?? null,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'The later of the last order and the last setTastePreferences; null when neither exists.',
      resolve: (p) => p.updated_at,
    }),
  }),
});

builder.objectField(User, 'tasteProfile', (t) =>
  t.field({
    type: TasteProfile,
    nullable: true,
    select: [],
    resolve: (user, _args, ctx) => ctx.loaders.tasteProfilesByUserId.load(user.id),
  }),
);

const TastePreferencesInput = builder.inputType('TastePreferencesInput', {
  fields: (t) => ({
    cuisines: t.stringList({ required: true, description: '1–5 names from Query.cuisines (any letter case).' }),
    priceRange: t.field({ type: PriceRange, description: 'Omitted: no price preference.' }),
  }),
});

builder.mutationFields((t) => ({
  setTastePreferences: t.field({
    type: TasteProfile,
    authScopes: { authenticated: true },
    description: "Onboarding: saves the signed-in user's cuisines and price range (replacing earlier choices).",
    args: { input: t.arg({ type: TastePreferencesInput, required: true }).validate(TastePreferencesRules) },
    resolve: async (_root, { input }, ctx) => {
      const userId = viewerId(ctx);
      await ctx.services.preferences.set(userId, { cuisines: input.cuisines, priceRange: input.priceRange ?? null });
      return ctx.loaders.tasteProfilesByUserId.clear(userId).load(userId);
    },
  }),
}));
