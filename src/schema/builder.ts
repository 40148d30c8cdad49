import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin, { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { Context } from '../context.ts';
import { authenticationRequired, badUserInput, notFound } from '../errors.ts';
import FieldNeedsPlugin from './field-needs.ts';
import OwnershipPlugin from './ownership.ts';
import { isIdString } from './pagination.ts';
import SyncNodeIdsPlugin from './sync-node-ids.ts';
import { inputError } from './validation.ts';

const ASCII = /^[\x20-\x7e]*$/;

/** The node types and their id shape (bigint keys as decimal strings). */
const NODE_TYPES = new Set(['Restaurant', 'Order', 'User']);

/** Whether `failure` is (or contains) a failed `authenticated` scope. */
function needsAuthentication(failure: AuthFailure): boolean {
  if (failure.kind === AuthScopeFailureType.AuthScope) return failure.scope === 'authenticated';
  if (failure.kind === AuthScopeFailureType.AnyAuthScopes || failure.kind === AuthScopeFailureType.AllAuthScopes) {
    return failure.failures.some(needsAuthentication);
  }
  return false;
}

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  /**
   * Authorization of fields: `authenticated`, the request carries a valid token. Rows that belong
   * to a user declare `ownedBy` on their type instead (src/schema/ownership.ts).
   */
  AuthScopes: { authenticated: boolean };
  /**
   * What every connection value carries besides edges and pageInfo (the relay plugin merges it
   * into each connection's shape, so no cast reads it): the count behind `totalCount`, run only
   * when that field is selected.
   */
  Connection: { count: () => Promise<number> };
}>({
  defaultFieldNullability: false,
  // ValidationPlugin: mutation inputs' rules at their argument (src/schema/validation.ts); listed
  // before RelayPlugin so that global ids are decoded (or refused) before the rules see them.
  // FieldNeedsPlugin: `select` and `cost` at the field (src/schema/field-needs.ts).
  // OwnershipPlugin: `ownedBy` at the type (src/schema/ownership.ts).
  // SyncNodeIdsPlugin: node ids without relay's async resolver (src/schema/sync-node-ids.ts).
  plugins: [ScopeAuthPlugin, ValidationPlugin, RelayPlugin, SyncNodeIdsPlugin, FieldNeedsPlugin, OwnershipPlugin],
  validation: { validationError: inputError },
  scopeAuth: {
    authScopes: (ctx) => ({ authenticated: ctx.viewer !== null }),
    // Not signed in: UNAUTHENTICATED. Any other failed scope: the same NOT_FOUND as a missing
    // row (message included), so ids cannot be probed.
    unauthorizedError: (_parent, _ctx, info, result) =>
      needsAuthentication(result.failure) ? authenticationRequired() : notFound(info.parentType.name),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // Connections expose `edges` only (schema.graphql, docs/contract.md "GraphQL"): no `nodes`.
    nodesQueryOptions: false,
    // The same base64 as Pothos' (`Buffer.from(…).toString('base64')`), by `btoa` for the ASCII ids
    // this schema has (a type name and a number): 65 against 150 ns an id, and an answer has one per row.
    encodeGlobalID: (typename, id) => {
      const text = `${typename}:${id}`;
      return ASCII.test(text) ? btoa(text) : encodeGlobalID(typename, id);
    },
    // Refuse ids of unknown types or with a non-numeric key before any loader or SQL sees them.
    decodeGlobalID: (globalID) => {
      let decoded: { typename: string; id: string } | undefined;
      try {
        decoded = decodeGlobalID(globalID);
      } catch {}
      if (!decoded || !NODE_TYPES.has(decoded.typename) || !isIdString(decoded.id)) {
        throw badUserInput(`Invalid id: ${JSON.stringify(globalID.slice(0, 100))}`, { argument: 'id' });
      }
      return decoded;
    },
    // A missing id and one the viewer may not see give the same NOT_FOUND.
    nodeQueryOptions: {
      resolve: async (_root, args, _ctx, _info, resolveNode) => {
        const node = await resolveNode(args.id);
        if (!node) throw notFound(args.id.typename);
        return node;
      },
    },
  },
});

builder.queryType({});
builder.mutationType({});
