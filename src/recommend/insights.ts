/**
 * Why a restaurant is recommended, in a sentence. Behind an interface so an LLM
 * provider can be plugged in later; the built-in one is a deterministic template
 * over the user's history (no network, no model).
 */
import type { RestaurantCard } from '../db/queries/recommendations.ts';

export type TasteSummary = {
  totalOrders: number;
  /** orders per cuisine, most ordered first */
  cuisineCounts: readonly [string, number][];
  /** the most ordered price range, or the onboarding choice */
  usualPriceRange: string | null;
  /** onboarding choices (before enough orders) */
  chosenCuisines: readonly string[];
};

export type InsightInput = {
  restaurant: RestaurantCard;
  score: number;
  taste: TasteSummary;
  basis: 'history' | 'onboarding' | 'popular';
};

export interface InsightProvider {
  insight(input: InsightInput): string | Promise<string>;
}

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const templateInsights: InsightProvider = {
  insight({ restaurant, taste, basis }) {
    const cuisine = restaurant.cuisine_type;
    const count = taste.cuisineCounts.find(([c]) => c === cuisine)?.[1] ?? 0;
    const parts: string[] = [];
    if (basis === 'popular') {
      parts.push(
        `One of the best-rated places (${restaurant.rating.toFixed(1)}/5), a good start while we learn your taste`,
      );
    } else if (count > 0) {
      const of = taste.totalOrders === 1 ? 'your only order' : `${count} of your ${taste.totalOrders} orders`;
      parts.push(`${title(cuisine)} like ${of}`);
    } else if (taste.chosenCuisines.includes(cuisine)) {
      parts.push(`${title(cuisine)}, one of the cuisines you picked`);
    } else {
      parts.push(`${title(cuisine)}, close to what you usually enjoy`);
    }
    if (basis !== 'popular') parts.push(`rated ${restaurant.rating.toFixed(1)}/5`);
    if (restaurant.price_range && restaurant.price_range === taste.usualPriceRange) {
      parts.push(`in your usual ${restaurant.price_range} price range`);
    }
    return `${parts.join(', ')}.`;
  },
};
