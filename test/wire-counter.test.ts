/**
 * The wire counter proxy against real PostgreSQL servers: the machine's (trust auth) and the embedded one
 * (scram-sha-256, so the SASL exchange must pass through untouched).
 *
 * We count round trips/messages: one Query ('Q') or Execute ('E') message is one statement, whatever its SQL
 * holds. A multi-statement simple query is therefore ONE statement — our code never sends multi-statement
 * queries at request time, so this does not hide work.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPool, sql } from 'slonik';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/db/embedded.ts';
import { startWireCounter, type WireCounter } from './helpers/wire-counter.ts';

const MACHINE_URL = process.env.WIRE_COUNTER_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Resolves to null when `url` answers `SELECT 1`, else to the reason it does not. */
async function unreachableReason(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Sum of DataRow payload sizes for single-column text rows: int16 column count + int32 length + the bytes. */
function textRowBytes(values: string[]): number {
  return values.reduce((sum, v) => sum + 2 + 4 + Buffer.byteLength(v), 0);
}

// Availability is decided BEFORE the suite is registered (top-level await in this ESM module), so the choice is
// made once and visibly: reachable → the suite runs; unreachable under CI=true → a failing test says why (CI must
// not silently lose this coverage); unreachable locally → the suite is registered as skipped and the reason is
// printed. No per-test early returns, which would report vacuous passes.
const machineUnreachable = await unreachableReason(MACHINE_URL);
const IN_CI = process.env.CI === 'true';
if (machineUnreachable && !IN_CI) {
  console.warn(
    `wire-counter: skipping the machine PostgreSQL suite, ${MACHINE_URL} unreachable: ${machineUnreachable}`,
  );
}
if (machineUnreachable && IN_CI) {
  it('machine PostgreSQL is reachable (required under CI=true)', () => {
    throw new Error(`${MACHINE_URL} unreachable: ${machineUnreachable}`);
  });
}
const describeMachine = machineUnreachable ? describe.skip : describe;

describeMachine('wire counter on the machine PostgreSQL', () => {
  let counter: WireCounter;
  let client: pg.Client;

  beforeAll(async () => {
    counter = await startWireCounter(MACHINE_URL);
  });
  afterAll(async () => {
    await counter?.close();
  });

  describe('with a pg Client', () => {
    beforeAll(async () => {
      client = new pg.Client({ connectionString: counter.url });
      await client.connect();
    });
    afterAll(async () => {
      await client?.end();
    });
    afterEach(() => counter.reset());

    it('points at the proxy with the same user and database', () => {
      const url = new URL(counter.url);
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.port).not.toBe('5432');
      expect(url.username).toBe('postgres');
      expect(url.pathname).toBe('/postgres');
    });

    it('counts a simple-protocol query', async () => {
      await counter.settle();
      counter.reset();
      const result = await client.query('SELECT 1 AS one');
      expect(result.rows).toEqual([{ one: 1 }]);
      await counter.settle();
      expect(counter.statements).toEqual([{ sql: 'SELECT 1 AS one', kind: 'simple' }]);
      expect(counter.rows).toBe(1);
      expect(counter.rowBytes).toBe(textRowBytes(['1']));
    });

    it('counts `SELECT 1` as one simple statement', async () => {
      await client.query('SELECT 1');
      await counter.settle();
      expect(counter.statements).toEqual([{ sql: 'SELECT 1', kind: 'simple' }]);
    });

    it('counts a parameterised (extended-protocol) query as one Execute with its SQL', async () => {
      const result = await client.query('SELECT $1::int AS n', [1]);
      expect(result.rows).toEqual([{ n: 1 }]);
      await counter.settle();
      expect(counter.statements).toEqual([{ sql: 'SELECT $1::int AS n', kind: 'extended' }]);
      expect(counter.rows).toBe(1);
    });

    it('resolves the SQL of a named prepared statement re-executed without a Parse', async () => {
      const query = { name: 'wire_counter_named', text: 'SELECT $1::text AS t', values: ['a'] };
      await client.query(query);
      await client.query({ ...query, values: ['bb'] }); // pg sends only Bind/Execute/Sync the second time
      await counter.settle();
      expect(counter.statements).toEqual([
        { sql: 'SELECT $1::text AS t', kind: 'extended' },
        { sql: 'SELECT $1::text AS t', kind: 'extended' },
      ]);
      expect(counter.rowBytes).toBe(textRowBytes(['a', 'bb']));
    });

    it('counts BEGIN / statement / COMMIT sent separately as three statements', async () => {
      await client.query('BEGIN');
      await client.query('SELECT $1::int', [2]);
      await client.query('COMMIT');
      await counter.settle();
      expect(counter.statements).toEqual([
        { sql: 'BEGIN', kind: 'simple' },
        { sql: 'SELECT $1::int', kind: 'extended' },
        { sql: 'COMMIT', kind: 'simple' },
      ]);
    });

    it('counts DataRow messages and their payload bytes', async () => {
      const result = await client.query('SELECT generate_series(1, 100)');
      expect(result.rows).toHaveLength(100);
      await counter.settle();
      expect(counter.rows).toBe(100);
      const expected = textRowBytes(Array.from({ length: 100 }, (_, i) => String(i + 1)));
      expect(expected).toBe(100 * 6 + 9 * 1 + 90 * 2 + 1 * 3);
      expect(counter.rowBytes).toBe(expected);
      expect(counter.statements).toHaveLength(1);
    });

    it('handles a DataRow split over many TCP chunks', async () => {
      const size = 1_000_000;
      const result = await client.query(`SELECT repeat('x', ${size}) AS big, 'tail' AS t`);
      expect(result.rows[0].big).toHaveLength(size);
      await counter.settle();
      expect(counter.rows).toBe(1);
      // two columns: int16 count + (int32 length + bytes) per column
      expect(counter.rowBytes).toBe(2 + 4 + size + 4 + 4);
    });

    it('counts a multi-statement simple query as ONE Query message', async () => {
      const results = await client.query('SELECT 1; SELECT 2');
      expect(Array.isArray(results)).toBe(true);
      await counter.settle();
      expect(counter.statements).toEqual([{ sql: 'SELECT 1; SELECT 2', kind: 'simple' }]);
      expect(counter.rows).toBe(2); // the rows of both statements still arrive
    });

    it('counts a failing statement and stays usable', async () => {
      await expect(client.query('SELECT * FROM wire_counter_no_such_table')).rejects.toThrow(/does not exist/);
      await client.query('SELECT 1');
      await counter.settle();
      expect(counter.statements.map((s) => s.sql)).toEqual(['SELECT * FROM wire_counter_no_such_table', 'SELECT 1']);
    });

    it('reset() clears statements, rows and bytes', async () => {
      await client.query('SELECT 1');
      await counter.settle();
      counter.reset();
      expect(counter.statements).toEqual([]);
      expect(counter.rows).toBe(0);
      expect(counter.rowBytes).toBe(0);
    });
  });

  it('counts globally across the connections of a pool', async () => {
    const pool = new pg.Pool({ connectionString: counter.url, max: 3 });
    try {
      counter.reset();
      await Promise.all([1, 2, 3].map((n) => pool.query('SELECT pg_sleep(0.05), $1::int AS n', [n])));
      expect(pool.totalCount).toBe(3);
      await counter.settle();
      expect(counter.statements).toHaveLength(3);
      expect(counter.rows).toBe(3);
    } finally {
      await pool.end();
    }
  });

  it('settle() waits for a statement still in flight', async () => {
    const c = new pg.Client({ connectionString: counter.url });
    await c.connect();
    try {
      counter.reset();
      const slow = c.query('SELECT pg_sleep(0.2)');
      await new Promise((r) => setTimeout(r, 50)); // the statement is sent, its ReadyForQuery not yet back
      const started = performance.now();
      await counter.settle();
      expect(performance.now() - started).toBeGreaterThanOrEqual(100);
      expect(counter.rows).toBe(1);
      await slow;
    } finally {
      await c.end();
    }
  });

  it('answers an SSLRequest with N itself, then forwards the startup', async () => {
    const port = Number(new URL(counter.url).port);
    const socket = netConnect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    socket.on('data', (b: Buffer) => received.push(b));
    await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
    const ssl = Buffer.alloc(8);
    ssl.writeInt32BE(8, 0);
    ssl.writeInt32BE(80877103, 4);
    socket.write(ssl);
    await expect.poll(() => Buffer.concat(received).toString('latin1')).toBe('N');
    const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4); // protocol 3.0
    params.copy(startup, 8);
    // split the startup message over two writes to exercise partial-frame buffering
    socket.write(startup.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 10));
    socket.write(startup.subarray(5));
    // trust auth: AuthenticationOk ('R'), ..., ReadyForQuery ('Z') follow the 'N'
    await expect.poll(() => Buffer.concat(received).subarray(1).at(-6)).toBe('Z'.charCodeAt(0));
    expect(Buffer.concat(received)[1]).toBe('R'.charCodeAt(0));
    socket.destroy();
  });

  it('survives clients that vanish and garbage startup packets', async () => {
    const port = Number(new URL(counter.url).port);
    const garbage = netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((ok) => garbage.once('connect', ok));
    garbage.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4])); // absurd startup length
    await new Promise<void>((ok) => garbage.once('close', () => ok()).resume());
    const vanishing = new pg.Client({ connectionString: counter.url });
    vanishing.on('error', () => {});
    await vanishing.connect();
    vanishing.query('SELECT pg_sleep(1)').catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    (vanishing as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    // the proxy still serves new connections, and nothing is left in flight
    const c = new pg.Client({ connectionString: counter.url });
    await c.connect();
    expect((await c.query('SELECT 7 AS n')).rows).toEqual([{ n: 7 }]);
    await c.end();
    await counter.settle();
  });

  describe('with a slonik pool', () => {
    it('counts exactly one statement for one query when resetConnection is a no-op', async () => {
      const pool = await createPool(counter.url, { resetConnection: async () => {}, maximumPoolSize: 2 });
      try {
        await counter.settle(); // createPool reads type oids on a separate connection
        counter.reset();
        const rows = await pool.any(sql.unsafe`SELECT 1 AS x`);
        expect(rows).toEqual([{ x: 1 }]);
        await counter.settle();
        // @slonik/pg-driver passes `queryMode: 'extended'` as a pg *Client* option, but pg 8.x only reads it per
        // query, so parameterless SQL goes out as a simple Query; SQL with values uses Parse/Bind/Execute/Sync.
        expect(counter.statements).toEqual([{ sql: 'SELECT 1 AS x', kind: 'simple' }]);
        counter.reset();
        await pool.any(sql.unsafe`SELECT ${2}::int AS x`);
        await counter.settle();
        expect(counter.statements).toEqual([{ sql: 'SELECT $1::int AS x', kind: 'extended' }]);
      } finally {
        await pool.end();
      }
    });

    it('counts the hidden DISCARD ALL of the default resetConnection', async () => {
      const pool = await createPool(counter.url, { maximumPoolSize: 2 });
      try {
        await counter.settle();
        counter.reset();
        await pool.any(sql.unsafe`SELECT 1 AS x`);
        await counter.settle();
        expect(counter.statements).toEqual([
          { sql: 'SELECT 1 AS x', kind: 'simple' },
          { sql: 'DISCARD ALL', kind: 'simple' },
        ]);
      } finally {
        await pool.end();
      }
    });
  });
});

describe('wire counter on the embedded PostgreSQL (scram-sha-256)', () => {
  let dir: string;
  let db: EmbeddedDatabase | undefined;
  let counter: WireCounter | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-counter-'));
    db = await startEmbeddedPostgres(dir);
    counter = await startWireCounter(db.url);
  }, 180_000);
  afterAll(async () => {
    await counter?.close();
    await db?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('forwards the SASL exchange and counts', async () => {
    const c = counter!;
    expect(new URL(c.url).password).toBe(new URL(db!.url).password);
    const client = new pg.Client({ connectionString: c.url });
    await client.connect();
    try {
      await c.settle();
      c.reset();
      const result = await client.query('SELECT $1::text AS hello', ['world']);
      expect(result.rows).toEqual([{ hello: 'world' }]);
      await client.query('SELECT 1');
      await c.settle();
      expect(c.statements).toEqual([
        { sql: 'SELECT $1::text AS hello', kind: 'extended' },
        { sql: 'SELECT 1', kind: 'simple' },
      ]);
      expect(c.rows).toBe(2);
      expect(c.rowBytes).toBe(textRowBytes(['world', '1']));
    } finally {
      await client.end();
    }
  });

  it('rejects a wrong password through the proxy (auth is not bypassed)', async () => {
    const url = new URL(counter!.url);
    url.password = 'wrong';
    const client = new pg.Client({ connectionString: url.toString() });
    client.on('error', () => {});
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });
});

describe('wire counter with an unreachable target', () => {
  it('fails the client connection without crashing', async () => {
    const counter = await startWireCounter('postgres://postgres@127.0.0.1:1/postgres');
    try {
      const client = new pg.Client({ connectionString: counter.url, connectionTimeoutMillis: 3000 });
      client.on('error', () => {});
      await expect(client.connect()).rejects.toThrow();
    } finally {
      await counter.close();
    }
  });
});
