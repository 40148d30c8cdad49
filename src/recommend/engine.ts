/**
 * Recommendations and the chef's choice, per user, cached in the bounded cache.
 *
 * Per computation: the user's last 1,000 orders (one projected statement, joined to
 * the restaurants' cuisine and price only), their preferences, the vectors of the
 * restaurants they ordered from (from the index), then one nearest-neighbour search.
 * The catalogue is never loaded into JS objects (the original's out-of-memory bug);
 * only the results' few columns are read.
 */
import type { TieredCache } from '../cache/tiered-cache.ts';
import type { Db } from '../db/pool.ts';
import {
  type OrderSignal,
  type RestaurantCard,
  selectCards,
  selectOrderSignals,
  selectPreferences,
  selectTopRated,
  selectTopRatedOfCuisines,
} from '../db/queries/recommendations.ts';
import type { VectorIndex } from '../ml/vector-index.ts';
import type { InsightProvider, TasteSummary } from './insights.ts';
import { blend, historyVector, meanVector } from './user-vector.ts';

/** Candidates below this rating are never recommended (the original's hard-coded 3.0). */
export const MIN_RATING = 3.0;
/** The recommendation list is computed once at this length and sliced per request. */
export const MAX_RECOMMENDATIONS = 50;
/** Restaurants of the user's last orders are left out: they know them already. */
const RECENT_ORDERS_EXCLUDED = 10;
/** With fewer orders than this, the onboarding choices shape the vector too. */
const ONBOARDING_UNTIL_ORDERS = 3;
const ONBOARDING_PER_CUISINE = 5;

export type Basis = 'history' | 'onboarding' | 'popular';
export type RecommendationItem = { restaurantId: string; score: number; insight: string; card: RestaurantCard };
/** What is cached per user: the ranked list and the taste it was made from (the chef's choice needs both). */
export type RecommendationList = {
  basis: Basis;
  generatedAt: string;
  taste: TasteSummary;
  items: RecommendationItem[];
};
export type ChefChoiceResult = {
  restaurantId: string;
  score: number;
  explanation: string;
  reasoning: string[];
  confidence: number;
};

type Deps = { db: Db; index: VectorIndex; cache: TieredCache; insights: InsightProvider; dims: number };

function summarize(
  orders: readonly OrderSignal[],
  prefs: { favorite_cuisines: string[]; price_preference: string | null } | null,
): TasteSummary {
  const cuisines = new Map<string, number>();
  const prices = new Map<string, number>();
  for (const o of orders) {
    cuisines.set(o.cuisine_type, (cuisines.get(o.cuisine_type) ?? 0) + 1);
    if (o.price_range) prices.set(o.price_range, (prices.get(o.price_range) ?? 0) + 1);
  }
  const byCount = <K extends string>(m: Map<K, number>) =>
    [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return {
    totalOrders: orders.length,
    cuisineCounts: byCount(cuisines),
    usualPriceRange: byCount(prices)[0]?.[0] ?? prefs?.price_preference ?? null,
    chosenCuisines: prefs?.favorite_cuisines ?? [],
  };
}

export class Recommender {
  constructor(private readonly deps: Deps) {}

  /** The same recommender reading through `db` (a request's handle: its statements count for that request). */
  withDb(db: Db): Recommender {
    return new Recommender({ ...this.deps, db, index: this.deps.index.withDb(db) });
  }

  /** Forgets a user's cached results (after an order, a rating or new preferences), on every replica. */
  invalidate(userId: string): Promise<void> {
    return this.deps.cache.invalidate('recs', this.key(userId));
  }

  async recommendations(userId: string, refresh: boolean): Promise<RecommendationList> {
    if (!refresh) {
      const cached = await this.deps.cache.get<RecommendationList>('recs', this.key(userId));
      if (cached) return cached;
    }
    const list = await this.compute(userId);
    await this.deps.cache.set('recs', this.key(userId), list);
    return list;
  }

  /**
   * One pick among the top 3 recommendations, scored 0.4·similarity + 0.2·rating/5 +
   * 0.2·novelty + 0.2·favourite-cuisine match. Never null for a user with no history:
   * the cold-start list is top-rated restaurants.
   */
  async chefChoice(userId: string, refresh: boolean): Promise<ChefChoiceResult | null> {
    const list = await this.recommendations(userId, refresh);
    const { taste } = list;
    const favourites = new Set(
      taste.totalOrders > 0 ? taste.cuisineCounts.slice(0, 3).map(([c]) => c) : taste.chosenCuisines,
    );
    const scored = list.items.slice(0, 3).map((item) => {
      const { card } = item;
      const share = taste.totalOrders
        ? (taste.cuisineCounts.find(([c]) => c === card.cuisine_type)?.[1] ?? 0) / taste.totalOrders
        : 0;
      const parts = {
        similarity: list.basis === 'popular' ? 0 : Math.max(0, item.score),
        rating: card.rating / 5,
        novelty: 1 - share,
        favourite: favourites.has(card.cuisine_type) ? 1 : 0,
      };
      const score = 0.4 * parts.similarity + 0.2 * parts.rating + 0.2 * parts.novelty + 0.2 * parts.favourite;
      return { card, parts, score };
    });
    scored.sort((a, b) => b.score - a.score || a.card.id.localeCompare(b.card.id));
    const best = scored[0];
    if (!best) return null;
    const { card, parts } = best;
    const reasoning = [
      list.basis === 'popular'
        ? 'No order history yet: picked among the best-rated restaurants'
        : `Taste match ${(parts.similarity * 100).toFixed(0)}% with your ${list.basis === 'history' ? 'orders' : 'chosen cuisines'}`,
      `Rated ${card.rating.toFixed(1)}/5`,
      parts.novelty >= 0.99
        ? `Something new: no ${card.cuisine_type} in your orders yet`
        : `You order ${card.cuisine_type} now and then`,
      ...(parts.favourite ? [`${card.cuisine_type} is one of your favourite cuisines`] : []),
    ];
    const explanation =
      list.basis === 'popular'
        ? `The chef suggests ${card.name}, one of the best-rated ${card.cuisine_type} restaurants, to start with.`
        : `The chef suggests ${card.name}: ${card.cuisine_type}, rated ${card.rating.toFixed(1)}/5, close to your taste.`;
    return {
      restaurantId: card.id,
      score: round(best.score),
      explanation,
      reasoning,
      confidence: round(Math.min(1, Math.max(0, best.score))),
    };
  }

  /** Versioned: a change of the cached shape must not read another version's entries (Redis outlives a deploy). */
  private key(userId: string) {
    return `v1:${userId}`;
  }

  private async compute(userId: string): Promise<RecommendationList> {
    const { db, index, dims } = this.deps;
    const [orders, prefs] = await Promise.all([selectOrderSignals(db, userId), selectPreferences(db, userId)]);
    const now = new Date();
    const excluded = new Set(orders.slice(0, RECENT_ORDERS_EXCLUDED).map((o) => o.restaurant_id));
    let vector: Float32Array | null = null;
    let basis: Basis = 'popular';
    if (orders.length > 0) {
      const vectors = await index.vectors([...new Set(orders.map((o) => o.restaurant_id))]);
      vector = historyVector(orders, vectors, dims, now);
      if (vector) basis = 'history';
    }
    if (orders.length < ONBOARDING_UNTIL_ORDERS && prefs && prefs.favorite_cuisines.length > 0) {
      const sources = await selectTopRatedOfCuisines(
        db,
        prefs.favorite_cuisines,
        prefs.price_preference,
        ONBOARDING_PER_CUISINE,
      );
      const onboarding = meanVector((await index.vectors(sources.map((s) => s.id))).values(), dims);
      if (onboarding) {
        vector = blend(onboarding, vector);
        basis = 'onboarding';
      }
    }
    let scored: { id: string; score: number }[];
    let cards: readonly RestaurantCard[];
    if (vector) {
      scored = await index.nearest(vector, MAX_RECOMMENDATIONS, { minRating: MIN_RATING, excludeIds: excluded });
      cards = scored.length
        ? await selectCards(
            db,
            scored.map((s) => s.id),
          )
        : [];
    } else {
      basis = 'popular';
      cards = await selectTopRated(db, MAX_RECOMMENDATIONS, MIN_RATING, [...excluded]);
      scored = cards.map((c) => ({ id: c.id, score: Math.max(0.5, Math.min(1, c.rating / 5)) }));
    }
    const taste = summarize(orders, prefs);
    const cardOf = new Map(cards.map((c) => [c.id, c]));
    const items: RecommendationItem[] = [];
    for (const s of scored) {
      const restaurant = cardOf.get(s.id);
      if (!restaurant) continue;
      const insight = await this.deps.insights.insight({ restaurant, score: s.score, taste, basis });
      items.push({ restaurantId: s.id, score: round(s.score), insight, card: restaurant });
    }
    return { basis, generatedAt: now.toISOString(), taste, items };
  }
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
