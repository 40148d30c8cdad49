/**
 * The embedded PostgreSQL with DATA_DIR inside a fresh 0700 directory (what `mktemp -d` makes).
 * As root the server runs as the `postgres` user, which must be able to traverse every
 * directory above DATA_DIR: it is given the traverse bit there, never read permission.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/db/embedded.ts';

let dir: string | undefined;
let db: EmbeddedDatabase | undefined;

afterAll(async () => {
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('embedded PostgreSQL, DATA_DIR under a 0700 directory', () => {
  it('starts and answers SELECT 1; as root the parents gain traverse only', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tastematch-0700-'));
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const dataDir = join(dir, 'nested', 'data');
    db = await startEmbeddedPostgres(dataDir);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
    if (process.getuid?.() === 0) {
      for (const d of [dir, join(dir, 'nested'), dataDir]) {
        const mode = (await stat(d)).mode;
        expect(mode & 0o001).toBe(0o001);
      }
      // The mkdtemp directory stays unlistable by others.
      expect((await stat(dir)).mode & 0o777).toBe(0o701);
    }
  }, 120_000);
});
