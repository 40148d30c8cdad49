/**
 * Persisted operations (`PERSISTED_OPERATIONS`):
 * - `off`: documents only. A request carrying only an id gets PERSISTED_QUERY_NOT_FOUND,
 *   which Apollo's persisted-query link answers by sending the document.
 * - `allow`: documents, ids of the manifest (clients/persisted-operations.json, and the
 *   retired ids old app builds still send: clients/persisted-operations.retired.json) and
 *   Apollo's automatic persisted queries (APQ): an unknown hash gets
 *   PERSISTED_QUERY_NOT_FOUND, the client resends it with the document, the hash is
 *   verified (a mismatch is refused before anything runs) and the document registered
 *   in the APQ store (src/cache/apq-store.ts: bounded in count and bytes, per replica
 *   and in Redis).
 * - `only`: manifest ids alone; any document gets PERSISTED_QUERY_REQUIRED (the
 *   production safelist).
 * An id travels as `extensions.persistedQuery.sha256Hash` (Apollo, `version: 1`) or
 * `documentId` (body, query string or extensions), over POST or GET (for CDN caching).
 * Manifest and registered documents go through the same validation, limits and cost
 * as any other; Yoga's parse and validation caches and the cost cache (limits.ts) make
 * that a one-time price per document.
 *
 * Registration happens when execution starts (onExecute), so only a document that
 * parsed, validated and passed every limit is kept: the cost check is limits.ts's
 * onExecute, which runs before this plugin's (app.ts's plugin order; a refusal there
 * ends the chain). Each client address registers at most APQ_REGISTRATIONS_PER_MINUTE
 * new documents per replica; beyond, the document still runs but is not kept, since
 * Apollo's link answers a later PERSISTED_QUERY_NOT_FOUND by resending it, while an
 * error would fail a valid request.
 *
 * Lookup and `only` mode: @graphql-yoga/plugin-persisted-operations. APQ registration
 * is ours: @graphql-yoga/plugin-apq 3.6 pins @graphql-tools/utils 10 as a peer, which
 * conflicts with graphql-yoga 5.24's utils 11, and its store would not know the
 * manifest's ids.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { getOperationAST } from 'graphql';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { clientAddress } from '../client-address.ts';
import { ErrorCode } from '../errors.ts';
import { cacheEvents } from '../observability/metrics.ts';
import { requestUrl } from './request-url.ts';

export type PersistedMode = 'off' | 'allow' | 'only';

/** id (sha256 hex of the body) → body */
export type PersistedManifest = ReadonlyMap<string, string>;

const clientsFile = (name: string) => fileURLToPath(new URL(`../../clients/${name}`, import.meta.url));
/** The clients' manifest: one entry per operation name, what current app builds send. */
export const MANIFEST_PATH = clientsFile('persisted-operations.json');
/** Ids shipped before whose bodies changed or went (scripts/persisted-build.ts): old app builds still send them. */
export const RETIRED_MANIFEST_PATH = clientsFile('persisted-operations.retired.json');

const ManifestFile = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
      name: z.string(),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
    }),
  ),
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Reads Apollo persisted-query manifests, by default the clients' manifest and its retired ids,
 * into one map: every id in either is served (and its document precompiled). Both files are
 * required, since a missing retired file would silently break old app builds.
 * @throws Error naming the file and the problem (missing, bad JSON, bad shape, an id that is not the body's sha256)
 */
export function loadManifest(paths: readonly string[] = [MANIFEST_PATH, RETIRED_MANIFEST_PATH]): PersistedManifest {
  const manifest = new Map<string, string>();
  for (const path of paths) {
    let parsed: z.infer<typeof ManifestFile>;
    try {
      parsed = ManifestFile.parse(JSON.parse(readFileSync(path, 'utf8')));
    } catch (error) {
      throw new Error(`Persisted-operation manifest ${path} is unusable: ${(error as Error).message}`);
    }
    for (const op of parsed.operations) {
      if (sha256(op.body) !== op.id)
        throw new Error(`Persisted-operation manifest ${path}: ${op.name}'s id is not the sha256 of its body`);
      manifest.set(op.id, op.body);
    }
  }
  return manifest;
}

type Extensions = { persistedQuery?: { version?: unknown; sha256Hash?: unknown }; documentId?: unknown };

/** The Apollo hash, when the request carries one. */
function apolloHash(params: GraphQLParams): string | undefined {
  const pq = (params.extensions as Extensions | undefined)?.persistedQuery;
  return pq && typeof pq === 'object' && pq.version === 1 && typeof pq.sha256Hash === 'string'
    ? pq.sha256Hash
    : undefined;
}

/** The id of a persisted operation: Apollo's hash, or `documentId` (body, query string or extensions). */
export function persistedOperationId(params: GraphQLParams, request: Request): string | null {
  const hash = apolloHash(params);
  if (hash) return hash;
  const fromParams =
    (params as { documentId?: unknown }).documentId ?? (params.extensions as Extensions | undefined)?.documentId;
  if (typeof fromParams === 'string') return fromParams;
  if (request.method === 'GET') return requestUrl(request).searchParams.get('documentId');
  return null;
}

const notFound = () =>
  // Apollo's link recognises the message; the code is ours (src/errors.ts).
  createGraphQLError('PersistedQueryNotFound', {
    extensions: { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND, http: { status: 404 } },
  });

/** Where APQ registrations live (src/cache/apq-store.ts). */
export type RegistrationStore = {
  get(id: string): Promise<string | undefined> | string | undefined;
  /** held here already: registering it again is no new registration */
  has(id: string): boolean;
  set(id: string, body: string): Promise<void> | void;
};

export type RegistrationOptions = {
  store: RegistrationStore;
  /** new registrations per client address and minute (per replica) */
  perMinute: number;
  /** CLIENT_IP_HEADER */
  clientIpHeader?: string;
  /** with X-Forwarded-For: how many trusted proxies append to it (src/client-address.ts) */
  trustedProxyHops?: number;
};

/** Addresses whose registrations are counted at once; past it the least recent one starts afresh. */
const RATE_ADDRESSES = 10_000;

/** At most `perMinute` per address in each address's one-minute window. */
function registrationRate(perMinute: number) {
  const counts = new LRUCache<string, number>({ max: RATE_ADDRESSES, ttl: 60_000, noUpdateTTL: true });
  return (address: string): boolean => {
    const count = counts.get(address) ?? 0;
    if (count >= perMinute) return false;
    counts.set(address, count + 1);
    return true;
  };
}

type Registration = { hash: string; query: string; address: string };

export function usePersistedOperationModes(
  mode: PersistedMode,
  manifest: PersistedManifest,
  apq: RegistrationOptions,
): Plugin[] {
  if (mode === 'off') {
    return [
      {
        onParams({ params, request }) {
          if (!params.query && persistedOperationId(params, request)) throw notFound();
        },
      },
    ];
  }
  const registered = apq.store;
  const lookup = usePersistedOperations({
    allowArbitraryOperations: mode === 'allow',
    extractPersistedOperationId: (params, request) => persistedOperationId(params, request),
    getPersistedOperation: async (id) =>
      manifest.get(id) ?? (mode === 'allow' ? await registered.get(id) : undefined) ?? null,
    customErrors: {
      notFound,
      keyNotFound: {
        message: 'Send a query document or a persisted operation id',
        extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
      },
      persistedQueryOnly: {
        message: 'This server runs persisted operations only: send a persisted operation id',
        extensions: { code: ErrorCode.PERSISTED_QUERY_REQUIRED, http: { status: 400 } },
      },
    },
  });
  const allowed = registrationRate(apq.perMinute);
  // Per operation (a batch's operations each have their own context): what to register once it runs.
  const pending = new WeakMap<object, Registration>();
  const registration: Plugin = {
    onParams({ params, request, context }) {
      const hash = apolloHash(params);
      if (!hash || !params.query) return;
      if (sha256(params.query) !== hash) {
        throw createGraphQLError('persistedQuery.sha256Hash is not the sha256 of the query document', {
          extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } },
        });
      }
      if (manifest.has(hash) || registered.has(hash)) return;
      const address = clientAddress(
        request,
        (context as { req?: IncomingMessage }).req,
        apq.clientIpHeader,
        apq.trustedProxyHops,
      );
      pending.set(context, { hash, query: params.query, address });
    },
    async onExecute({ args }) {
      const context = args.contextValue as object;
      const entry = pending.get(context);
      if (!entry) return;
      pending.delete(context);
      // An operation name the document does not have: execution refuses it, nothing to keep.
      if (!getOperationAST(args.document, args.operationName)) return;
      if (!allowed(entry.address)) {
        cacheEvents.inc({ cache: 'apq', event: 'rate_limited' });
        return;
      }
      await registered.set(entry.hash, entry.query);
    },
  };
  return mode === 'allow' ? [lookup, registration] : [lookup];
}
