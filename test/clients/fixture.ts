/**
 * What both client tests share: a production gateway process in PERSISTED_OPERATIONS=only on a
 * fresh database (restaurants, a user with a real argon2 hash and a few orders), the clients'
 * operation files as an app bundles them, and a `fetch` that records what went over the wire.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type DocumentNode, Kind, parse } from 'graphql';
import { MANIFEST_FILE, type Manifest, RETIRED_FILE, readSources } from '../../scripts/persisted-build.ts';
import { hashPassword } from '../../src/auth/passwords.ts';
import { TEST_JWT_SECRET } from '../helpers/app.ts';
import { freshDatabase, type TestDatabase } from '../helpers/db.ts';
import { insertOrders, insertRestaurants } from '../helpers/fixtures.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway-process.ts';

export const PASSWORD = 'a client test password';
export const RESTAURANTS = 6;
export const ORDERS = 3;

export const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as Manifest;
export const retired = JSON.parse(readFileSync(RETIRED_FILE, 'utf8')) as Manifest;
export const idOf = new Map(manifest.operations.map((o) => [o.name, o.id]));

/** The operation files, parsed, by operation name. */
export const documents = new Map(
  readSources().map((s) => {
    const document = parse(s.text);
    const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    return [op?.kind === Kind.OPERATION_DEFINITION && op.name ? op.name.value : s.path, document] as const;
  }),
);
export const doc = (name: string): DocumentNode => {
  const document = documents.get(name);
  if (!document) throw new Error(`no operation ${name} in clients/`);
  return document;
};

export const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export type Served = { db: TestDatabase; gateway: GatewayProcess; email: string; close(): Promise<void> };

/** The gateway as production runs it, with the manifest ids alone. */
export async function servedOnly(email: string): Promise<Served> {
  const db = await freshDatabase();
  const restaurants = await insertRestaurants(db, RESTAURANTS);
  const [user] = await db.sql<{ id: string }>(
    `INSERT INTO users (email, name, password_hash) VALUES ($1, 'Client', $2) RETURNING id`,
    [email, await hashPassword(PASSWORD)],
  );
  await insertOrders(db, String(user!.id), restaurants, ORDERS);
  const gateway = await startGateway(
    {
      NODE_ENV: 'production',
      JWT_SECRET: TEST_JWT_SECRET,
      DATABASE_URL: db.url,
      SEED_ON_FIRST_START: 'false',
      PERSISTED_OPERATIONS: 'only',
    },
    { nodeArgs: ['--max-old-space-size=448'] },
  );
  return {
    db,
    gateway,
    email,
    async close() {
      await gateway.stop();
      await db.drop();
    },
  };
}

export type Sent = {
  method: string;
  operationName: string | null;
  hash: string | null;
  query: boolean;
  status: number;
};

/** A `fetch` for a client library that records each request: method, operation, id, whether it carried a document. */
export function recordingFetch(sent: Sent[], transport: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const params = init?.body
      ? (JSON.parse(String(init.body)) as { operationName?: string; query?: string; extensions?: unknown })
      : {
          operationName: url.searchParams.get('operationName') ?? undefined,
          query: url.searchParams.get('query') ?? undefined,
          extensions: JSON.parse(url.searchParams.get('extensions') ?? '{}'),
        };
    const response = await transport(input, init);
    sent.push({
      method: init?.method ?? 'GET',
      operationName: params.operationName ?? null,
      hash: (params.extensions as { persistedQuery?: { sha256Hash?: string } })?.persistedQuery?.sha256Hash ?? null,
      query: typeof params.query === 'string',
      status: response.status,
    });
    return response;
  };
}
