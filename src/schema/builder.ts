import SchemaBuilder from '@pothos/core';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import { badUserInput, notFound } from './errors.ts';
import { isIdString } from './pagination.ts';

/** The node types and their id shape (bigint keys as decimal strings). */
const NODE_TYPES = new Set(['Restaurant', 'Order', 'User']);

export const builder = new SchemaBuilder<{
  Context: Context;
  Scalars: { DateTime: { Input: Date; Output: Date } };
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [RelayPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    edgesFieldOptions: { nullable: false },
    nodeFieldOptions: { nullable: false },
    // `nodes` is not part of the contract.
    nodesQueryOptions: false,
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
