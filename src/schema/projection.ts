/**
 * Projection: which columns a resolver must read, derived from the operation.
 *
 * graphql-parse-resolve-info resolves fragments, inline fragments and aliases into
 * `fieldsByTypeName`; the selected field names are mapped to columns through what each field
 * declared (`select`, src/schema/field-needs.ts), read from the built schema, so nothing from
 * the request text ever reaches SQL.
 */
import type { GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { parseResolveInfo, type ResolveTree } from 'graphql-parse-resolve-info';
import { declaredColumns } from './field-needs.ts';

type Step = readonly [typeName: string, fieldName: string];

/** A projected type's declarations: its own columns, each field's, and the type names a selection may use. */
type Projection = {
  always: readonly string[];
  byField: ReadonlyMap<string, readonly string[]>;
  typeNames: readonly string[];
};

/** Derived once per schema type (a WeakMap: it goes with the schema), never per request. */
const projections = new WeakMap<GraphQLObjectType, Projection>();

function projectionOf(info: GraphQLResolveInfo, typeName: string): Projection {
  const type = info.schema.getType(typeName) as GraphQLObjectType | undefined;
  const always = type && declaredColumns(type);
  if (!type || !always) throw new Error(`${typeName} is not a projected type (no select)`);
  let projection = projections.get(type);
  if (!projection) {
    projection = {
      always,
      byField: new Map(Object.values(type.getFields()).map((f) => [f.name, declaredColumns(f) ?? []])),
      typeNames: [typeName, ...type.getInterfaces().map((i) => i.name)],
    };
    projections.set(type, projection);
  }
  return projection;
}

/** The columns each field of a projected type declared (for tests and docs). */
export function fieldColumns(info: Pick<GraphQLResolveInfo, 'schema'>, typeName: string) {
  const { always, byField } = projectionOf(info as GraphQLResolveInfo, typeName);
  return { always, byField: Object.fromEntries(byField) };
}

function childTrees(trees: ResolveTree[], [typeName, fieldName]: Step): ResolveTree[] {
  return trees.flatMap((t) => Object.values(t.fieldsByTypeName[typeName] ?? {}).filter((c) => c.name === fieldName));
}

/**
 * Parsed selections and their columns, per request (keyed by its variables object, since
 * `@include(if: $x)` depends on them) and per field node list: every item of a list field
 * (50 × `Order.restaurant`) shares one `fieldNodes` array, so a selection is read, and its
 * columns listed, once per request, not once per item. WeakMaps: entries go with the request.
 */
const memo = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();

function memoized<T>(info: GraphQLResolveInfo, key: string, compute: () => T): T {
  let perRequest = memo.get(info.variableValues);
  if (!perRequest) {
    perRequest = new WeakMap();
    memo.set(info.variableValues, perRequest);
  }
  let byKey = perRequest.get(info.fieldNodes);
  if (!byKey) {
    byKey = new Map();
    perRequest.set(info.fieldNodes, byKey);
  }
  if (byKey.has(key)) return byKey.get(key) as T;
  const value = compute();
  byKey.set(key, value);
  return value;
}

const pathKey = (path: readonly Step[]) => path.map((p) => p.join('.')).join('/');

/**
 * Field names selected on `typeNames` (a type and the interfaces it implements) under the
 * current field, after walking `path` (e.g. connection → edges → node). All aliases merge.
 */
export function selectedFieldNames(
  info: GraphQLResolveInfo,
  typeNames: readonly string[],
  path: readonly Step[] = [],
): Set<string> {
  return memoized(info, `${typeNames.join(',')}|${pathKey(path)}`, () => readFieldNames(info, typeNames, path));
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

/**
 * The sorted, de-duplicated columns a selection of the projected type `typeName` (and its
 * interfaces) needs under the current field, after `path`: the type's own columns, `also`, and
 * those of every selected field. `R` is the row type the fields declared their columns against.
 */
export function projectedColumns<R extends object>(
  info: GraphQLResolveInfo,
  typeName: string,
  path: readonly Step[] = [],
  also: readonly (keyof R & string)[] = [],
): (keyof R & string)[] {
  return memoized(info, `columns:${typeName}|${pathKey(path)}|${also.join(',')}`, () => {
    const { always, byField, typeNames } = projectionOf(info, typeName);
    const columns = new Set<string>([...always, ...also]);
    for (const f of selectedFieldNames(info, typeNames, path)) for (const c of byField.get(f) ?? []) columns.add(c);
    return [...columns].sort() as (keyof R & string)[];
  });
}
