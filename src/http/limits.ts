/**
 * Query limits, all checked before any resolver (so before any SQL): size in bytes
 * (before parsing), tokens (while parsing), depth, aliases and directives (validation;
 * graphql-armor's rules, configured so the known bypasses are closed: introspection
 * fields are not exempt from depth), and cost (src/http/cost.ts, at execution start,
 * when the variables' values are known). Every refusal has its contract code, the
 * measured value and the limit in `extensions`, and HTTP 400.
 */
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  Kind,
  type OperationDefinitionNode,
  visit,
} from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { Gate } from '../gate.ts';
import { requestsShed } from '../metrics.ts';
import { ErrorCode } from '../schema/errors.ts';
import { operationCost } from './cost.ts';
import { introspectionLimitRule, isIntrospectionOnly } from './introspection-limit.ts';

export type QueryLimits = {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  maxQueryBytes: number;
  /** the page size the cost model assumes at most (larger pages are refused by their resolvers) */
  maxPageSize: number;
  /** operations in one batched request (a JSON array) */
  maxBatch: number;
  /**
   * Heavy operations (cost ≥ `heavyCost`: whole pages of similar lists, searches…) run at
   * most `maxHeavy` at once, `maxHeavy` × 2 more waiting; beyond, 503 OVERLOADED. Without
   * this lane a flood of them fills every request slot and starves the cheap ones.
   */
  heavyCost: number;
  maxHeavy: number;
  /** how long a heavy operation may wait for its lane (QUEUE_TIMEOUT_MS) */
  queueTimeoutMs: number;
};

/** `measured` NaN: not known (graphql-armor's token limit stops parsing at limit + 1 without a count). */
export function limitError(code: string, what: string, measured: number, limit: number): GraphQLError {
  const known = Number.isFinite(measured);
  return createGraphQLError(
    known ? `The ${what} (${measured}) exceeds the limit of ${limit}` : `The ${what} exceed the limit of ${limit}`,
    { extensions: { code, ...(known ? { [what]: measured } : {}), limit, http: { status: 400 } } },
  );
}

/** graphql-armor reports the measured value only in its message ("… exceeded, found 9."). */
const found = (e: Error) => Number(/found (\d+)/.exec(e.message)?.[1] ?? Number.NaN);

/** The variables a document passes as `first` (the only ones its cost depends on). */
function pageSizeVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (node.name.value === 'first' && node.value.kind === Kind.VARIABLE) names.add(node.value.name.value);
    },
  });
  return [...names];
}

const HEAVY_RETRY_AFTER_S = 2;

type PricedDocument = { variables: string[]; costs: Map<string, number> };

/** A few distinct page sizes per document are remembered; more start the list afresh (bounded). */
const COSTS_PER_DOCUMENT = 32;

export function useQueryLimits(limits: QueryLimits): Plugin[] {
  const reject = (code: string, what: string, limit: number) => (_ctx: unknown, error: Error) => {
    throw limitError(code, what, found(error), limit);
  };
  // Priced once per (document, operation, page-size variables): the documents are Yoga's
  // cached ASTs, so a persisted or repeated operation is priced on its first run only.
  const priced = new WeakMap<DocumentNode, PricedDocument>();
  const heavyLane = new Gate(limits.maxHeavy, limits.queueTimeoutMs, limits.maxHeavy * 2, 'a heavy-operation slot');
  const depthRule = maxDepthRule({
    n: limits.maxDepth,
    ignoreIntrospection: false,
    flattenFragments: false,
    propagateOnRejection: false,
    onReject: [reject('DEPTH_LIMIT_EXCEEDED', 'depth', limits.maxDepth)],
  });
  const introspectionRule = introspectionLimitRule((what, measured, limit) =>
    limitError('DEPTH_LIMIT_EXCEEDED', what === 'depth' ? 'depth' : 'nestedLists', measured, limit),
  );
  return [
    {
      // Before the operations of a batch are even looked at: each one counts.
      onRequestParse() {
        return {
          onRequestParseDone({ requestParserResult }) {
            if (Array.isArray(requestParserResult) && requestParserResult.length > limits.maxBatch) {
              throw limitError('BATCH_LIMIT_EXCEEDED', 'operations', requestParserResult.length, limits.maxBatch);
            }
          },
        };
      },
      onParams({ params }) {
        const bytes = Buffer.byteLength(params.query ?? '');
        if (bytes > limits.maxQueryBytes) throw limitError('QUERY_TOO_LARGE', 'bytes', bytes, limits.maxQueryBytes);
      },
    },
    maxTokensPlugin({
      n: limits.maxTokens,
      propagateOnRejection: false,
      onReject: [reject('QUERY_TOO_LARGE', 'tokens', limits.maxTokens)],
    }),
    // graphql-armor's depth rule for every document but introspection-only ones, which get
    // their own (introspection-limit.ts): GraphiQL's introspection query is deeper than MAX_DEPTH.
    {
      onValidate({ params, addValidationRule }) {
        addValidationRule(isIntrospectionOnly(params.documentAST) ? introspectionRule : depthRule);
      },
    },
    maxAliasesPlugin({
      n: limits.maxAliases,
      propagateOnRejection: false,
      onReject: [reject('ALIAS_LIMIT_EXCEEDED', 'aliases', limits.maxAliases)],
    }),
    maxDirectivesPlugin({
      n: limits.maxDirectives,
      propagateOnRejection: false,
      onReject: [reject('DIRECTIVE_LIMIT_EXCEEDED', 'directives', limits.maxDirectives)],
    }),
    {
      onExecute({ args }) {
        const fragments: Record<string, FragmentDefinitionNode> = {};
        let operation: OperationDefinitionNode | undefined;
        for (const d of args.document.definitions) {
          if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
          else if (
            d.kind === Kind.OPERATION_DEFINITION &&
            (!args.operationName || d.name?.value === args.operationName)
          ) {
            operation ??= d;
          }
        }
        if (!operation) return;
        const variables = (args.variableValues ?? {}) as Record<string, unknown>;
        let entry = priced.get(args.document);
        if (!entry) {
          entry = { variables: pageSizeVariables(args.document), costs: new Map() };
          priced.set(args.document, entry);
        }
        const key = `${operation.name?.value ?? ''}\0${JSON.stringify(entry.variables.map((v) => variables[v] ?? null))}`;
        let cost = entry.costs.get(key);
        if (cost === undefined) {
          cost = operationCost(
            args.schema,
            operation,
            fragments,
            variables,
            // Priced exactly up to 100× the limit (the error shows the real figure); past it the walk stops.
            limits.maxCost * 100,
            limits.maxPageSize,
          );
          if (entry.costs.size >= COSTS_PER_DOCUMENT) entry.costs.clear();
          entry.costs.set(key, cost);
        }
        if (cost > limits.maxCost) throw limitError('COST_LIMIT_EXCEEDED', 'cost', cost, limits.maxCost);
        if (cost < limits.heavyCost) return;
        const signal = (args.contextValue as { request?: Request }).request?.signal;
        return heavyLane.acquire(signal).then(
          () => ({ onExecuteDone: () => heavyLane.release() }),
          () => {
            requestsShed.inc({ reason: 'heavy' });
            throw createGraphQLError('Too many expensive operations in progress; try again shortly', {
              extensions: {
                code: ErrorCode.OVERLOADED,
                reason: 'heavy',
                cost,
                retryAfter: HEAVY_RETRY_AFTER_S,
                http: { status: 503, headers: { 'Retry-After': String(HEAVY_RETRY_AFTER_S) } },
              },
            });
          },
        );
      },
    },
  ];
}
