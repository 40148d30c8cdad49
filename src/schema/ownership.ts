/**
 * Rows that belong to a user: a type declares `ownedBy` (the row's owner id), and every field of
 * it resolves only for a row whose owner this response may show (`Context.owners`); for any other
 * row it is the same NOT_FOUND as a missing one ("Order not found"), so ids cannot be probed.
 * The loaders already filter such rows by owner in SQL: this is the second wall.
 *
 * Ours, not a type-level `authScopes` of @pothos/plugin-scope-auth (which it replaced for this
 * one rule): the plugin runs a type's scopes through its request cache and step machinery for
 * every field of every object; for a page of 50 orders (benchmark Q2) this check took the
 * gateway's CPU per request from 2.10 to 1.48 ms (medians of 4 alternating rounds), and the
 * plugin's once-per-object mode (`runScopesOnType`, in `isTypeOf`) does not work under graphql-jit,
 * which calls `isTypeOf` without the context. Here the check is one Set lookup per field.
 * Field-level scopes (`authenticated`) stay with scope-auth.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { notFound } from '../errors.ts';

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      ownership: OwnershipPlugin<Types>;
    }
    interface ObjectTypeOptions<Types extends SchemaTypes = SchemaTypes, Shape = unknown> {
      /** The id of the user the row belongs to: its fields resolve only for that user (else NOT_FOUND). */
      ownedBy?: (row: Shape) => string;
    }
  }
}

type Owners = { owners: ReadonlySet<string> };

class OwnershipPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    const parent = this.buildCache.getTypeConfig(fieldConfig.parentType);
    const ownedBy = (parent.pothosOptions as { ownedBy?: (row: unknown) => string }).ownedBy;
    if (parent.kind !== 'Object' || !ownedBy) return resolver;
    const typeName = parent.name;
    return (row, args, ctx, info) => {
      if (!(ctx as Owners).owners.has(ownedBy(row))) throw notFound(typeName);
      return resolver(row, args, ctx, info);
    };
  }
}

const pluginName = 'ownership';
SchemaBuilder.registerPlugin(pluginName, OwnershipPlugin);
export default pluginName;
