/**
 * Projection: which columns a resolver must read, derived from the operation.
 *
 * graphql-parse-resolve-info resolves fragments, inline fragments and aliases into
 * `fieldsByTypeName`; the selected field names are mapped to columns through what each field
 * declared (`select`, src/schema/field-needs.ts), read from the built schema, so nothing from
 * the request text ever reaches SQL.
 */
import { type ASTNode, type GraphQLObjectType, type GraphQLResolveInfo, Kind, visit } from 'graphql';
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
 * Parsed selections and their columns, per field node list: every item of a list field
 * (50 × `Order.restaurant`) shares one `fieldNodes` array, and Yoga's document cache hands every
 * request of a document the same nodes, so a selection is read, and its columns listed, once per
 * document, not once per request or item (parsing it per request was ~2 % of a small request's
 * CPU). Only `@include`/`@skip` with a variable make a selection depend on the request: such
 * operations are keyed by their variables object too. WeakMaps: entries go with the documents.
 */
const memo = new WeakMap<object, WeakMap<object, Map<string, unknown>>>();
const STATIC = {};
const variableDirectives = new WeakMap<object, boolean>();

/** True when an `@include`/`@skip` of the operation or its fragments takes a variable. */
function dependsOnVariables(info: GraphQLResolveInfo): boolean {
  let known = variableDirectives.get(info.operation);
  if (known === undefined) {
    let found = false;
    const check = (node: ASTNode) =>
      visit(node, {
        Directive(d) {
          const conditional = d.name.value === 'include' || d.name.value === 'skip';
          if (conditional && d.arguments?.some((a) => a.value.kind === Kind.VARIABLE)) found = true;
        },
      });
    check(info.operation);
    for (const f of Object.values(info.fragments)) check(f);
    known = found;
    variableDirectives.set(info.operation, known);
  }
  return known;
}

function memoized<T>(info: GraphQLResolveInfo, key: string, compute: () => T): T {
  const scope = dependsOnVariables(info) ? info.variableValues : STATIC;
  let perScope = memo.get(scope);
  if (!perScope) {
    perScope = new WeakMap();
    memo.set(scope, perScope);
  }
  let byKey = perScope.get(info.fieldNodes);
  if (!byKey) {
    byKey = new Map();
    perScope.set(info.fieldNodes, byKey);
  }
  if (byKey.has(key)) return byKey.get(key) as T;
  const value = compute();
  byKey.set(key, value);
  return value;
}

const NO_STEPS: readonly Step[] = Object.freeze([]);
const NO_COLUMNS: readonly never[] = Object.freeze([]);

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
  path: readonly Step[] = NO_STEPS,
  also: readonly (keyof R & string)[] = NO_COLUMNS,
): (keyof R & string)[] {
  // The usual call (a field's own type, no path, nothing added) keys by the type name alone: it
  // runs once per row under a list (Order.restaurant), and the key's string cost more than the lookup.
  const key =
    path.length === 0 && also.length === 0 ? typeName : `columns:${typeName}|${pathKey(path)}|${also.join(',')}`;
  return memoized(info, key, () => {
    const { always, byField, typeNames } = projectionOf(info, typeName);
    const columns = new Set<string>([...always, ...also]);
    for (const f of selectedFieldNames(info, typeNames, path)) for (const c of byField.get(f) ?? []) columns.add(c);
    return [...columns].sort() as (keyof R & string)[];
  });
}
