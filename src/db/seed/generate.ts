/**
 * Row generation for the seed: every value drawn from the caller's seeded stream, in a fixed
 * order (so the same seed gives the same rows), and dates counted back from a fixed reference
 * date. Pure but for the password hashes; nothing here touches the database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { hashPassword } from '../../auth/passwords.ts';
import { gauss, hashInts, int, pick, pickWeighted, type Rng } from '../../random.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from '../demo-account.ts';
import {
  CITIES,
  CUISINE_CDF,
  CUISINE_DATA,
  type Cuisine,
  EXTRA_SENTENCES_CDF,
  FIRST_NAMES,
  ITEM_COUNT_CDF,
  KINDS,
  LAST_NAMES,
  PRICE_CDF,
  PRICE_FACTOR,
  PRICE_RANGES,
  QUANTITY_CDF,
  VIBES,
} from './vocabulary.ts';

/** Orders are dated in the 365 days before this instant, not before `Date.now()`, so a seed is reproducible. */
const REFERENCE_DATE = Date.parse('2026-11-01T12:00:00Z');
const DAY_MS = 86_400_000;

const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

/** `count` distinct dish indexes of a cuisine (partial Fisher–Yates on a small index list). */
function pickDishes(rng: Rng, cuisine: Cuisine, count: number): number[] {
  const idx = cuisine.dishes.map((_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rng() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, count);
}

/** A restaurant's price for a dish, in cents: fixed per restaurant (hash, not stored), on half units. */
function dishPriceCents(seed: number, restaurant: number, cuisine: Cuisine, dish: number, priceRange: number): number {
  const jitter = 0.85 + (0.3 * (hashInts(seed, restaurant, dish) % 1000)) / 1000; // ±15 %
  const price = cuisine.dishes[dish]![1] * PRICE_FACTOR[priceRange]! * jitter;
  return Math.max(1, Math.round(price * 2)) * 50;
}

function describeRestaurant(rng: Rng, c: Cuisine, hood: string, priceRange: number): string {
  const dishes = pickDishes(rng, c, 3).map((i) => c.dishes[i]![0].toLowerCase());
  const [d1, d2, d3] = dishes as [string, string, string];
  const vibe = pick(rng, VIBES);
  const openers = [
    `${capitalise(article(vibe))} ${vibe} ${c.label} ${pick(rng, KINDS)} in ${hood} known for its ${d1} and ${d2}.`,
    `${capitalise(c.label)} classics like ${d1} and ${d2}, served in ${article(vibe)} ${vibe} setting.`,
    `${capitalise(article(c.label))} ${c.label} ${pick(rng, KINDS)} serving ${d1}, ${d2} and more.`,
  ];
  const extras = [
    `Regulars swear by the ${d3}.`,
    `Family-run since ${int(rng, 1968, 2022)}.`,
    'Good for groups; reservations recommended on weekends.',
    'Offers takeaway and delivery.',
    `The ${d3} is made fresh every morning.`,
    'Open late on Fridays and Saturdays.',
    'Terrace seating in summer.',
    priceRange === 2 ? 'Ask about the seasonal tasting menu.' : 'Great-value lunch specials on weekdays.',
  ];
  if (c.type !== 'vegetarian') extras.push('Vegetarian options available.');
  const sentences = [pick(rng, openers)];
  const more = pickWeighted(rng, EXTRA_SENTENCES_CDF);
  for (const i of pickIndexes(rng, extras.length, more)) sentences.push(extras[i]!);
  return sentences.join(' ');
}

function pickIndexes(rng: Rng, n: number, count: number): number[] {
  const chosen: number[] = [];
  while (chosen.length < count) {
    const i = Math.floor(rng() * n);
    if (!chosen.includes(i)) chosen.push(i);
  }
  return chosen;
}

/** Skewed towards 3.8–4.6 (~80 %), with a thin uniform tail over the whole 2.5–5.0 range. */
function restaurantRating(rng: Rng): number {
  const r = rng() < 0.08 ? 2.5 + rng() * 2.5 : 4.2 + 0.3 * gauss(rng);
  return Math.round(clamp(r, 2.5, 5) * 10);
}

/**
 * The demo user's argon2id hash of DEMO_PASSWORD; the salt comes from the seed, so the row is
 * reproducible.
 */
export function demoPasswordHash(seed: number): Promise<string> {
  const salt = createHash('sha256').update(`tastematch-seed-salt:${seed}`).digest().subarray(0, 16);
  return hashPassword(DEMO_PASSWORD, salt);
}

/**
 * Every other seeded user: ONE argon2id hash (same parameters as a real account, so a login
 * costs the same) of 32 random bytes drawn for this run and never kept: nobody knows the
 * password. Hashing each user's password would dominate the seed's time.
 */
export function unknowablePasswordHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64'));
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Restaurants and users existed 400–1000 days before the reference date (before any order). */
const createdAt = (rng: Rng) => iso(REFERENCE_DATE - Math.floor(((400 + rng() * 600) * DAY_MS) / 1000) * 1000);

/** What orders need of each restaurant, a few bytes each instead of the rows (index = restaurant index). */
export type RestaurantTraits = { cuisine: Uint8Array; priceRange: Uint8Array; rating10: Uint8Array };

export type RestaurantDraft = {
  name: string;
  cuisineType: string;
  description: string;
  /** 2.5–5.0, one decimal */
  rating: string;
  priceRange: string;
  location: string;
  createdAt: string;
};

/** Restaurant number `i`; records what its orders need in `traits`. */
export function generateRestaurant(rng: Rng, i: number, traits: RestaurantTraits): RestaurantDraft {
  // The first 12 cover every cuisine once, so any seed of ≥ 12 restaurants has all of them.
  const ci = i < CUISINE_DATA.length ? i : pickWeighted(rng, CUISINE_CDF);
  const c = CUISINE_DATA[ci]!;
  const price = pickWeighted(rng, PRICE_CDF);
  const place = pick(rng, CITIES);
  const hood = pick(rng, place.hoods);
  const rating10 = restaurantRating(rng);
  traits.cuisine[i] = ci;
  traits.priceRange[i] = price;
  traits.rating10[i] = rating10;
  const name = `${pick(rng, c.prefixes)} ${pick(rng, c.cores)}`;
  const description = describeRestaurant(rng, c, hood, price);
  return {
    name,
    cuisineType: c.type,
    description,
    rating: (rating10 / 10).toFixed(1),
    priceRange: PRICE_RANGES[price]!,
    location: `${hood}, ${place.city}`,
    createdAt: createdAt(rng),
  };
}

/** User number `i`'s email: the first is the demo user. */
export const userEmail = (i: number) => (i === 0 ? DEMO_EMAIL : `user${i + 1}@example.com`);

/** User number `i` (its name is drawn even for the demo user, so later users do not shift). */
export function generateUser(rng: Rng, i: number): { email: string; name: string; createdAt: string } {
  const name = `${pick(rng, FIRST_NAMES)} ${pick(rng, LAST_NAMES)}`;
  return { email: userEmail(i), name: i === 0 ? 'Demo User' : name, createdAt: createdAt(rng) };
}

export type OrderDraft = {
  /** user and restaurant indexes (not ids) */
  user: number;
  restaurant: number;
  orderDate: string;
  totalAmount: string;
  /** the JSON of the order's lines */
  items: string;
  rating: number | null;
};

/** Order number `i` among `users` users and the restaurants of `traits`. */
export function generateOrder(rng: Rng, seed: number, i: number, users: number, traits: RestaurantTraits): OrderDraft {
  // Skewed volume: low indexes are the heavy users and popular restaurants (Zipf-like u²).
  // Every 20th order is the demo user's, so it has ≥ 50 orders from 1000 orders on.
  const u = i % 20 === 0 ? 0 : Math.floor(users * rng() ** 2);
  const r = Math.floor(traits.cuisine.length * rng() ** 2);
  const c = CUISINE_DATA[traits.cuisine[r]!]!;
  const price = traits.priceRange[r]!;
  const count = 1 + pickWeighted(rng, ITEM_COUNT_CDF);
  let totalCents = 0;
  const lines = pickDishes(rng, c, count).map((d) => {
    const quantity = 1 + pickWeighted(rng, QUANTITY_CDF);
    const cents = dishPriceCents(seed, r, c, d, price);
    totalCents += quantity * cents;
    return { name: c.dishes[d]![0], quantity, price: cents / 100 };
  });
  const orderDate = iso(REFERENCE_DATE - Math.floor(rng() * 365 * 86_400) * 1000);
  // ~60 % rated, close to the restaurant's own rating.
  const rating = rng() < 0.6 ? clamp(Math.round(traits.rating10[r]! / 10 - 0.2 + 0.9 * gauss(rng)), 1, 5) : null;
  return {
    user: u,
    restaurant: r,
    orderDate,
    totalAmount: (totalCents / 100).toFixed(2),
    items: JSON.stringify(lines),
    rating,
  };
}
