/**
 * Projection: which columns a resolver must read, derived from the operation.
 *
 * graphql-parse-resolve-info resolves fragments, inline fragments and aliases into
 * `fieldsByTypeName`; we then map field names to columns through a whitelist, so
 * nothing from the request text ever reaches SQL.
 */
import { type ASTNode, type GraphQLResolveInfo, Kind, visit } from 'graphql';
import { parseResolveInfo, type ResolveTree } from 'graphql-parse-resolve-info';

/** Field name → the columns that field needs. Fields not listed (e.g. `__typename`, `id`) need none. */
export type ColumnMap<C extends string> = Readonly<Record<string, readonly C[]>>;

type Step = readonly [typeName: string, fieldName: string];

function childTrees(trees: ResolveTree[], [typeName, fieldName]: Step): ResolveTree[] {
  return trees.flatMap((t) => Object.values(t.fieldsByTypeName[typeName] ?? {}).filter((c) => c.name === fieldName));
}

/**
 * Parsed selections, per field node list: every item of a list field (50 × `Order.restaurant`)
 * shares one `fieldNodes` array, and Yoga's document cache hands every request of the same
 * document the same nodes, so a selection is read once per document, not once per request or
 * item. Only `@include`/`@skip` with a variable make a selection depend on the request: those
 * operations are keyed by their variables object too. WeakMaps: entries go with the documents.
 */
const memo = new WeakMap<object, WeakMap<object, Map<string, Set<string>>>>();
const STATIC = {};
const variableDirectives = new WeakMap<object, boolean>();

/** True when an `@include`/`@skip` of the operation or its fragments takes a variable. */
function dependsOnVariables(info: GraphQLResolveInfo): boolean {
  let known = variableDirectives.get(info.operation);
  if (known === undefined) {
    known = false;
    const check = (node: ASTNode) =>
      visit(node, {
        Directive(d) {
          if (
            (d.name.value === 'include' || d.name.value === 'skip') &&
            d.arguments?.some((a) => a.value.kind === Kind.VARIABLE)
          ) {
            known = true;
          }
        },
      });
    check(info.operation);
    for (const f of Object.values(info.fragments)) check(f);
    variableDirectives.set(info.operation, known);
  }
  return known;
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
  const key = `${typeNames.join(',')}|${path.map((p) => p.join('.')).join('/')}`;
  const scope = dependsOnVariables(info) ? info.variableValues : STATIC;
  let perRequest = memo.get(scope);
  if (!perRequest) {
    perRequest = new WeakMap();
    memo.set(scope, perRequest);
  }
  let byKey = perRequest.get(info.fieldNodes);
  if (!byKey) {
    byKey = new Map();
    perRequest.set(info.fieldNodes, byKey);
  }
  let names = byKey.get(key);
  if (!names) {
    names = readFieldNames(info, typeNames, path);
    byKey.set(key, names);
  }
  return names;
}

function readFieldNames(info: GraphQLResolveInfo, typeNames: readonly string[], path: readonly Step[]): Set<string> {
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

/** A column the projection should have read is missing: a bug, reported as an internal error. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`projection did not read ${what}`);
  return value;
}
