/**
 * The DateTime scalar writes exactly what `Date#toISOString` writes: for random instants over
 * years 0000–9999, around every month's and year's edges (leap years, centuries, 1970), and
 * outside that range (V8's own, six-digit years), and an invalid Date still throws.
 */
import { describe, expect, it } from 'vitest';
import { isoTimestamp } from '../src/schema/scalars.ts';

describe('DateTime serialization', () => {
  it('equals toISOString for 200,000 random instants of years 0000–9999', () => {
    const first = new Date('0000-01-01T00:00:00.000Z').getTime();
    const last = new Date('9999-12-31T23:59:59.999Z').getTime();
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let mismatches = 0;
    for (let i = 0; i < 200_000; i++) {
      const d = new Date(Math.floor(first + next() * (last - first)));
      if (isoTimestamp(d) !== d.toISOString()) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('equals toISOString at the edges of days, months, leap years and centuries', () => {
    const instants: number[] = [0, -1, 1, new Date('0000-01-01T00:00:00.000Z').getTime()];
    for (const year of [0, 1, 4, 99, 100, 400, 1600, 1899, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 2400, 9999]) {
      for (let month = 0; month < 12; month++) {
        const d = new Date(0);
        d.setUTCFullYear(year, month, 1);
        d.setUTCHours(0, 0, 0, 0);
        instants.push(d.getTime(), d.getTime() - 1, d.getTime() + 86_399_999);
      }
    }
    const inRange = instants.filter(
      (t) => t >= new Date('0000-01-01T00:00:00.000Z').getTime() && t <= new Date('9999-12-31T23:59:59.999Z').getTime(),
    );
    expect(inRange.length).toBeGreaterThan(600);
    for (const t of instants) {
      const d = new Date(t);
      expect(isoTimestamp(d), String(t)).toBe(d.toISOString());
    }
  });

  it('leaves years outside 0000–9999 to V8 and throws for an invalid Date, as toISOString does', () => {
    for (const s of ['+010000-01-01T00:00:00.000Z', '-000001-12-31T23:59:59.999Z', '+275760-09-13T00:00:00.000Z']) {
      expect(isoTimestamp(new Date(s))).toBe(s);
    }
    expect(() => isoTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });
});
