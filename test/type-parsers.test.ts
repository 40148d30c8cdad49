/**
 * timestamptz as the machine's PostgreSQL writes it, under several TimeZone settings and with
 * every fraction length, reads as the same instant as pg's own parser gives (postgres-date), and
 * the milliseconds are the fraction's first three digits. What it does not read by position
 * (BC, years past 9999, ±infinity) goes to pg's parser.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimestamptz } from '../src/db/type-parsers.ts';
import { freshDatabase, type TestDatabase } from './helpers/db.ts';

const pgParser = pg.types.getTypeParser(1184 as never) as (v: string) => Date | number;

describe('timestamptz', () => {
  let test: TestDatabase;
  let client: pg.Client;

  beforeAll(async () => {
    test = await freshDatabase();
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await test?.drop();
  });

  /** The text PostgreSQL sends for each value (pg's text → string for the column, cast to text). */
  const texts = async (zone: string, values: string[]) => {
    await client.query(`SET TIME ZONE '${zone}'`);
    const { rows } = await client.query<{ t: string }>('SELECT unnest($1::timestamptz[])::text AS t', [values]);
    return rows.map((r) => r.t);
  };

  const VALUES = [
    '2026-10-28 22:17:32+00',
    '2026-10-28 22:17:32.5+00',
    '2026-10-28 22:17:32.029+00',
    '2026-10-28 22:17:32.123456+00',
    '2026-10-28 22:17:32.999999+00',
    '1999-12-31 23:59:59.9+00',
    '2024-02-29 00:00:00+00',
    '1970-01-01 00:00:00+00',
    '0100-03-01 12:00:00+00',
    '9999-12-31 23:59:59.999+00',
  ];

  for (const zone of [
    'UTC',
    'Europe/Lisbon',
    'America/Sao_Paulo',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Pacific/Chatham',
  ]) {
    it(`reads what PostgreSQL writes under TimeZone ${zone} as pg's parser does`, async () => {
      const written = await texts(zone, VALUES);
      expect(written).toHaveLength(VALUES.length);
      for (const [i, text] of written.entries()) {
        const ours = parseTimestamptz(text);
        expect(ours, text).toBeInstanceOf(Date);
        // The instant, to the millisecond (truncated) of what PostgreSQL holds.
        const expected = new Date(VALUES[i]!.replace(' ', 'T').replace(/\+00$/, 'Z'));
        expect((ours as Date).getTime(), text).toBe(expected.getTime());
        // pg's parser agrees but where its float arithmetic loses a millisecond (.029 → 28 ms).
        expect(Math.abs((ours as Date).getTime() - (pgParser(text) as Date).getTime()), text).toBeLessThanOrEqual(1);
      }
    });
  }

  it('takes the first three digits of the fraction as milliseconds', () => {
    expect((parseTimestamptz('2026-10-28 22:17:32.029+00') as Date).toISOString()).toBe('2026-10-28T22:17:32.029Z');
    expect((parseTimestamptz('2026-10-28 22:17:32.9999+00') as Date).toISOString()).toBe('2026-10-28T22:17:32.999Z');
    expect((parseTimestamptz('2026-10-28 22:17:32-03:30') as Date).toISOString()).toBe('2026-10-29T01:47:32.000Z');
    expect((parseTimestamptz('1900-01-01 00:00:00+00:19:32') as Date).toISOString()).toBe('1899-12-31T23:40:28.000Z');
  });

  it('leaves BC, far years and infinities to pg', async () => {
    const written = await texts('UTC', [
      '0044-03-15 12:00:00+00 BC',
      '12026-01-01 00:00:00+00',
      '0050-06-01 00:00:00+00',
    ]);
    for (const text of written) {
      expect((parseTimestamptz(text) as Date).getTime(), text).toBe((pgParser(text) as Date).getTime());
    }
    await client.query(`SET TIME ZONE 'UTC'`);
    const { rows } = await client.query<{ t: string }>(
      "SELECT unnest(ARRAY['infinity', '-infinity']::timestamptz[])::text AS t",
    );
    expect(rows.map((r) => parseTimestamptz(r.t))).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  });
});
