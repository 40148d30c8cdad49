import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabase } from './urls.ts';

export type TestDatabase = {
  url: string;
  /** runs SQL as the test (fixtures, assertions); not counted by the wire counter */
  sql: <R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]) => Promise<R[]>;
  drop(): Promise<void>;
};

/** A fresh database cloned from the migrated template: one per test file. */
export async function freshDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('adminUrl');
  const name = `tm_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDb')}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    url,
    sql: async (text, values) => (await client.query(text, values as unknown[])).rows,
    drop: async () => {
      await client.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Runs one statement on the test server's admin database (CREATE/DROP DATABASE, roles). */
export async function adminSql(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
