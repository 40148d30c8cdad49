/**
 * The one database handle of a process: a slonik pool behind a bounded gate.
 *
 * Choices, each to keep statements-per-request honest (counted at the wire) and
 * memory bounded:
 * - `resetConnection` is a no-op. slonik's default sends `DISCARD ALL` after every
 *   release: one extra round trip per query. The gateway never sets session state
 *   (no session `SET`, no temp tables, no LISTEN, named statements are not used),
 *   so there is nothing to discard. This also keeps PgBouncer transaction mode safe.
 * - Statement and idle-in-transaction timeouts travel as startup parameters
 *   (slonik does this), never as `SET` statements. Reads never open a transaction.
 * - No ping on checkout: a broken connection fails its query, the driver destroys
 *   it and the next acquire opens a fresh one (driver.ts makes sure the pool
 *   forgets it).
 * - Recycling (`DB_MAX_CONNECTION_AGE_MS`): driver.ts.
 * - Acquire timeout and a bounded wait queue: see src/backpressure/gate.ts.
 */
import { createPgDriverFactory } from '@slonik/pg-driver';
import {
  createPool,
  type DatabaseTransactionConnection,
  type Interceptor,
  type QuerySqlToken,
  SchemaValidationError,
} from 'slonik';
import type { ZodTypeAny, z } from 'zod';
import { Gate } from '../backpressure/gate.ts';
import type { Logger } from '../observability/logger.ts';
import { rowBytes, sqlBytesRead, sqlRowsRead, sqlStatements, watchPool } from '../observability/metrics.ts';
import { currentOperationName, currentScope } from '../observability/request-scope.ts';
import { managedDriver } from './driver.ts';
import { inputSqlState } from './input-errors.ts';

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
};

type Row<T extends ZodTypeAny> = z.infer<T>;

/** The query surface the rest of the code uses (src/db/queries take a `Db`). */
export type Db = {
  any<T extends ZodTypeAny>(query: QuerySqlToken<T>): Promise<readonly Row<T>[]>;
  maybeOne<T extends ZodTypeAny>(query: QuerySqlToken<T>): Promise<Row<T> | null>;
  one<T extends ZodTypeAny>(query: QuerySqlToken<T>): Promise<Row<T>>;
  oneFirst<T extends ZodTypeAny>(query: QuerySqlToken<T>): Promise<Row<T>[keyof Row<T>]>;
  /**
   * Streams a large result through a cursor (100 rows per fetch): memory stays at one
   * fetch whatever the row count. `onRow` runs for each row, in order.
   */
  stream<T extends ZodTypeAny>(query: QuerySqlToken<T>, onRow: (row: Row<T>) => void): Promise<void>;
  /** Runs `fn` in one transaction (BEGIN … COMMIT: two extra round trips; writes only). */
  transaction<R>(fn: (tx: DatabaseTransactionConnection) => Promise<R>): Promise<R>;
  state(): { active: number; waiting: number; size: number; idle: number; connections: number };
  end(): Promise<void>;
};

/** Checks every row against the query's zod type (`sql.type(Row)`) when `validateRows` is on. */
const resultParser: Interceptor = {
  name: 'result-parser',
  transformRow: (context, query, row) => {
    const parser = context.resultParser;
    if (!parser) return row;
    const parsed = parser.safeParse(row);
    if (!parsed.success) throw new SchemaValidationError(query, row, parsed.error.issues);
    return parsed.data as typeof row;
  },
};

/** Statements, rows and bytes: into the request's scope (request log) and the metrics. */
const accounting: Interceptor = {
  name: 'accounting',
  afterQueryExecution: (_context, _query, result) => {
    const scope = currentScope();
    let bytes = 0;
    for (const row of result.rows) bytes += rowBytes(row as Record<string, unknown>);
    sqlStatements.inc({ outcome: 'ok' });
    sqlRowsRead.inc(result.rows.length);
    sqlBytesRead.inc(bytes);
    if (scope) {
      scope.statements++;
      scope.rows += result.rows.length;
      scope.bytes += bytes;
    }
    return null;
  },
  queryExecutionError: () => {
    sqlStatements.inc({ outcome: 'error' });
    const scope = currentScope();
    if (scope) scope.statements++;
    return null; // slonik rethrows the error itself
  },
};

function slowQueryLog(log: Logger, slowQueryMs: number): Interceptor {
  return {
    name: 'slow-query-log',
    afterQueryExecution: (context, query, result) => {
      const ms = Number(process.hrtime.bigint() - BigInt(context.queryInputTime)) / 1e6;
      if (ms >= slowQueryMs) {
        log.warn(
          { ms: Math.round(ms), operation: currentOperationName(), sql: query.sql, rows: result.rowCount },
          'slow query',
        );
      }
      return null;
    },
  };
}

const typeParsers = [
  // bigint ids stay strings: exact beyond 2^53 and cheap to put in global ids.
  { name: 'int8', parse: (v: string) => v },
  { name: 'numeric', parse: (v: string) => Number.parseFloat(v) },
  { name: 'timestamptz', parse: (v: string) => new Date(v) },
];

/**
 * Opens the pool (one short connection reads type oids; nothing else is sent until a query).
 * @throws ConnectionError when the database cannot be reached at start-up.
 */
export async function createDb(options: DbOptions, log: Logger): Promise<Db> {
  const pool = await createPool(options.url, {
    maximumPoolSize: options.poolMax,
    connectionTimeout: options.poolTimeoutMs,
    connectionRetryLimit: 1,
    idleTimeout: options.idleTimeoutMs,
    statementTimeout: options.statementTimeoutMs,
    idleInTransactionSessionTimeout: options.statementTimeoutMs * 2,
    // Retrying inside a request would hide a statement from the count and double its cost.
    queryRetryLimit: 0,
    transactionRetryLimit: 0,
    captureStackTrace: false,
    resetConnection: async () => {},
    interceptors: [
      ...(options.validateRows === false ? [] : [resultParser]),
      accounting,
      slowQueryLog(log, options.slowQueryMs),
    ],
    typeParsers,
    driverFactory: managedDriver(createPgDriverFactory(), options.maxConnectionAgeMs),
  });
  // slonik re-emits a failed query's connection error on the pool; unhandled, an
  // EventEmitter 'error' would end the process. The query itself still rejects.
  // A refused value is the client's input, answered and logged once as BAD_USER_INPUT (src/http/errors.ts).
  pool.on('error', (error) =>
    inputSqlState(error)
      ? log.debug({ sqlState: inputSqlState(error) }, 'value refused by PostgreSQL')
      : log.warn({ err: error }, 'database connection error'),
  );
  const gate = new Gate(options.poolMax, options.poolTimeoutMs, options.maxWaiting);
  const state = () => {
    const s = pool.state();
    return { ...gate.state, idle: s.idleConnections, connections: s.idleConnections + s.acquiredConnections };
  };
  watchPool(state);
  return {
    any: (q) => gate.run(() => pool.any(q)),
    maybeOne: (q) => gate.run(() => pool.maybeOne(q)),
    one: (q) => gate.run(() => pool.one(q)),
    oneFirst: (q) => gate.run(() => pool.oneFirst(q)),
    transaction: (fn) =>
      gate.run(() => {
        // BEGIN and COMMIT (or ROLLBACK) are round trips the interceptors do not see.
        sqlStatements.inc({ outcome: 'ok' }, 2);
        const scope = currentScope();
        if (scope) scope.statements += 2;
        return pool.transaction(fn);
      }),
    stream: (q, onRow) =>
      gate.run(async () => {
        await pool.stream(q, (rows) => rows.on('data', (chunk) => onRow(chunk.data)));
      }),
    state,
    end: () => pool.end().catch((error) => log.warn({ err: error }, 'closing the pool')),
  };
}
