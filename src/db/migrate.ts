/**
 * Versioned SQL migrations: `src/db/migrations/NNNN_name.sql`, applied in order,
 * one transaction each, recorded in `schema_migrations` with a checksum.
 *
 * Uses `pg` directly rather than the query module: a migration file holds many statements
 * and DO blocks, which only the simple query protocol runs in one message, and
 * the query module (src/db/pool.ts) sends parameters, so the extended protocol. Transaction-scoped advisory locks make
 * two processes starting at once apply each migration exactly once (see migrate).
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
 *
 * Each step is one transaction that first takes a transaction-scoped advisory lock, then
 * checks `schema_migrations` and applies what is missing: two processes starting at once
 * apply each migration exactly once, and no lock outlives its transaction, so this also
 * works through PgBouncer in transaction mode (a session lock could be taken on one server
 * connection and released on another).
 * @throws Error when an applied migration's file has changed (checksum mismatch), or a migration fails
 *   (that migration is rolled back; earlier ones stay).
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'tastematch-migrate' });
  await client.connect();
  // A connection that breaks between statements fails the next one; without a listener its
  // 'error' event would end the process instead.
  client.on('error', () => {});
  const step = async (fn: () => Promise<void>) => {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      await fn();
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };
  try {
    const applied: string[] = [];
    const migrations = await listMigrations();
    await step(async () => {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query('SELECT 1 FROM schema_migrations LIMIT 1');
      if (rows.length === 0 && (await isOriginalDatabase(client))) {
        await adoptOriginal(client, migrations[0]!, log);
        applied.push(migrations[0]!.version);
      }
    });
    for (const m of migrations) {
      await step(async () => {
        const { rows } = await client.query<{ checksum: string }>(
          'SELECT checksum FROM schema_migrations WHERE version = $1',
          [m.version],
        );
        if (rows[0]) {
          if (rows[0].checksum !== m.checksum)
            throw new Error(`Migration ${m.version}_${m.name} changed after it was applied`);
          return;
        }
        log(`migrate: applying ${m.version}_${m.name}`);
        try {
          await client.query(m.sql);
        } catch (error) {
          throw new Error(`Migration ${m.version}_${m.name} failed: ${(error as Error).message}`);
        }
        await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          m.checksum,
        ]);
        applied.push(m.version);
      });
    }
    return { applied, current: migrations.at(-1)?.version ?? null };
  } finally {
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
 * Converts the original backend's schema in place into 0001's (migrations/adopt/alembic.sql)
 * and records 0001 as applied; runs inside migrate's first step, so it is all or nothing.
 */
async function adoptOriginal(client: pg.Client, init: Migration, log: (line: string) => void) {
  const revision = (await client.query<{ version_num: string }>('SELECT version_num FROM alembic_version')).rows[0];
  log(`migrate: adopting the original TasteMatch database (Alembic revision ${revision?.version_num ?? 'none'})`);
  const sql = await readFile(new URL('adopt/alembic.sql', MIGRATIONS_DIR), 'utf8');
  try {
    await client.query(sql);
  } catch (error) {
    throw new Error(`Adopting the original database failed (nothing was changed): ${(error as Error).message}`);
  }
  await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
    init.version,
    init.name,
    init.checksum,
  ]);
}

/** The newest migration version in the code (readiness compares it with the database's). */
export async function latestMigrationVersion(): Promise<string | null> {
  return (await listMigrations()).at(-1)?.version ?? null;
}
