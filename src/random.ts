/**
 * Seeded randomness: the same seed, the same numbers. The synthetic data (src/db/seed), the
 * offline embedding model's weights (src/ml/offline-model.ts) and the tests draw from here.
 *
 * Two generators, kept apart on purpose: `createRng` (sfc32, one named stream per table, so a
 * table's rows do not depend on another's or on the batch size) defines every seeded row, and
 * `prng` (mulberry32) defines every weight of the offline model; each sequence is what the
 * committed snapshots and expected results were computed from, so swapping one for the other
 * would change the data, not just the code.
 */

/** A uniform [0, 1) generator. */
export type Rng = () => number;

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

/** FNV-1a: a string (a stream or feature name) to 32 bits. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** sfc32 seeded through splitmix32: a uniform [0, 1) generator for `stream` under `seed` (seeds beyond 32 bits keep their high bits). */
export function createRng(seed: number, stream: string): Rng {
  const mix = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x27d4eb2d) ^ fnv1a(stream));
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

/** mulberry32: a small uniform [0, 1) generator from one 32-bit seed. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A stateless 32-bit hash of small integers: a value per key without storing it. */
export function hashInts(...values: number[]): number {
  let h = 0x9747b28c;
  for (const v of values) {
    h = Math.imul(h ^ (v | 0), 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
/** An integer in [min, max]. */
export const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
/** Roughly normal (Irwin–Hall of 4), mean 0, sd 1. */
export const gauss = (rng: Rng) => (rng() + rng() + rng() + rng() - 2) / Math.sqrt(1 / 3);

/** Weights to a cumulative distribution for `pickWeighted`. */
export function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let sum = 0;
  return weights.map((w) => {
    sum += w;
    return sum / total;
  });
}

/** An index drawn with the probabilities of `cdf` (from `cumulative`). */
export function pickWeighted(rng: Rng, cdf: readonly number[]): number {
  const u = rng();
  const i = cdf.findIndex((c) => u < c);
  return i === -1 ? cdf.length - 1 : i;
}
