/**
 * The price of an operation, computed before any resolver runs, from the document and
 * the variables' values as the resolvers will see them: coerced with the operation's
 * defaults (`coercePageVariables`), a `null` or omitted `first` priced as the field's
 * default, anything that cannot be known beforehand at the largest page. Written here
 * because graphql-armor's cost-limit does not multiply by list sizes: every field costs its weight times the number of times it
 * will be resolved, which a `first` argument (its value, a variable's value, or the
 * schema default) multiplies for everything below it. So
 * `restaurants(first: 100) { edges { node { similar(first: 100) { name } } } }` is priced
 * as the 10,000 objects it would build. Fragments are expanded where they are spread
 * (a fragment used at two depths is priced twice; cycles never reach here: validation
 * refuses them), `__typename` costs like any field, and the walk stops as soon as the
 * price passes the limit, so a hostile document cannot make pricing itself expensive.
 */
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  getVariableValues,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  valueFromAST,
} from 'graphql';
import { declaredCost } from '../schema/field-needs.ts';

/** Lists without a `first` argument: how many items to assume. */
const UNBOUNDED_LIST = 10;

class Exceeded extends Error {}

/** A variable whose value cannot be known before execution (its value does not coerce). */
export const UNDETERMINED: unique symbol = Symbol('undetermined');
/** Coerced values of the variables that size pages; a variable that is absent was omitted (no default). */
export type PageVariables = Record<string, unknown>;

/**
 * The values the executor will give `names` (the page-size variables): each coerced on its
 * own with the operation's defaults, exactly as graphql-js (and graphql-jit) do before any
 * resolver runs. One that does not coerce makes execution fail before any resolver, but is
 * priced as undetermined (the largest page) rather than trusting that.
 */
export function coercePageVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  names: readonly string[],
  raw: Record<string, unknown>,
): PageVariables {
  const values: PageVariables = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    if (!names.includes(name)) continue;
    const result = getVariableValues(schema, [definition], raw, { maxErrors: 1 });
    if (result.errors) values[name] = UNDETERMINED;
    else if (Object.hasOwn(result.coerced, name)) values[name] = result.coerced[name];
  }
  return values;
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** @returns the price, or a number above `limit` as soon as the walk passes it */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: PageVariables,
  limit: number,
  maxPageSize: number,
): number {
  let cost = 0;
  const add = (n: number) => {
    cost += n;
    if (cost > limit) throw new Exceeded();
  };
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();

  const fieldDef = (
    type: GraphQLNamedType | null | undefined,
    name: string,
  ): GraphQLField<unknown, unknown> | undefined =>
    type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields()[name] : undefined;

  /** What the resolver gets as `first`: undefined when omitted (so the argument's default applies). */
  const argumentValue = (node: ValueNode | undefined, arg: GraphQLField<unknown, unknown>['args'][number]) => {
    if (!node) return undefined;
    if (node.kind === Kind.VARIABLE) return variables[node.name.value];
    if (node.kind === Kind.NULL) return null;
    return valueFromAST(node, arg.type, variables) ?? UNDETERMINED;
  };

  const sizeOf = (field: FieldNode, def: GraphQLField<unknown, unknown> | undefined): number => {
    const arg = def?.args.find((a) => a.name === 'first');
    if (arg) {
      // Resolvers read `first ?? <the schema default>`: null and omitted are the default.
      const value =
        argumentValue(field.arguments?.find((a) => a.name.value === 'first')?.value, arg) ?? arg.defaultValue;
      // A page over MAX_PAGE_SIZE is refused by its resolver with BAD_USER_INPUT, so it is priced
      // at the largest page that can run; so is anything not known to be an Int.
      return typeof value === 'number' && Number.isInteger(value)
        ? Math.min(Math.max(1, value), maxPageSize)
        : maxPageSize;
    }
    return def && isList(def.type) ? UNBOUNDED_LIST : 1;
  };

  const walk = (set: SelectionSetNode, type: GraphQLNamedType | null | undefined, multiplier: number) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const def = fieldDef(type, name);
        // A field's extra weight (a count, a vector pass, a model run) is declared at the field (`cost`).
        add(multiplier * (1 + (def ? declaredCost(def) : 0)));
        if (selection.selectionSet) {
          // A connection's `first` multiplies its edges; a list field's multiplies its items.
          const size = name === 'edges' ? 1 : sizeOf(selection, def); // edges: the connection's first counted them
          walk(selection.selectionSet, def ? getNamedType(def.type) : undefined, multiplier * size);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        walk(selection.selectionSet, on, multiplier);
      } else {
        const fragment = fragments[selection.name.value];
        if (fragment) walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), multiplier);
      }
    }
  };

  try {
    walk(operation.selectionSet, root, 1);
  } catch (error) {
    if (error instanceof Exceeded) return cost;
    throw error;
  }
  return cost;
}
