/**
 * Versioned SQL migrations: `src/db/migrations/NNNN_name.sql`, applied in order,
 * one transaction each, recorded in `schema_migrations` with a checksum.
 *
 * Uses `pg` directly rather than slonik: a migration file holds many statements
 * and DO blocks, which only the simple query protocol runs in one message, and
 * slonik always uses the extended protocol. A session advisory lock makes two
 * processes starting at once apply each migration exactly once.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/** Arbitrary constant shared by every gateway process: "tastematch migrate". */
const LOCK_KEY = 7_342_001;

type Migration = { version: string; name: string; sql: string; checksum: string };

export async function listMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
      return {
        version: file.slice(0, 4),
        name: file.slice(5, -4),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

type MigrateResult = { applied: string[]; current: string | null };

/**
 * Applies pending migrations to `databaseUrl`; idempotent.
 * @throws Error when an applied migration's file has changed (checksum mismatch), or a migration fails
 *   (that migration is rolled back; earlier ones stay).
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tastematch-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Map(
      (
        await client.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations')
      ).rows.map((r) => [r.version, r.checksum]),
    );
    const applied: string[] = [];
    const migrations = await listMigrations();
    if (done.size === 0 && (await isOriginalDatabase(client))) {
      await adoptOriginal(client, migrations[0]!, log);
      done.set(migrations[0]!.version, migrations[0]!.checksum);
      applied.push(migrations[0]!.version);
    }
    for (const m of migrations) {
      const checksum = done.get(m.version);
      if (checksum !== undefined) {
        if (checksum !== m.checksum) throw new Error(`Migration ${m.version}_${m.name} changed after it was applied`);
        continue;
      }
      log(`migrate: applying ${m.version}_${m.name}`);
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${m.version}_${m.name} failed: ${(error as Error).message}`);
      }
      applied.push(m.version);
    }
    return { applied, current: migrations.at(-1)?.version ?? null };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

/** A database made by the original Python backend: Alembic's table and its `users`, none of ours. */
async function isOriginalDatabase(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ alembic: string | null; users: string | null }>(
    `SELECT to_regclass('alembic_version')::text AS alembic, to_regclass('users')::text AS users`,
  );
  return rows[0]?.alembic != null && rows[0]?.users != null;
}

/**
 * Converts the original backend's schema in place into 0001's (migrations/adopt/alembic.sql,
 * one transaction: all or nothing) and records 0001 as applied.
 */
async function adoptOriginal(client: pg.Client, init: Migration, log: (line: string) => void) {
  const revision = (await client.query<{ version_num: string }>('SELECT version_num FROM alembic_version')).rows[0];
  log(`migrate: adopting the original TasteMatch database (Alembic revision ${revision?.version_num ?? 'none'})`);
  const sql = await readFile(new URL('adopt/alembic.sql', MIGRATIONS_DIR), 'utf8');
  await client.query('BEGIN');
  try {
    await client.query(sql);
    await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
      init.version,
      init.name,
      init.checksum,
    ]);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw new Error(`Adopting the original database failed (nothing was changed): ${(error as Error).message}`);
  }
}

/** The newest migration version in the code (readiness compares it with the database's). */
export async function latestMigrationVersion(): Promise<string | null> {
  return (await listMigrations()).at(-1)?.version ?? null;
}
