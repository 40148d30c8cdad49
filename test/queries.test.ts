/**
 * Query fixtures in the style of graphile/crystal: each `test/queries/<name>.test.graphql`
 * holds an operation and the `##` lines that assert what it must do; its recorded SQL and
 * response are kept beside it as `<name>.sql` and `<name>.json` snapshots.
 *
 *   ## viewer: demo                              send a token for the fixture user
 *   ## expect(queries).toHaveLength(3)           any vitest assertion, run after the operation, on:
 *   ## expect(queries[2]).toMatch(/"rating"/)      queries  the SQL of each statement at the wire
 *   ## expect(errors).toBeUndefined()              data, errors  the response body's
 *
 * A `##` line that is neither fails the fixture, so an assertion cannot be silently skipped.
 * `UPDATE_SNAPSHOTS=1 npm test` rewrites the snapshots locally; never in CI.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.ts';
import { insertOrders, insertRestaurants, insertUser } from './helpers/fixtures.ts';

const dir = new URL('./queries/', import.meta.url);
const update = process.env.UPDATE_SNAPSHOTS === '1';
if (update && process.env.CI === 'true') throw new Error('UPDATE_SNAPSHOTS must not be used in CI');

const files = (await readdir(dir)).filter((f) => f.endsWith('.test.graphql')).sort();

let t: TestApp;
let demoToken: string;

beforeAll(async () => {
  t = await createTestApp();
  const restaurantIds = await insertRestaurants(t.db, 30);
  const demo = await insertUser(t.db, 'demo@example.com', 'Demo');
  await insertOrders(t.db, demo, restaurantIds, 12);
  const other = await insertUser(t.db, 'other@example.com', 'Other');
  await insertOrders(t.db, other, restaurantIds, 3);
  demoToken = await t.tokenFor(demo);
});
afterAll(() => t?.close());

async function snapshot(file: URL, actual: string) {
  if (update) return writeFile(file, actual);
  const expected = await readFile(file, 'utf8').catch(() => null);
  expect(expected, `missing snapshot ${file.pathname}: run UPDATE_SNAPSHOTS=1 npm test locally`).not.toBeNull();
  expect(actual).toBe(expected);
}

describe('query fixtures', () => {
  it('exist', () => expect(files.length).toBeGreaterThan(0));

  for (const file of files) {
    it(file, async () => {
      const source = await readFile(new URL(file, dir), 'utf8');
      const lines = source
        .split('\n')
        .filter((l) => l.startsWith('##'))
        .map((l) => l.slice(2).trim());
      const viewer = lines.includes('viewer: demo');
      const assertions = lines.filter((l) => l.startsWith('expect('));
      expect(
        lines.filter((l) => l !== 'viewer: demo' && !l.startsWith('expect(')),
        `${file}: unknown ## lines`,
      ).toEqual([]);
      expect(assertions.length, `${file}: asserts nothing`).toBeGreaterThan(0);
      t.wire.reset();
      const response = await t.gql(source, {}, viewer ? { token: demoToken } : {});
      const statements = t.wire.statements;
      const scope = {
        expect,
        queries: statements.map((s) => s.sql),
        data: response.body.data,
        errors: response.body.errors,
      };
      for (const assertion of assertions) {
        // The fixture is ours, in the repository: its assertion lines are code, as crystal's are.
        const run = new Function(...Object.keys(scope), assertion) as (...args: unknown[]) => void;
        try {
          run(...Object.values(scope));
        } catch (error) {
          throw new Error(`${file}: ## ${assertion}\n${(error as Error).message}`);
        }
      }
      const base = file.replace(/\.test\.graphql$/, '');
      await snapshot(
        new URL(`${base}.sql`, dir),
        `${statements.map((s) => s.sql.trim().replace(/\n\s+/g, '\n  ')).join(';\n\n')};\n`,
      );
      await snapshot(new URL(`${base}.json`, dir), `${JSON.stringify(response.body, null, 2)}\n`);
    });
  }
});
