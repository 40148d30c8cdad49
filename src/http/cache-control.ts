/**
 * HTTP caching of GraphQL responses (docs/contract.md, "Cache-Control"):
 * - anonymous GETs that read only public restaurant data: `public, max-age=300`;
 * - anything sent with `Authorization` is never public: recommendations and chef's
 *   choice `private, max-age=600`, public data `private, max-age=300`, anything else
 *   (the user, their orders) `private, no-store`;
 * - POST, mutations, errors and refusals: `no-store`.
 * Cacheable GETs carry a strong `ETag` (sha256 of the body) and `Vary: Authorization, Origin`
 * (with or without an `Origin` in the request: a shared cache must not hand the copy made for
 * one origin, with its `Access-Control-Allow-Origin` or without one, to another); a matching
 * `If-None-Match` gets 304 with no body.
 *
 * The decision is made from the operation's root fields, which is where identity
 * enters this schema (`me`, `node` for orders and users, recommendations).
 * @graphql-yoga/plugin-response-cache would add a server-side store of whole responses
 * on top of the caches we already have; clients and CDNs need only the headers.
 */
import { createHash } from 'node:crypto';
import { type DocumentNode, getOperationAST, Kind, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { requestUrl } from './request-url.ts';

/** Root fields whose answers are the same for everyone. */
const PUBLIC_FIELDS = new Set(['restaurants', 'restaurant', 'searchRestaurants', 'cuisines', 'node', '__typename']);
/** Personal, but fine to reuse for a while: `private, max-age=600`. */
const PRIVATE_CACHEABLE_FIELDS = new Set(['recommendations', 'chefChoice']);

export const CACHE_CONTROL = {
  public: 'public, max-age=300',
  privatePublicData: 'private, max-age=300',
  privateRecommendations: 'private, max-age=600',
  privateNoStore: 'private, no-store',
  noStore: 'no-store',
} as const;

/** Per operation of a parsed document (Yoga caches documents): computed once, not per request. */
const rootFieldsCache = new WeakMap<OperationDefinitionNode, Set<string>>();

/** The root field names a query selects (through fragments and inline fragments); undefined for other operations. */
function rootFields(document: DocumentNode, operationName: string | null | undefined): Set<string> | undefined {
  const op = getOperationAST(document, operationName);
  if (op?.operation !== 'query') return undefined;
  let names = rootFieldsCache.get(op);
  if (!names) {
    names = collectRootFields(document, op);
    rootFieldsCache.set(op, names);
  }
  return names;
}

function collectRootFields(document: DocumentNode, op: OperationDefinitionNode): Set<string> {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d]] : [])),
  );
  const names = new Set<string>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) names.add(s.name.value);
      else if (s.kind === Kind.INLINE_FRAGMENT) walk(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        const f = fragments.get(s.name.value);
        if (f) walk(f.selectionSet);
      }
    }
  };
  walk(op.selectionSet);
  return names;
}

/** The Cache-Control of a successful GET of a query with these root fields. */
export function cacheControlFor(fields: Set<string>, authenticated: boolean): string {
  const all = [...fields];
  const publicOnly = all.every((f) => PUBLIC_FIELDS.has(f));
  if (!authenticated) return publicOnly ? CACHE_CONTROL.public : CACHE_CONTROL.privateNoStore;
  if (publicOnly) return CACHE_CONTROL.privatePublicData;
  if (all.every((f) => PUBLIC_FIELDS.has(f) || PRIVATE_CACHEABLE_FIELDS.has(f))) {
    return CACHE_CONTROL.privateRecommendations;
  }
  return CACHE_CONTROL.privateNoStore;
}

/** Adds tokens to `Vary`, keeping those already there (case-insensitive, no duplicates). */
export function addVary(headers: Headers, ...names: string[]): void {
  const present = (headers.get('vary') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const lower = new Set(present.map((t) => t.toLowerCase()));
  for (const n of names) if (!lower.has(n.toLowerCase())) present.push(n);
  headers.set('vary', present.join(', '));
}

type Decision = { fields?: Set<string>; failed: boolean };

export function useHttpCaching(graphqlEndpoint: string): Plugin {
  const decisions = new WeakMap<Request, Decision>();
  const decisionOf = (request: Request) => {
    let d = decisions.get(request);
    if (!d) {
      d = { failed: false };
      decisions.set(request, d);
    }
    return d;
  };
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (!request) return;
      const d = decisionOf(request);
      const fields = rootFields(args.document, args.operationName);
      // A batch of several operations: cacheable only if each is, as the strictest of them.
      if (!fields) d.failed = true;
      else d.fields = new Set([...(d.fields ?? []), ...fields]);
    },
    onResultProcess({ request, result }) {
      const results = Array.isArray(result) ? result : [result];
      if (results.some((r) => !r || typeof r !== 'object' || !('data' in r) || ('errors' in r && r.errors))) {
        decisionOf(request).failed = true;
      }
    },
    async onResponse({ request, response, setResponse }) {
      if (requestUrl(request).pathname !== graphqlEndpoint) return;
      if (response.headers.has('cache-control') && response.status !== 200) return; // our 503s say no-store already
      const d = decisions.get(request);
      const cacheable = request.method === 'GET' && response.status === 200 && d?.fields && !d.failed;
      if (!cacheable) {
        response.headers.set('cache-control', CACHE_CONTROL.noStore);
        return;
      }
      const policy = cacheControlFor(d.fields!, request.headers.has('authorization'));
      response.headers.set('cache-control', policy);
      addVary(response.headers, 'Authorization', 'Origin');
      if (policy.includes('no-store')) return;
      const body = await response.clone().arrayBuffer();
      const etag = `"${createHash('sha256').update(new Uint8Array(body)).digest('base64url')}"`;
      response.headers.set('etag', etag);
      const match = request.headers.get('if-none-match');
      if (match?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        const headers = new Headers(response.headers);
        headers.delete('content-length');
        setResponse(new Response(null, { status: 304, headers }));
      }
    },
  };
}
