/**
 * Query limits, all checked before any resolver (so before any SQL): size in bytes
 * (before parsing), tokens (while parsing), depth, aliases and directives (validation;
 * graphql-armor's rules, configured so the known bypasses are closed: introspection
 * fields are not exempt from depth), and cost (src/http/cost.ts, at execution start,
 * when the variables' values are known). Every refusal has its code (docs/contract.md,
 * "Error codes"), the measured value and the limit in `extensions`, and HTTP 400.
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
import { createHeavyLane } from '../backpressure/heavy-lane.ts';
import { ErrorCode } from '../errors.ts';
import { coercePageVariables, operationCost, type PageVariables, UNDETERMINED } from './cost.ts';
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

/** A refusal of the request itself (its body or parameters), before anything runs: HTTP 400. */
function badRequest(message: string): GraphQLError {
  return createGraphQLError(message, { extensions: { code: ErrorCode.BAD_USER_INPUT, http: { status: 400 } } });
}

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/**
 * The request parameters and the type each must have when present (null counts as absent).
 * `documentId` is a persisted operation's id (the app's extra parameter).
 */
const PARAMS = new Map<string, 'string' | 'object'>([
  ['query', 'string'],
  ['operationName', 'string'],
  ['variables', 'object'],
  ['extensions', 'object'],
  ['documentId', 'string'],
]);

/**
 * Every operation's parameters, checked as soon as the body is parsed, before any plugin
 * reads them (onParams). Yoga checks some of them, but after the plugins (which then failed
 * on `{"query": 1}`), not `operationName` at all, and with a code of its own (not one of
 * src/errors.ts) inside a batch.
 * @throws BAD_USER_INPUT (HTTP 400) naming the parameter
 */
export function checkParams(params: unknown): void {
  if (kindOf(params) !== 'object') {
    throw badRequest(`Each operation must be a JSON object with a "query" (got ${kindOf(params)})`);
  }
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    if (value == null) continue;
    const expected = PARAMS.get(name);
    if (!expected) throw badRequest(`Unknown request parameter "${name}"`);
    if (kindOf(value) !== expected) {
      throw badRequest(
        `The "${name}" parameter must be ${expected === 'object' ? 'an object' : 'a string'} (got ${kindOf(value)})`,
      );
    }
  }
}

/**
 * Yoga's parsers throw plain errors on some bad input (`JSON.parse` of a GET's or a form's
 * `variables`, a multipart field): those are the client's, not internal ones. Errors that
 * already say what went wrong with a status (body too large…) pass as they are.
 */
function requestReadError(error: unknown): unknown {
  if (error instanceof Error && error.name === 'AbortError') return error;
  if (error instanceof Error && error.name === 'GraphQLError') {
    const e = error as GraphQLError;
    return (e.extensions?.http as { status?: number } | undefined)?.status ? e : badRequest(e.message);
  }
  if (error instanceof SyntaxError) return badRequest(`The request parameters are not valid JSON: ${error.message}`);
  return badRequest('The request body could not be read');
}

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

/** A page-size variable in the cost cache's key: omitted, undetermined and a value are distinct. */
function pageKey(variables: PageVariables, name: string): unknown {
  if (!Object.hasOwn(variables, name)) return 'omitted';
  const value = variables[name];
  return value === UNDETERMINED ? 'undetermined' : (value ?? null);
}

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
  const heavyLane = createHeavyLane(limits);
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
      onRequestParse({ requestParser, setRequestParser }) {
        if (requestParser) {
          const parse = requestParser;
          setRequestParser(async (request) => {
            try {
              return await parse(request);
            } catch (error) {
              throw requestReadError(error);
            }
          });
        }
        return {
          // Before the operations of a batch are even looked at: each one counts.
          onRequestParseDone({ requestParserResult }) {
            if (Array.isArray(requestParserResult) && requestParserResult.length > limits.maxBatch) {
              throw limitError('BATCH_LIMIT_EXCEEDED', 'operations', requestParserResult.length, limits.maxBatch);
            }
            if (!Array.isArray(requestParserResult)) {
              checkParams(requestParserResult);
              return;
            }
            if (requestParserResult.length === 0) throw badRequest('The batch is empty: send at least one operation');
            // One malformed operation makes the whole body malformed: refused before any of it runs.
            requestParserResult.forEach((params, i) => {
              try {
                checkParams(params);
              } catch (error) {
                throw badRequest(`Operation ${i + 1} of the batch: ${(error as Error).message}`);
              }
            });
          },
        };
      },
      onParams({ params }) {
        const bytes = typeof params.query === 'string' ? Buffer.byteLength(params.query) : 0;
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
        let entry = priced.get(args.document);
        if (!entry) {
          entry = { variables: pageSizeVariables(args.document), costs: new Map() };
          priced.set(args.document, entry);
        }
        // Yoga hands the executor the request's raw variables (graphql-js and graphql-jit coerce
        // them themselves): coerce the ones that size pages the same way, and price and key on that.
        const variables = coercePageVariables(
          args.schema,
          operation,
          entry.variables,
          (args.variableValues ?? {}) as Record<string, unknown>,
        );
        const key = `${operation.name?.value ?? ''}\0${JSON.stringify(entry.variables.map((v) => pageKey(variables, v)))}`;
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
        return heavyLane(cost, signal);
      },
    },
  ];
}
