/**
 * The pool on the machine's PostgreSQL: a connection that breaks while a transaction holds it
 * (its backend terminated, as in a server restart) fails that transaction as a connection
 * failure and is dropped; the process does not see an unhandled 'error' event, and the pool
 * serves the next statement on a fresh connection.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isConnectionFailure } from '../src/db/errors.ts';
import { createDb, type Db } from '../src/db/pool.ts';
import { sql } from '../src/db/sql.ts';
import { createLogger } from '../src/observability/logger.ts';
import { freshDatabase, type TestDatabase } from './helpers/db.ts';

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
    db = await createDb(
      {
        url: test.url,
        poolMax: 2,
        poolTimeoutMs: 5_000,
        statementTimeoutMs: 5_000,
        idleTimeoutMs: 10_000,
        maxConnectionAgeMs: 60_000,
        maxWaiting: 10,
        slowQueryMs: 60_000,
      },
      log,
    );
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
