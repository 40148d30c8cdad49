/**
 * Query fixtures in the style of graphile/crystal: each `test/queries/<name>.test.graphql`
 * holds an operation and `##` assertion lines; its recorded SQL and response are kept
 * beside it as `<name>.sql` and `<name>.json` snapshots.
 *
 *   ## expect(queries).toHaveLength(3)    statements at the wire
 *   ## viewer: demo                       send a token for the fixture user
 *
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
      const directives = source.split('\n').filter((l) => l.startsWith('##'));
      t.wire.reset();
      const viewer = directives.some((d) => /## viewer: demo/.test(d));
      const response = await t.gql(source, {}, viewer ? { token: demoToken } : {});
      const statements = t.wire.statements;
      for (const d of directives) {
        const count = /expect\(queries\)\.toHaveLength\((\d+)\)/.exec(d);
        if (count) expect(statements, `${file}: statements`).toHaveLength(Number(count[1]));
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
