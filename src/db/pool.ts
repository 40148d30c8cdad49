/**
 * The one database handle of a process: a `pg` pool behind a bounded gate, running the
 * queries that src/db/queries builds with slonik's `sql` tag (src/db/sql.ts).
 *
 * Why `pg` directly and not slonik's pool (slonik stays for its tag): measured under load
 * (docs/BENCHMARKS.md, profile), slonik's query path — its interceptor chain, the
 * AsyncLocalStorage of its transaction context, an OpenTelemetry span and a connection
 * state machine per query — cost ~8 % of a small request's CPU, more than the SQL work
 * itself, and its pool needed two repairs of ours (a dead connection kept forever, no
 * maximum age) that pg-pool does not.
 *
 * Choices, each to keep statements-per-request honest (counted at the wire) and memory bounded:
 * - No reset on release (no `DISCARD ALL`): the gateway never sets session state (no session
 *   `SET`, no temp tables, no LISTEN), so there is nothing to discard.
 * - Named statements (`DB_PREPARED_STATEMENTS`, the first 100 distinct texts with parameters):
 *   PostgreSQL parses and plans each once per connection and then runs its cached plan. Under
 *   benchmark Q2 its CPU per request went 0.35–0.39 → 0.13–0.16 ms (planning the page and its
 *   join was most of it), req/s +10 %; the same round trips (Parse rides with Bind/Execute). A
 *   bounded set, so each connection holds at most that many. PgBouncer in transaction mode
 *   needs 1.21+ with `max_prepared_statements` for them, or DB_PREPARED_STATEMENTS=0.
 * - Statement and idle-in-transaction timeouts travel as startup parameters, never as `SET`
 *   statements. Reads never open a transaction.
 * - No ping on checkout: a broken connection fails its query and pg-pool destroys it; the
 *   next acquire opens a fresh one. `DB_MAX_CONNECTION_AGE_MS` recycles connections
 *   (pg-pool's `maxLifetimeSeconds`).
 * - Acquire timeout and a bounded wait queue: see src/backpressure/gate.ts.
 */
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { ZodTypeAny, z } from 'zod';
import { Gate } from '../backpressure/gate.ts';
import type { Logger } from '../observability/logger.ts';
import { rowBytes, sqlBytesRead, sqlRowsRead, sqlStatements, watchPool } from '../observability/metrics.ts';
import { operationNames, type RequestScope } from '../observability/request-scope.ts';
import { DataIntegrityError, isConnectionFailure, NotFoundError, RowValidationError } from './errors.ts';
import { inputSqlState } from './input-errors.ts';
import { type QuerySqlToken, sql } from './sql.ts';
import { getTypeParser } from './type-parsers.ts';

export type DbOptions = {
  url: string;
  poolMax: number;
  poolTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnectionAgeMs: number;
  maxWaiting: number;
  slowQueryMs: number;
  /**
   * Check every row against its query's zod type (`sql.type(Row)`); default true. The SQL
   * already fixes each column's type (casts, type parsers), so this only catches a query and
   * its declared type drifting apart: worth it in development and tests, not on every row in
   * production, where it cost ~5 % of a request's CPU (zod's object parsing, per row).
   */
  validateRows?: boolean;
  /**
   * The most distinct statements the process prepares (named statements, planned once per
   * connection, then run with PostgreSQL's cached plan); later ones run unnamed. 0: none (behind
   * PgBouncer before 1.21 in transaction mode). Default DEFAULT_PREPARED_STATEMENTS.
   */
  preparedStatements?: number;
};

/** DB_PREPARED_STATEMENTS' default: the gateway's hot statements are a few dozen texts. */
export const DEFAULT_PREPARED_STATEMENTS = 100;

type Row<T extends ZodTypeAny> = z.infer<T>;
type Query<T extends ZodTypeAny> = QuerySqlToken<T>;

/** Queries on the pool or inside a transaction. */
export type Queries = {
  any<T extends ZodTypeAny>(query: Query<T>): Promise<readonly Row<T>[]>;
  /** @throws DataIntegrityError when more than one row comes back */
  maybeOne<T extends ZodTypeAny>(query: Query<T>): Promise<Row<T> | null>;
  /** @throws NotFoundError (no row), DataIntegrityError (more than one) */
  one<T extends ZodTypeAny>(query: Query<T>): Promise<Row<T>>;
  /** The first column of the one row. @throws like `one` */
  oneFirst<T extends ZodTypeAny>(query: Query<T>): Promise<Row<T>[keyof Row<T>]>;
  /** Any statement; rows are not type-checked. */
  query(query: Query<ZodTypeAny>): Promise<{ rows: readonly Record<string, unknown>[]; rowCount: number }>;
};

/** The query surface the rest of the code uses (src/db/queries take a `Db`). */
export type Db = Omit<Queries, 'query'> & {
  /**
   * Streams a large result through a cursor (100 rows per fetch): memory stays at one
   * fetch whatever the row count. `onRow` runs for each row, in order.
   */
  stream<T extends ZodTypeAny>(query: Query<T>, onRow: (row: Row<T>) => void): Promise<void>;
  /** Runs `fn` in one transaction (BEGIN … COMMIT: two extra round trips; writes only). */
  transaction<R>(fn: (tx: Queries) => Promise<R>): Promise<R>;
  /**
   * The same pool, counting each statement into `scope` (the request log's statements, rows and
   * bytes, and the slow-query log's operation): the handle a request's context, loaders and
   * services use. Passed explicitly rather than found through AsyncLocalStorage, whose promise
   * hooks cost ~15 % of a small request's CPU on Node 20 (measured under the benchmark's Q1).
   */
  scoped(scope: RequestScope): Db;
  /** The process's handle this one was scoped from (itself when not scoped): a stable key for per-database caches. */
  readonly root: Db;
  state(): { active: number; waiting: number; size: number; idle: number; connections: number };
  end(): Promise<void>;
};

/** slonik's tag numbers placeholders `$slonik_N` (so `$1` in text is never taken for one); PostgreSQL's are `$N`. */
const toPostgresText = (sql: string) => sql.replaceAll('$slonik_', '$');

/**
 * `toPostgresText`, remembered for the first MAX_REMEMBERED_TEXTS texts: most statements are one of
 * a few shapes reused as they are (src/db/statement-shapes.ts), whose text is looked up, not rebuilt.
 */
const MAX_REMEMBERED_TEXTS = 1_000;
const postgresTexts = new Map<string, string>();
const postgresText = (sql: string) => {
  let text = postgresTexts.get(sql);
  if (text === undefined) {
    text = toPostgresText(sql);
    if (postgresTexts.size < MAX_REMEMBERED_TEXTS) postgresTexts.set(sql, text);
  }
  return text;
};

type Runner = (text: string, values: readonly unknown[]) => Promise<pg.QueryResult>;

/**
 * Names for statements with parameters, the first `max` distinct texts (process-wide, so every
 * connection prepares at most `max`); undefined afterwards, and for texts without parameters
 * (BEGIN, COMMIT: the simple protocol, nothing to plan twice).
 */
function statementNames(max: number) {
  const names = new Map<string, string>();
  return (text: string, values: readonly unknown[]): string | undefined => {
    if (values.length === 0) return undefined;
    let name = names.get(text);
    if (name === undefined && names.size < max) {
      name = `tm_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
}

/** A runner on a pool or a client that names statements as `nameOf` says. */
const runnerOn =
  (target: pg.Pool | pg.PoolClient, nameOf: ReturnType<typeof statementNames>): Runner =>
  (text, values) => {
    const name = nameOf(text, values);
    return name === undefined
      ? target.query(text, values as unknown[])
      : target.query({ name, text, values: values as unknown[] });
  };

/**
 * Runs one statement: counts it (request scope and metrics), logs it when slow, checks its
 * rows when asked. Every statement of the process goes through here, so the figures are whole.
 */
function createExecutor(log: Logger, options: DbOptions) {
  const validate = options.validateRows !== false;
  const account = (rows: readonly Record<string, unknown>[], error: boolean, scope: RequestScope | undefined) => {
    if (scope) scope.statements++;
    if (error) {
      sqlStatements.inc({ outcome: 'error' });
      return;
    }
    let bytes = 0;
    for (const row of rows) bytes += rowBytes(row);
    sqlStatements.inc({ outcome: 'ok' });
    sqlRowsRead.inc(rows.length);
    sqlBytesRead.inc(bytes);
    if (scope) {
      scope.rows += rows.length;
      scope.bytes += bytes;
    }
  };
  const checked = <T extends ZodTypeAny>(query: Query<T>, rows: Record<string, unknown>[]): Row<T>[] => {
    const parser = query.parser as ZodTypeAny | undefined;
    if (!validate || !parser) return rows as Row<T>[];
    return rows.map((row) => {
      const parsed = parser.safeParse(row);
      if (!parsed.success) throw new RowValidationError(query.sql, parsed.error.issues);
      return parsed.data as Row<T>;
    });
  };
  const run = async (
    runner: Runner,
    query: Query<ZodTypeAny>,
    scope: RequestScope | undefined,
  ): Promise<pg.QueryResult> => {
    const started = performance.now();
    const text = postgresText(query.sql);
    let result: pg.QueryResult;
    try {
      result = await runner(text, query.values);
    } catch (error) {
      account([], true, scope);
      throw error;
    }
    account(result.rows, false, scope);
    const ms = performance.now() - started;
    if (ms >= options.slowQueryMs) {
      log.warn(
        { ms: Math.round(ms), operation: scope && operationNames(scope), sql: text, rows: result.rowCount },
        'slow query',
      );
    }
    return result;
  };
  const queries = (runner: Runner, scope: RequestScope | undefined): Queries => {
    const rowsOf = async <T extends ZodTypeAny>(q: Query<T>) => checked(q, (await run(runner, q, scope)).rows);
    const single = async <T extends ZodTypeAny>(q: Query<T>, required: boolean) => {
      const rows = await rowsOf(q);
      if (rows.length > 1) throw new DataIntegrityError(q.sql);
      if (rows.length === 0 && required) throw new NotFoundError(q.sql);
      return rows[0] ?? null;
    };
    return {
      any: rowsOf,
      maybeOne: (q) => single(q, false),
      one: async (q) => (await single(q, true))!,
      oneFirst: async (q) => {
        const row = (await single(q, true)) as Record<string, unknown>;
        return row[Object.keys(row)[0]!] as never;
      },
      query: async (q) => {
        const result = await run(runner, q, scope);
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      },
    };
  };
  return { queries, checked, account };
}

/**
 * Opens the pool. Nothing is sent until the first query.
 */
export async function createDb(options: DbOptions, log: Logger): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax,
    connectionTimeoutMillis: options.poolTimeoutMs,
    idleTimeoutMillis: options.idleTimeoutMs,
    maxLifetimeSeconds: Math.max(1, Math.ceil(options.maxConnectionAgeMs / 1000)),
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
    types: { getTypeParser },
  });
  // An idle connection that breaks (server restart, terminated backend) is reported here;
  // unhandled, an EventEmitter 'error' would end the process. pg-pool drops the connection.
  pool.on('error', (error) =>
    inputSqlState(error)
      ? log.debug({ sqlState: inputSqlState(error) }, 'value refused by PostgreSQL')
      : log.warn({ err: error }, 'database connection error'),
  );
  const executor = createExecutor(log, options);
  const gate = new Gate(options.poolMax, options.poolTimeoutMs, options.maxWaiting);
  const state = () => ({
    ...gate.state,
    idle: pool.idleCount,
    connections: pool.totalCount,
  });
  watchPool(state);

  /**
   * A connection of its own for `fn`. It goes back to the pool unless it broke (or `fn` says it
   * cannot be trusted, e.g. a failed ROLLBACK): then pg-pool destroys it. A statement's own error
   * (a SQLSTATE) leaves the connection usable.
   */
  const withClient = async <R>(
    fn: (client: pg.PoolClient, discard: (reason: Error) => void) => Promise<R>,
  ): Promise<R> => {
    const client = await pool.connect();
    let discarded: Error | undefined;
    // pg-pool listens for a connection's 'error' only while it is idle: one that breaks while
    // checked out between two statements (a server restart mid-transaction) would emit an
    // unhandled 'error' and end the process. Its next statement fails on its own; it is dropped.
    const onBroken = (error: Error) => {
      discarded ??= error;
      log.warn({ err: error }, 'database connection error');
    };
    client.on('error', onBroken);
    try {
      return await fn(client, (reason) => {
        discarded ??= reason;
      });
    } catch (error) {
      if (isConnectionFailure(error)) discarded ??= error as Error;
      throw error;
    } finally {
      client.removeListener('error', onBroken);
      client.release(discarded);
    }
  };

  const nameOf = statementNames(options.preparedStatements ?? DEFAULT_PREPARED_STATEMENTS);
  const poolRunner = runnerOn(pool, nameOf);
  // One handle per scope (the process's, then one per request): closures over the same pool and gate.
  let root: Db | undefined;
  const handle = (scope: RequestScope | undefined): Db => {
    const onPool = executor.queries(poolRunner, scope);
    const db: Db = {
      any: (q) => gate.run(() => onPool.any(q)),
      maybeOne: (q) => gate.run(() => onPool.maybeOne(q)),
      one: (q) => gate.run(() => onPool.one(q)),
      oneFirst: (q) => gate.run(() => onPool.oneFirst(q)),
      transaction: (fn) =>
        gate.run(() =>
          withClient(async (client, discard) => {
            const tx = executor.queries(runnerOn(client, nameOf), scope);
            await tx.query(sql.unsafe`BEGIN`);
            try {
              const result = await fn(tx);
              await tx.query(sql.unsafe`COMMIT`);
              return result;
            } catch (error) {
              // A connection whose transaction could not be rolled back is not handed to anyone else.
              await tx.query(sql.unsafe`ROLLBACK`).catch(discard);
              throw error;
            }
          }),
        ),
      stream: (q, onRow) =>
        gate.run(() =>
          withClient(async (client) => {
            const cursor = client.query(
              new Cursor(postgresText(q.sql), q.values as unknown[], { types: { getTypeParser } }),
            );
            try {
              for (;;) {
                const rows = (await cursor.read(100)) as Record<string, unknown>[];
                executor.account(rows, false, scope);
                if (rows.length === 0) break;
                for (const row of executor.checked(q, rows)) onRow(row);
              }
            } finally {
              await cursor.close();
            }
          }),
        ),
      scoped: (other) => handle(other),
      get root() {
        return root ?? db;
      },
      state,
      end: () => pool.end().catch((error: Error) => log.warn({ err: error }, 'closing the pool')),
    };
    return db;
  };
  root = handle(undefined);
  return root;
}
