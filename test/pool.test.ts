/**
 * The pool on the machine's PostgreSQL: a connection that breaks while a transaction holds it
 * (its backend terminated, as in a server restart) fails that transaction as a connection
 * failure and is dropped; the process does not see an unhandled 'error' event, and the pool
 * serves the next statement on a fresh connection. Named statements (DB_PREPARED_STATEMENTS): the first N
 * distinct texts with parameters, and no more.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { isConnectionFailure } from '../src/db/errors.ts';
import { createDb, type Db, type DbOptions } from '../src/db/pool.ts';
import { sql } from '../src/db/sql.ts';
import { createLogger } from '../src/observability/logger.ts';
import { freshDatabase, type TestDatabase } from './helpers/db.ts';

/** A small pool on `url` with short bounds. */
const poolOptions = (url: string, more: Partial<DbOptions>): DbOptions => ({
  url,
  poolMax: 2,
  poolTimeoutMs: 5_000,
  statementTimeoutMs: 5_000,
  idleTimeoutMs: 10_000,
  maxConnectionAgeMs: 60_000,
  maxWaiting: 10,
  slowQueryMs: 60_000,
  ...more,
});

describe('a connection that breaks while checked out', () => {
  let test: TestDatabase;
  let db: Db;
  const lines: string[] = [];
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);

  beforeAll(async () => {
    test = await freshDatabase();
    const log = createLogger(
      'warn',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    db = await createDb(poolOptions(test.url, { poolMax: 2 }), log);
    process.prependListener('uncaughtException', onUncaught);
  });
  afterAll(async () => {
    process.removeListener('uncaughtException', onUncaught);
    await db?.end();
    await test?.drop();
  });

  it('fails its transaction as a connection failure, is dropped, and the pool goes on', async () => {
    const backendPids = async () =>
      (await test.sql<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).map(
        (r) => r.pid,
      );
    let held = 0;
    const failure = db.transaction(async (tx) => {
      held = Number(await tx.oneFirst(sql.unsafe`SELECT pg_backend_pid() AS pid`));
      await test.sql('SELECT pg_terminate_backend($1)', [held]);
      // The break arrives while the transaction holds the connection between two statements.
      for (let i = 0; i < 100 && (await backendPids()).includes(held); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      await tx.query(sql.unsafe`SELECT 1`);
    });
    const error = await failure.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(held).toBeGreaterThan(0);
    expect(isConnectionFailure(error), String(error)).toBe(true);
    expect(uncaught).toEqual([]);
    expect(lines.join('')).toMatch(/database connection error/);

    const next = Number(await db.oneFirst(sql.unsafe`SELECT pg_backend_pid() AS pid`));
    expect(next).not.toBe(held);
    expect(db.state().connections).toBeLessThanOrEqual(2);
  });
});

describe('prepared statements (DB_PREPARED_STATEMENTS)', () => {
  let test: TestDatabase;
  const open = (preparedStatements?: number) =>
    createDb(
      poolOptions(test.url, { poolMax: 1, ...(preparedStatements === undefined ? {} : { preparedStatements }) }),
      createLogger('silent'),
    );
  /** What the pool's one connection has prepared (a statement without parameters is not named). */
  const prepared = async (db: Db) =>
    (await db.any(sql.unsafe`SELECT statement FROM pg_prepared_statements ORDER BY prepare_time`)).map((r) =>
      String(r.statement),
    );
  const statements = [
    sql.unsafe`/* a */ SELECT ${1}::int AS n`,
    sql.unsafe`/* b */ SELECT ${2}::int AS n`,
    sql.unsafe`/* c */ SELECT ${3}::int AS n`,
  ];

  beforeAll(async () => {
    test = await freshDatabase();
  });
  afterAll(async () => {
    await test?.drop();
  });

  it('names the first N distinct texts with parameters, once each, and runs the rest unnamed', async () => {
    const db = await open(2);
    try {
      for (let round = 0; round < 3; round++) {
        for (const [i, s] of statements.entries()) expect(await db.oneFirst(s)).toBe(i + 1);
      }
      const texts = await prepared(db);
      expect(texts).toHaveLength(2);
      expect(texts[0]).toMatch(/\/\* a \*\//);
      expect(texts[1]).toMatch(/\/\* b \*\//);
    } finally {
      await db.end();
    }
  });

  it('DB_PREPARED_STATEMENTS: unset is the default, 0–1000 is taken, anything else refused', () => {
    expect(loadConfig({}).db.preparedStatements).toBeUndefined();
    expect(loadConfig({ DB_PREPARED_STATEMENTS: '0' }).db.preparedStatements).toBe(0);
    expect(loadConfig({ DB_PREPARED_STATEMENTS: '1000' }).db.preparedStatements).toBe(1000);
    for (const v of ['1001', '-1', '2.5', 'many']) {
      expect(() => loadConfig({ DB_PREPARED_STATEMENTS: v }), v).toThrow(/DB_PREPARED_STATEMENTS/);
    }
  });

  it('prepares by default, and nothing with 0', async () => {
    const byDefault = await open();
    const none = await open(0);
    try {
      for (const s of statements) await byDefault.oneFirst(s);
      for (const s of statements) await none.oneFirst(s);
      expect(await prepared(byDefault)).toHaveLength(3);
      expect(await prepared(none)).toEqual([]);
    } finally {
      await byDefault.end();
      await none.end();
    }
  });
});
