/**
 * The depth rule for introspection-only documents (every root field is `__schema`,
 * `__type` or `__typename`): GraphiQL's own introspection query is 13 levels deep, more
 * than MAX_DEPTH allows, so these documents get their own limits instead of a pass:
 * - depth at most MAX_INTROSPECTION_DEPTH (`ofType` chains need it);
 * - at most MAX_INTROSPECTION_LISTS nested list fields (`types { fields { args } }` is 3).
 *   Depth alone does not bound introspection: `fields { type { fields { type … } } }`
 *   multiplies by the number of fields at every level, which is the known blow-up.
 * Fragments are followed (cycles and repeats too), whatever their names, so naming an
 * operation or fragment `__schema` changes nothing. Every other document keeps
 * graphql-armor's MAX_DEPTH. Production refuses introspection altogether.
 */

import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const MAX_INTROSPECTION_DEPTH = 15;
export const MAX_INTROSPECTION_LISTS = 3;

const META_ROOTS = new Set(['__schema', '__type', '__typename']);
/** The list fields of the introspection types. */
const LIST_FIELDS = new Set([
  'types',
  'fields',
  'args',
  'inputFields',
  'interfaces',
  'possibleTypes',
  'enumValues',
  'directives',
]);

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  return new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
}

/** Whether every operation of the document selects only meta fields at its root. */
export function isIntrospectionOnly(document: DocumentNode): boolean {
  const fragments = fragmentsOf(document);
  const rootsOnlyMeta = (set: SelectionSetNode, seen: Set<string>): boolean =>
    set.selections.every((s) => {
      if (s.kind === Kind.FIELD) return META_ROOTS.has(s.name.value);
      if (s.kind === Kind.INLINE_FRAGMENT) return rootsOnlyMeta(s.selectionSet, seen);
      if (seen.has(s.name.value)) return true;
      const f = fragments.get(s.name.value);
      return f ? rootsOnlyMeta(f.selectionSet, new Set([...seen, s.name.value])) : true;
    });
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  return operations.length > 0 && operations.every((op) => rootsOnlyMeta(op.selectionSet, new Set()));
}

/**
 * The deepest (depth, nested lists) a selection reaches. The walk stops as soon as a limit is
 * passed, so a refusal reports limit + 1: a hostile document (fragments spread at every level
 * grow exponentially) is never walked in full.
 */
function measure(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  depth: number,
  lists: number,
  path: Set<string>,
): { depth: number; lists: number } {
  let worst = { depth, lists };
  for (const s of set.selections) {
    if (worst.depth > MAX_INTROSPECTION_DEPTH || worst.lists > MAX_INTROSPECTION_LISTS) break;
    let m: { depth: number; lists: number } | undefined;
    if (s.kind === Kind.FIELD) {
      const d = depth + 1;
      const l = lists + (LIST_FIELDS.has(s.name.value) ? 1 : 0);
      m = s.selectionSet ? measure(s.selectionSet, fragments, d, l, path) : { depth: d, lists: l };
    } else if (s.kind === Kind.INLINE_FRAGMENT) {
      m = measure(s.selectionSet, fragments, depth, lists, path);
    } else if (!path.has(s.name.value)) {
      // A fragment is measured where it is spread (a cycle is a validation error anyway).
      const f = fragments.get(s.name.value);
      if (f) m = measure(f.selectionSet, fragments, depth, lists, new Set([...path, s.name.value]));
    }
    if (m) worst = { depth: Math.max(worst.depth, m.depth), lists: Math.max(worst.lists, m.lists) };
  }
  return worst;
}

/** The validation rule for introspection-only documents; `onReject` builds the error. */
export function introspectionLimitRule(
  onReject: (what: 'depth' | 'lists', measured: number, limit: number) => GraphQLError,
) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const fragments = fragmentsOf(context.getDocument());
      const { depth, lists } = measure(node.selectionSet, fragments, 0, 0, new Set());
      if (depth > MAX_INTROSPECTION_DEPTH) context.reportError(onReject('depth', depth, MAX_INTROSPECTION_DEPTH));
      else if (lists > MAX_INTROSPECTION_LISTS) context.reportError(onReject('lists', lists, MAX_INTROSPECTION_LISTS));
    },
  });
}

/**
 * Production: graphql-js's rule against `__schema` and `__type` in every document. In place of
 * @graphql-yoga/plugin-disable-introspection, which marks each request in Yoga's request-parsing
 * hook and adds the rule only for marked ones: JSON POSTs served below that hook
 * (src/http/direct-post.ts) would have passed unmarked. Here the rule is part of validation
 * itself, whichever way the request came.
 */
export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
