/**
 * Deterministic synthetic data: restaurants, users (the first is the demo user) and orders.
 *
 * Same options → same rows (but for the other users' unknowable password hash, drawn per run):
 * every value comes from a seeded PRNG (one stream per table, so
 * the batch size never changes the data) and dates count back from a fixed reference date.
 * Rows are generated, written and dropped one batch at a time (one transaction each), so
 * memory holds one batch plus a few bytes per restaurant and user, never a whole table.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashPassword } from '../auth/passwords.ts';
import { DEMO_EMAIL, DEMO_PASSWORD } from './demo-account.ts';
import { ANALYZE_SEEDED, INSERT_ORDERS, INSERT_RESTAURANTS, UPSERT_USERS } from './queries/seed.ts';

export type SeedOptions = {
  restaurants: number;
  users: number;
  orders: number;
  batchSize: number;
  seed: number;
  onProgress?: (p: { table: string; done: number; total: number }) => void;
  /**
   * Default true: the demo user (DEMO_EMAIL) signs in with DEMO_PASSWORD. false: it gets an
   * unknowable password like every other seeded user (production).
   */
  demoLogin?: boolean;
  /** Called once per committed restaurant batch with the new rows (the server and `npm run seed` embed them). */
  onRestaurantBatch?: (
    rows: { id: string; name: string; cuisineType: string; description: string; location: string }[],
  ) => Promise<void>;
};

/** Orders are dated in the 365 days before this instant, not before `Date.now()`, so a seed is reproducible. */
const REFERENCE_DATE = Date.parse('2026-11-01T12:00:00Z');
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32 (small, fast, good enough for synthetic data).

type Rng = () => number;

function splitmix32(state: number): () => number {
  let s = state | 0;
  return () => {
    s = (s + 0x9e3779b9) | 0;
    let t = s ^ (s >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

/** FNV-1a: turns a stream name into 32 bits. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A uniform [0, 1) generator for `stream` under `seed` (seeds beyond 32 bits keep their high bits). */
function createRng(seed: number, stream: string): Rng {
  const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x27d4eb2d) ^ hashString(stream));
  let a = mix();
  let b = mix();
  let c = mix();
  let d = mix();
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // sfc32's first outputs are poorly mixed
  return next;
}

/** A stateless 32-bit hash of small integers: per-restaurant dish prices without storing them. */
function hashInts(...values: number[]): number {
  let h = 0x9747b28c;
  for (const v of values) {
    h = Math.imul(h ^ (v | 0), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const clamp = (x: number, min: number, max: number) => Math.min(max, Math.max(min, x));
/** Roughly normal (Irwin–Hall of 4), mean 0, sd 1. */
const gauss = (rng: Rng) => (rng() + rng() + rng() + rng() - 2) / Math.sqrt(1 / 3);

// ---------------------------------------------------------------------------------------------
// Vocabulary. `label` is how the cuisine reads in a sentence; its lower case is cuisine_type.

type Dish = readonly [name: string, basePrice: number];
type Cuisine = {
  type: string;
  label: string;
  prefixes: readonly string[];
  cores: readonly string[];
  dishes: readonly Dish[];
};

const CUISINE_DATA: readonly Cuisine[] = [
  {
    type: 'italian',
    label: 'Italian',
    prefixes: ['Trattoria', 'Osteria', 'Ristorante', 'Pizzeria', 'Cucina', 'Enoteca'],
    cores: ['Bella Nonna', 'da Luigi', 'Il Forno', 'La Pergola', 'Toscana', 'Roma', 'Vesuvio', 'Al Dente'],
    dishes: [
      ['Margherita pizza', 12],
      ['Spaghetti carbonara', 15],
      ['Lasagna alla bolognese', 16],
      ['Risotto ai funghi', 17],
      ['Ossobuco', 24],
      ['Gnocchi al pesto', 14],
      ['Tiramisu', 7],
      ['Bruschetta', 8],
      ['Saltimbocca alla romana', 22],
      ["Penne all'arrabbiata", 13],
      ['Panna cotta', 7],
    ],
  },
  {
    type: 'japanese',
    label: 'Japanese',
    prefixes: ['Sushi', 'Izakaya', 'Ramen', 'Yakitori', 'Washoku', 'Kissaten'],
    cores: ['Kaze', 'Hana', 'Sakura', 'Tsuki', 'Yume', 'Hikari', 'Komorebi', 'Sora', 'Hoshi', 'Nami'],
    dishes: [
      ['Salmon nigiri', 9],
      ['Tuna sashimi', 16],
      ['Tonkotsu ramen', 15],
      ['Chicken katsu curry', 14],
      ['Tempura udon', 13],
      ['Gyoza', 7],
      ['Miso soup', 4],
      ['Chicken teriyaki', 14],
      ['Okonomiyaki', 12],
      ['Takoyaki', 8],
      ['Matcha mochi', 6],
    ],
  },
  {
    type: 'brazilian',
    label: 'Brazilian',
    prefixes: ['Churrascaria', 'Boteco', 'Cantina', 'Casa', 'Empório', 'Cozinha'],
    cores: ['Gaúcha', 'do Zé', 'Mineira', 'Bahia', 'Copacabana', 'Sabiá', 'Ipê', 'Dona Flor', 'Sertão', 'Pampa'],
    dishes: [
      ['Feijoada', 18],
      ['Picanha', 26],
      ['Pão de queijo', 6],
      ['Coxinha', 5],
      ['Moqueca de peixe', 22],
      ['Brigadeiro', 4],
      ['Acarajé', 9],
      ['Escondidinho', 15],
      ['Pastel de feira', 6],
      ['Vatapá', 16],
      ['Açaí bowl', 10],
    ],
  },
  {
    type: 'mexican',
    label: 'Mexican',
    prefixes: ['Taquería', 'Cantina', 'Cocina', 'Casa', 'Antojitos', 'Fonda'],
    cores: ['El Sol', 'Oaxaca', 'La Catrina', 'Frida', 'Los Compadres', 'Puebla', 'Mi Abuela', 'Agave Azul', 'Jalisco'],
    dishes: [
      ['Tacos al pastor', 10],
      ['Chicken enchiladas', 13],
      ['Guacamole with totopos', 8],
      ['Chiles rellenos', 14],
      ['Carnitas burrito', 12],
      ['Pozole rojo', 13],
      ['Quesadilla', 9],
      ['Mole poblano', 16],
      ['Elote', 5],
      ['Churros', 6],
      ['Cochinita pibil', 15],
    ],
  },
  {
    type: 'chinese',
    label: 'Chinese',
    prefixes: ['Golden', 'Jade', 'Red Lantern', 'Lucky', 'Imperial', 'Dragon'],
    cores: ['Palace', 'Garden', 'Dumpling House', 'Noodle Bar', 'Pavilion', 'Wok', 'Tea House', 'Dynasty', 'Lotus'],
    dishes: [
      ['Kung pao chicken', 14],
      ['Peking duck', 32],
      ['Mapo tofu', 12],
      ['Xiaolongbao', 10],
      ['Char siu bao', 8],
      ['Sweet and sour pork', 14],
      ['Dan dan noodles', 12],
      ['Hot and sour soup', 7],
      ['Wonton soup', 8],
      ['Egg fried rice', 9],
      ['Spring rolls', 6],
    ],
  },
  {
    type: 'indian',
    label: 'Indian',
    prefixes: ['Tandoori', 'Spice', 'Masala', 'Taj', 'Bombay', 'Royal'],
    cores: ['Nights', 'Route', 'Palace', 'Garden', 'Darbar', 'Mahal', 'Junction', 'Tiffin', 'Bazaar', 'Saffron'],
    dishes: [
      ['Butter chicken', 16],
      ['Chicken tikka masala', 16],
      ['Lamb rogan josh', 18],
      ['Palak paneer', 14],
      ['Chana masala', 12],
      ['Masala dosa', 11],
      ['Vegetable biryani', 14],
      ['Samosas', 6],
      ['Garlic naan', 4],
      ['Dal makhani', 12],
      ['Mango lassi', 5],
    ],
  },
  {
    type: 'thai',
    label: 'Thai',
    prefixes: ['Baan', 'Krua', 'Siam', 'Thai', 'Khao', 'Ruen'],
    cores: ['Orchid', 'Lotus', 'Basil', 'Chiang Mai', 'Lemongrass', 'Tamarind', 'Jasmine', 'Isaan', 'Sukhothai'],
    dishes: [
      ['Pad thai', 13],
      ['Green curry', 14],
      ['Tom yum goong', 12],
      ['Som tam', 9],
      ['Massaman curry', 15],
      ['Pad kra pao', 12],
      ['Tom kha gai', 11],
      ['Khao soi', 14],
      ['Panang curry', 14],
      ['Mango sticky rice', 7],
      ['Satay skewers', 9],
    ],
  },
  {
    type: 'french',
    label: 'French',
    prefixes: ['Bistro', 'Brasserie', 'Café', 'Chez', 'Maison', 'La Table de'],
    cores: ['Marcel', 'Lyon', 'Provence', 'Margaux', 'Montmartre', 'Sophie', 'Gustave', 'Colette', 'Antoine'],
    dishes: [
      ['Coq au vin', 24],
      ['Boeuf bourguignon', 26],
      ['Bouillabaisse', 30],
      ['Ratatouille', 16],
      ['Croque monsieur', 12],
      ['French onion soup', 10],
      ['Duck confit', 27],
      ['Quiche lorraine', 13],
      ['Crème brûlée', 9],
      ['Steak frites', 25],
      ['Tarte tatin', 9],
    ],
  },
  {
    type: 'american',
    label: 'American',
    prefixes: ['The', 'Big', 'Main Street', 'Liberty', 'Blue Plate', 'Route 66'],
    cores: ['Diner', 'Grill', 'Smokehouse', 'Burger Joint', 'Tavern', 'Chophouse', 'Roadhouse', 'Bar & Grill', 'Shack'],
    dishes: [
      ['Cheeseburger', 14],
      ['Buffalo wings', 12],
      ['Pulled pork sandwich', 14],
      ['Mac and cheese', 10],
      ['Clam chowder', 9],
      ['Fried chicken', 15],
      ['Caesar salad', 11],
      ['Philly cheesesteak', 14],
      ['Baby back ribs', 24],
      ['Apple pie', 7],
      ['Buttermilk pancakes', 10],
    ],
  },
  {
    type: 'arabic',
    label: 'Arabic',
    prefixes: ['Al', 'Beit', 'Bab', 'Dar', 'Souk', 'Layali'],
    cores: ['Andalus', 'Zaatar', 'Beirut', 'Damascus', 'Petra', 'Yasmine', 'Baalbek', 'Jaffa', 'Zaytoun', 'Nour'],
    dishes: [
      ['Hummus', 7],
      ['Falafel plate', 11],
      ['Chicken shawarma', 12],
      ['Tabbouleh', 8],
      ['Baba ghanoush', 7],
      ['Lamb kofta', 16],
      ['Fattoush', 8],
      ['Mansaf', 22],
      ['Kibbeh', 10],
      ["Manakish za'atar", 8],
      ['Baklava', 6],
    ],
  },
  {
    type: 'vegetarian',
    label: 'vegetarian',
    prefixes: ['Green', 'Leaf', 'Root', 'Sprout', 'Harvest', 'Garden'],
    cores: ['& Co.', 'Kitchen', 'Table', 'Bowl', 'Pantry', 'House', 'Collective', 'Canteen', 'Social'],
    dishes: [
      ['Buddha bowl', 13],
      ["Lentil shepherd's pie", 14],
      ['Mushroom risotto', 16],
      ['Halloumi burger', 14],
      ['Quinoa salad', 12],
      ['Vegetable lasagna', 15],
      ['Sweet potato curry', 13],
      ['Caprese salad', 11],
      ['Black bean burger', 13],
      ['Stuffed peppers', 13],
      ['Carrot cake', 7],
    ],
  },
  {
    type: 'korean',
    label: 'Korean',
    prefixes: ['Seoul', 'Hanok', 'Gangnam', 'Busan', 'Jeju', 'Arirang'],
    cores: ['Garden', 'House', 'BBQ', 'Table', 'Pocha', 'Sikdang', 'Grill', 'Noodle Bar', 'Kitchen', 'Alley'],
    dishes: [
      ['Bibimbap', 14],
      ['Bulgogi', 18],
      ['Kimchi jjigae', 13],
      ['Korean fried chicken', 17],
      ['Japchae', 13],
      ['Tteokbokki', 10],
      ['Samgyeopsal', 22],
      ['Sundubu jjigae', 13],
      ['Haemul pajeon', 14],
      ['Galbi', 26],
      ['Kimbap', 9],
    ],
  },
];

/** The 12 seeded cuisine_type values. */
export const CUISINES: readonly string[] = CUISINE_DATA.map((c) => c.type);

/** Relative frequency of each cuisine after the first 12 restaurants (which cover one each). */
const CUISINE_WEIGHTS = [14, 10, 6, 9, 10, 9, 7, 7, 12, 5, 5, 6];
const CUISINE_CDF = cumulative(CUISINE_WEIGHTS);

const PRICE_RANGES = ['low', 'medium', 'high'] as const;
const PRICE_CDF = cumulative([35, 45, 20]);
/** Menu prices scale with the restaurant's price range. */
const PRICE_FACTOR = [0.75, 1, 1.6];

const CITIES: readonly { city: string; hoods: readonly string[] }[] = [
  { city: 'São Paulo', hoods: ['Pinheiros', 'Vila Madalena', 'Jardins', 'Moema', 'Liberdade', 'Itaim Bibi'] },
  { city: 'Lisbon', hoods: ['Alfama', 'Bairro Alto', 'Chiado', 'Príncipe Real', 'Belém'] },
  { city: 'New York', hoods: ['SoHo', 'Williamsburg', 'Harlem', 'East Village', 'Astoria', 'Chelsea'] },
  { city: 'London', hoods: ['Shoreditch', 'Soho', 'Camden', 'Brixton', 'Notting Hill', 'Clerkenwell'] },
  { city: 'Berlin', hoods: ['Kreuzberg', 'Mitte', 'Prenzlauer Berg', 'Neukölln', 'Friedrichshain'] },
  { city: 'Toronto', hoods: ['Kensington Market', 'Yorkville', 'Leslieville', 'The Annex'] },
  { city: 'Melbourne', hoods: ['Fitzroy', 'Carlton', 'Collingwood', 'St Kilda'] },
  { city: 'Mexico City', hoods: ['Roma Norte', 'Condesa', 'Coyoacán', 'Polanco'] },
];

/** 0–3 sentences after the opener (1–4 in all). */
const EXTRA_SENTENCES_CDF = cumulative([30, 35, 25, 10]);
/** 1–4 lines per order, and 1–3 of each. */
const ITEM_COUNT_CDF = cumulative([40, 32, 18, 10]);
const QUANTITY_CDF = cumulative([75, 19, 6]);

const VIBES = ['cozy', 'family-run', 'lively', 'modern', 'casual', 'relaxed', 'bustling', 'intimate'];
const KINDS = ['restaurant', 'spot', 'kitchen', 'eatery', 'dining room'];

// biome-ignore format: a word list
const FIRST_NAMES = [
  'Ana', 'Bruno', 'Carla', 'Daniel', 'Elena', 'Felipe', 'Grace', 'Hiro', 'Isabel', 'James', 'Kenji', 'Laura',
  'Mateus', 'Nadia', 'Omar', 'Priya', 'Quentin', 'Rosa', 'Samuel', 'Tanvi', 'Ursula', 'Victor', 'Wen', 'Ximena',
  'Yusuf', 'Zoe', 'Amara', 'Lucas', 'Mei', 'Rafael', 'Sofia', 'Thomas', 'Aisha', 'Diego', 'Emma', 'Jun',
];
// biome-ignore format: a word list
const LAST_NAMES = [
  'Silva', 'Santos', 'Müller', 'Tanaka', 'Kim', 'Garcia', 'Rossi', 'Dubois', 'Smith', 'Haddad', 'Patel', 'Nguyen',
  'Costa', 'Oliveira', 'Schmidt', 'Sato', 'Park', 'Lopez', 'Bianchi', 'Martin', 'Johnson', 'Khalil', 'Sharma',
  'Chen', 'Wang', 'Ferreira', 'Yamamoto', 'Lee', 'Hernandez', 'Moreau', 'Brown', 'Nasser', 'Gupta', 'Li',
];

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => {
    sum += w;
    return sum / total;
  });
}

function pickWeighted(rng: Rng, cdf: readonly number[]): number {
  const u = rng();
  const i = cdf.findIndex((c) => u < c);
  return i === -1 ? cdf.length - 1 : i;
}

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

// ---------------------------------------------------------------------------------------------
// Password hash

/**
 * The demo user's argon2id hash of DEMO_PASSWORD; the salt comes from the seed, so the row is
 * reproducible.
 */
function demoPasswordHash(seed: number): Promise<string> {
  const salt = createHash('sha256').update(`tastematch-seed-salt:${seed}`).digest().subarray(0, 16);
  return hashPassword(DEMO_PASSWORD, salt);
}

/**
 * Every other seeded user: ONE argon2id hash (same parameters as a real account, so a login
 * costs the same) of 32 random bytes drawn for this run and never kept: nobody knows the
 * password. Hashing each user's password would dominate the seed's time.
 */
function unknowablePasswordHash(): Promise<string> {
  return hashPassword(randomBytes(32).toString('base64'));
}

// ---------------------------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString();

/** Restaurants and users existed 400–1000 days before the reference date (before any order). */
const createdAt = (rng: Rng) => iso(REFERENCE_DATE - Math.floor(((400 + rng() * 600) * DAY_MS) / 1000) * 1000);

function validate(opts: SeedOptions) {
  for (const key of ['restaurants', 'users', 'orders', 'seed'] as const) {
    if (!Number.isSafeInteger(opts[key]) || opts[key] < 0) throw new Error(`seed: ${key} must be an integer ≥ 0`);
  }
  if (!Number.isSafeInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > 10_000) {
    throw new Error('seed: batchSize must be an integer from 1 to 10000');
  }
  if (opts.orders > 0 && (opts.restaurants === 0 || opts.users === 0)) {
    throw new Error('seed: orders need at least one restaurant and one user');
  }
}

/**
 * Adds deterministic synthetic data to a migrated database through one connection:
 * restaurants, then users (user 1 is DEMO_EMAIL / DEMO_PASSWORD unless `demoLogin` is false; the
 * others have unknowable passwords), then orders, in batches of
 * `batchSize` rows with one transaction per batch, then ANALYZE. Rows are added, never replaced;
 * a user whose email already exists is reused (not modified), so seeding twice does not fail.
 * @returns the rows written per table (users: inserted or reused).
 * @throws Error on invalid options, or when a batch fails (earlier batches stay committed).
 */
export async function seedDatabase(
  databaseUrl: string,
  opts: SeedOptions,
): Promise<{ restaurants: number; users: number; orders: number }> {
  validate(opts);
  const { batchSize, seed } = opts;
  const progress = opts.onProgress ?? (() => {});
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tastematch-seed' });
  await client.connect();

  /** Runs `fn` in its own transaction: a failed batch leaves nothing behind. */
  const transaction = async <T>(fn: () => Promise<T>): Promise<T> => {
    await client.query('BEGIN');
    try {
      const result = await fn();
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };

  try {
    // What orders need of each restaurant, a few bytes each instead of the rows.
    const R = opts.restaurants;
    const restaurantIds = new Float64Array(R);
    const restaurantCuisine = new Uint8Array(R);
    const restaurantPrice = new Uint8Array(R);
    const restaurantRating10 = new Uint8Array(R);

    const rr = createRng(seed, 'restaurants');
    for (let start = 0; start < R; start += batchSize) {
      const n = Math.min(batchSize, R - start);
      const cols = { name: [] as string[], cuisine: [] as string[], desc: [] as string[], rating: [] as string[] };
      const more = { price: [] as string[], location: [] as string[], created: [] as string[] };
      for (let i = start; i < start + n; i++) {
        // The first 12 cover every cuisine once, so any seed of ≥ 12 restaurants has all of them.
        const ci = i < CUISINE_DATA.length ? i : pickWeighted(rr, CUISINE_CDF);
        const c = CUISINE_DATA[ci]!;
        const price = pickWeighted(rr, PRICE_CDF);
        const place = pick(rr, CITIES);
        const hood = pick(rr, place.hoods);
        const rating10 = restaurantRating(rr);
        restaurantCuisine[i] = ci;
        restaurantPrice[i] = price;
        restaurantRating10[i] = rating10;
        cols.name.push(`${pick(rr, c.prefixes)} ${pick(rr, c.cores)}`);
        cols.cuisine.push(c.type);
        cols.desc.push(describeRestaurant(rr, c, hood, price));
        cols.rating.push((rating10 / 10).toFixed(1));
        more.price.push(PRICE_RANGES[price]!);
        more.location.push(`${hood}, ${place.city}`);
        more.created.push(createdAt(rr));
      }
      const { rows } = await transaction(() =>
        client.query<{ id: string }>(INSERT_RESTAURANTS, [
          cols.name,
          cols.cuisine,
          cols.desc,
          cols.rating,
          more.price,
          more.location,
          more.created,
        ]),
      );
      // Identity values are drawn in row order; sorting makes index → id independent of RETURNING order.
      const ids = rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b));
      ids.forEach((id, k) => {
        restaurantIds[start + k] = Number(id);
      });
      if (opts.onRestaurantBatch) {
        await opts.onRestaurantBatch(
          ids.map((id, k) => ({
            id,
            name: cols.name[k]!,
            cuisineType: cols.cuisine[k]!,
            description: cols.desc[k]!,
            location: more.location[k]!,
          })),
        );
      }
      progress({ table: 'restaurants', done: start + n, total: R });
    }

    const U = opts.users;
    const userIds = new Float64Array(U);
    const otherHash = U > 1 || (U > 0 && opts.demoLogin === false) ? await unknowablePasswordHash() : '';
    const demoHash = U > 0 && opts.demoLogin !== false ? await demoPasswordHash(seed) : otherHash;
    const ur = createRng(seed, 'users');
    const emailOf = (i: number) => (i === 0 ? DEMO_EMAIL : `user${i + 1}@example.com`);
    for (let start = 0; start < U; start += batchSize) {
      const n = Math.min(batchSize, U - start);
      const emails: string[] = [];
      const names: string[] = [];
      const created: string[] = [];
      const hashes: string[] = [];
      for (let i = start; i < start + n; i++) {
        emails.push(emailOf(i));
        hashes.push(i === 0 ? demoHash : otherHash);
        const name = `${pick(ur, FIRST_NAMES)} ${pick(ur, LAST_NAMES)}`;
        names.push(i === 0 ? 'Demo User' : name);
        created.push(createdAt(ur));
      }
      const { rows } = await transaction(() =>
        client.query<{ id: string; email: string }>(UPSERT_USERS, [emails, names, hashes, created]),
      );
      // By email: reused users keep their old ids, so row order says nothing.
      const byEmail = new Map(rows.map((r) => [r.email, Number(r.id)]));
      for (let i = start; i < start + n; i++) userIds[i] = byEmail.get(emailOf(i))!;
      progress({ table: 'users', done: start + n, total: U });
    }

    const O = opts.orders;
    const or = createRng(seed, 'orders');
    for (let start = 0; start < O; start += batchSize) {
      const n = Math.min(batchSize, O - start);
      const userCol: number[] = [];
      const restaurantCol: number[] = [];
      const dates: string[] = [];
      const totals: string[] = [];
      const items: string[] = [];
      const ratings: (number | null)[] = [];
      for (let i = start; i < start + n; i++) {
        // Skewed volume: low indexes are the heavy users and popular restaurants (Zipf-like u²).
        // Every 20th order is the demo user's, so it has ≥ 50 orders from 1000 orders on.
        const u = i % 20 === 0 ? 0 : Math.floor(U * or() ** 2);
        const r = Math.floor(R * or() ** 2);
        const c = CUISINE_DATA[restaurantCuisine[r]!]!;
        const price = restaurantPrice[r]!;
        const count = 1 + pickWeighted(or, ITEM_COUNT_CDF);
        let totalCents = 0;
        const lines = pickDishes(or, c, count).map((d) => {
          const quantity = 1 + pickWeighted(or, QUANTITY_CDF);
          const cents = dishPriceCents(seed, r, c, d, price);
          totalCents += quantity * cents;
          return { name: c.dishes[d]![0], quantity, price: cents / 100 };
        });
        userCol.push(userIds[u]!);
        restaurantCol.push(restaurantIds[r]!);
        dates.push(iso(REFERENCE_DATE - Math.floor(or() * 365 * 86_400) * 1000));
        totals.push((totalCents / 100).toFixed(2));
        items.push(JSON.stringify(lines));
        // ~60 % rated, close to the restaurant's own rating.
        ratings.push(or() < 0.6 ? clamp(Math.round(restaurantRating10[r]! / 10 - 0.2 + 0.9 * gauss(or)), 1, 5) : null);
      }
      await transaction(() => client.query(INSERT_ORDERS, [userCol, restaurantCol, dates, totals, items, ratings]));
      progress({ table: 'orders', done: start + n, total: O });
    }

    await client.query(ANALYZE_SEEDED);
    return { restaurants: R, users: U, orders: O };
  } finally {
    await client.end();
  }
}
