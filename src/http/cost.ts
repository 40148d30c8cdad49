/**
 * The price of an operation, computed before any resolver runs, from the document and
 * the variables' values. Written here because graphql-armor's cost-limit does not
 * multiply by list sizes: every field costs its weight times the number of times it
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
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromAST,
} from 'graphql';

/** Extra weight of fields that do real work per call: a count, a vector pass, a model run. */
export const FIELD_WEIGHTS: Record<string, number> = {
  'RestaurantConnection.totalCount': 10,
  'OrderConnection.totalCount': 10,
  'Restaurant.similar': 20,
  'Query.searchRestaurants': 100,
  'Query.recommendations': 100,
  'Query.chefChoice': 100,
};
/** Lists without a `first` argument: how many items to assume. */
const UNBOUNDED_LIST = 10;

class Exceeded extends Error {}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/** @returns the price, or a number above `limit` as soon as the walk passes it */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
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

  const sizeOf = (field: FieldNode, def: GraphQLField<unknown, unknown> | undefined): number => {
    const arg = def?.args.find((a) => a.name === 'first');
    if (arg) {
      const node = field.arguments?.find((a) => a.name.value === 'first');
      const value = node ? valueFromAST(node.value, arg.type, variables) : arg.defaultValue;
      // A page over MAX_PAGE_SIZE (or not an Int) is refused by its resolver with BAD_USER_INPUT,
      // so it is priced at the largest page that can run.
      return typeof value === 'number' && Number.isInteger(value) ? Math.min(Math.max(1, value), maxPageSize) : 1;
    }
    return def && isList(def.type) ? UNBOUNDED_LIST : 1;
  };

  const walk = (set: SelectionSetNode, type: GraphQLNamedType | null | undefined, multiplier: number) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        const def = fieldDef(type, name);
        add(multiplier * (1 + (type ? (FIELD_WEIGHTS[`${type.name}.${name}`] ?? 0) : 0)));
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
