/**
 * Projection: which columns a resolver must read, derived from the operation.
 *
 * graphql-parse-resolve-info resolves fragments, inline fragments and aliases into
 * `fieldsByTypeName`; we then map field names to columns through a whitelist, so
 * nothing from the request text ever reaches SQL.
 */
import type { GraphQLResolveInfo } from 'graphql';
import { parseResolveInfo, type ResolveTree } from 'graphql-parse-resolve-info';

/** Field name → the columns that field needs. Fields not listed (e.g. `__typename`, `id`) need none. */
export type ColumnMap<C extends string> = Readonly<Record<string, readonly C[]>>;

type Step = readonly [typeName: string, fieldName: string];

function childTrees(trees: ResolveTree[], [typeName, fieldName]: Step): ResolveTree[] {
  return trees.flatMap((t) => Object.values(t.fieldsByTypeName[typeName] ?? {}).filter((c) => c.name === fieldName));
}

/**
 * Field names selected on `typeNames` (a type and the interfaces it implements) under the
 * current field, after walking `path` (e.g. connection → edges → node). All aliases merge.
 */
export function selectedFieldNames(
  info: GraphQLResolveInfo,
  typeNames: readonly string[],
  path: readonly Step[] = [],
): Set<string> {
  const root = parseResolveInfo(info, { deep: true }) as ResolveTree | null;
  let trees = root ? [root] : [];
  for (const step of path) trees = childTrees(trees, step);
  const names = new Set<string>();
  for (const t of trees)
    for (const typeName of typeNames)
      for (const f of Object.values(t.fieldsByTypeName[typeName] ?? {})) names.add(f.name);
  return names;
}

/** The sorted, de-duplicated columns for `fields`, always including `always`. */
export function columnsFor<C extends string>(fields: Iterable<string>, map: ColumnMap<C>, always: readonly C[]): C[] {
  const columns = new Set<C>(always);
  for (const f of fields) for (const c of map[f] ?? []) columns.add(c);
  return [...columns].sort();
}
