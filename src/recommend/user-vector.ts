/**
 * The user's taste as a vector, as the original backend computed it, with its bugs
 * fixed: timezone-aware dates, and all-zero weights fall back instead of crashing.
 */
import type { OrderSignal } from '../db/queries/recommendations.ts';

const DAY_MS = 86_400_000;

/** recency (1 today, 0 after a year) × rating factor (rating / 5; 0.5 unrated). */
export function orderWeight(order: Pick<OrderSignal, 'order_date' | 'rating'>, now: Date): number {
  const days = Math.max(0, (now.getTime() - order.order_date.getTime()) / DAY_MS);
  const recency = Math.max(0, 1 - days / 365);
  const ratingFactor = order.rating === null ? 0.5 : order.rating / 5;
  return recency * ratingFactor;
}

/** L2-normalises in place; returns null for a zero vector. */
export function normalize(v: Float32Array): Float32Array | null {
  let norm = 0;
  for (const x of v) norm += x * x;
  if (norm === 0 || !Number.isFinite(norm)) return null;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i++) v[i]! /= norm;
  return v;
}

/**
 * Weighted mean of the ordered restaurants' vectors, normalised; null when no order
 * carries weight (all older than a year) or no ordered restaurant has an embedding.
 */
export function historyVector(
  orders: readonly OrderSignal[],
  vectors: ReadonlyMap<string, Float32Array>,
  dims: number,
  now: Date,
): Float32Array | null {
  const sum = new Float32Array(dims);
  let total = 0;
  for (const order of orders) {
    const v = vectors.get(order.restaurant_id);
    const w = orderWeight(order, now);
    if (!v || w === 0) continue;
    total += w;
    for (let d = 0; d < dims; d++) sum[d]! += w * v[d]!;
  }
  return total > 0 ? normalize(sum) : null;
}

/** The mean of some vectors, normalised (the onboarding vector); null when there are none. */
export function meanVector(vectors: Iterable<Float32Array>, dims: number): Float32Array | null {
  const sum = new Float32Array(dims);
  let n = 0;
  for (const v of vectors) {
    n++;
    for (let d = 0; d < dims; d++) sum[d]! += v[d]!;
  }
  return n > 0 ? normalize(sum) : null;
}

/** a + b, normalised; either may be null. */
export function blend(a: Float32Array | null, b: Float32Array | null): Float32Array | null {
  if (!a || !b) return a ?? b;
  const out = new Float32Array(a.length);
  for (let d = 0; d < a.length; d++) out[d] = a[d]! + b[d]!;
  return normalize(out);
}
