/**
 * Per-document state, bounded in bytes. Yoga caches each parsed document by its source;
 * everything else kept per document (Yoga's validation result, the cost in limits.ts, the
 * Cache-Control root fields, graphql-jit's compiled query) sits in WeakMaps keyed by the
 * document object, so it lives exactly as long as the cache holds the document. Two LRUs
 * hold them, each bounded by an estimate of the bytes its documents keep alive:
 * - `DOCUMENT_CACHE_MAX_BYTES`: parsed documents (and parse errors), run on graphql-js;
 * - `JIT_CACHE_MAX_BYTES`: documents with a graphql-jit compiled query.
 * A document is compiled only when it is worth it: a manifest operation on its first run,
 * any other on its second run while cached (a flood of one-off documents compiles
 * nothing), and only documents of one operation (the jit plugin keeps one compiled query
 * per document, whatever `operationName` says). Compiling is budgeted as well: V8 keeps
 * the source of every generated function in its compilation cache for several major GCs
 * after the query is dropped (about 1.3 bytes per generated character), so churn costs
 * memory that no LRU sees. Other than manifest operations, at most `JIT_CACHE_MAX_BYTES`
 * of compiled queries are made per 10 minutes (a token bucket); past it, graphql-js runs.
 *
 * Measured (graphql 16, graphql-jit 0.8, Node 20, heap after GC):
 * - a parsed document keeps 250–530 bytes per token (tokens and locations included),
 *   e.g. 240 KB for 3.4 KB of 28 aliases (678 tokens), 1–25 KB for the clients' operations;
 * - a compiled query keeps 1.4–2.2 bytes per character of the function graphql-jit
 *   generates, about 1.1 more once it has run: 2.3 MB (3.3 MB run) for those 28 aliases
 *   (1.05 M characters), 2–30 KB for the clients' operations. The generated source's
 *   length is read right after compiling (the compiler's `debug` copy, then dropped).
 */
import type { JITCache } from '@envelop/graphql-jit';
import { type DocumentNode, type ExecutionArgs, GraphQLError, Kind } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { Counter } from 'prom-client';
import { registry, watchCache } from '../observability/metrics.ts';

/** Runs of a cached document before it is compiled (manifest operations: the first). */
export const COMPILE_AFTER_RUNS = 2;
/** Upper estimates from the measurements above. */
const PARSED_BYTES_PER_TOKEN = 550;
const COMPILED_BYTES_PER_CHAR = 3.5;
const COMPILED_BASE_BYTES = 4096;
const ERROR_BYTES = 4096;
const BUDGET_WINDOW_MS = 600_000;

const compilations = new Counter({
  name: 'tastematch_graphql_compilations_total',
  help: 'Operations compiled by graphql-jit (each distinct document at most once while cached)',
  registers: [registry],
});

export type DocumentCacheOptions = {
  maxBytes: number;
  compiledMaxBytes: number;
  /** sources compiled on their first run (the persisted-operation manifest's bodies) */
  precompiled?: ReadonlySet<string>;
};

type Entry = { source: string; runs: number; bytes: number; compiled: boolean };

/** Tokens and locations dominate a parsed document's size; the source is counted too. */
function parsedBytes(source: string, document: DocumentNode): number {
  let tokens = 0;
  for (let t = document.loc?.startToken; t; t = t.next ?? undefined) tokens++;
  if (!document.loc) tokens = Math.ceil(source.length / 2);
  return tokens * PARSED_BYTES_PER_TOKEN + 2 * source.length;
}

function singleOperation(document: DocumentNode): boolean {
  let operations = 0;
  for (const d of document.definitions) if (d.kind === Kind.OPERATION_DEFINITION) operations++;
  return operations === 1;
}

export function createDocumentCaches(options: DocumentCacheOptions) {
  const precompiled = options.precompiled ?? new Set<string>();
  const entries = new WeakMap<DocumentNode, Entry>();
  // Parse errors share the parsed documents' budget.
  const parsed = new LRUCache<string, DocumentNode | Error>({
    maxSize: Math.max(1, options.maxBytes),
    sizeCalculation: (value, source) =>
      value instanceof Error ? ERROR_BYTES + 2 * source.length : (entries.get(value)?.bytes ?? 1),
  });
  const compiled = new LRUCache<string, DocumentNode>({
    maxSize: Math.max(1, options.compiledMaxBytes),
    sizeCalculation: (value) => entries.get(value)?.bytes ?? 1,
  });
  const disabled = options.maxBytes <= 0;
  const jitDisabled = options.compiledMaxBytes <= 0;
  // Bytes of compiled queries that may still be made (refilled over BUDGET_WINDOW_MS).
  let budget = options.compiledMaxBytes;
  let budgetAt = Date.now();
  const budgetLeft = () => {
    const now = Date.now();
    budget = Math.min(
      options.compiledMaxBytes,
      budget + ((now - budgetAt) * options.compiledMaxBytes) / BUDGET_WINDOW_MS,
    );
    budgetAt = now;
    return budget;
  };
  const stats = () => ({
    documents: { entries: parsed.size, bytes: parsed.calculatedSize },
    compiled: { entries: compiled.size, bytes: compiled.calculatedSize },
  });
  watchCache('documents', () => stats().documents);
  watchCache('compiled-documents', () => stats().compiled);

  return {
    /** Yoga's `parserAndValidationCache` (validation results are kept per document object). */
    parserAndValidationCache: {
      documentCache: {
        get(source: string): DocumentNode | undefined {
          const hit = compiled.get(source) ?? parsed.get(source);
          return hit instanceof Error ? undefined : hit;
        },
        set(source: string, document: DocumentNode) {
          if (disabled) return;
          entries.set(document, { source, runs: 0, bytes: parsedBytes(source, document), compiled: false });
          parsed.set(source, document);
        },
      },
      errorCache: {
        get(source: string): unknown {
          const hit = parsed.get(source);
          return hit instanceof Error ? hit : undefined;
        },
        set(source: string, error: unknown) {
          if (!disabled && error instanceof Error) parsed.set(source, error);
        },
      },
      validationCache: true,
    },

    /** The jit plugin's `enableIf`: whether this execution runs compiled. */
    shouldCompile(args: ExecutionArgs): boolean {
      if (jitDisabled) return false;
      const entry = entries.get(args.document);
      if (!entry) return false;
      if (entry.compiled) return true;
      if (!singleOperation(args.document)) return false;
      if (precompiled.has(entry.source)) return true;
      entry.runs++;
      return entry.runs >= COMPILE_AFTER_RUNS && budgetLeft() > 0;
    },

    /**
     * The jit plugin's `cache`, used only to learn what each compilation keeps: the plugin
     * holds the compiled query per document object itself, so the document's entry grows
     * by it and moves to the compiled LRU.
     */
    jitCache: {
      get: () => undefined,
      set(source, value) {
        compilations.inc();
        const debug = value as { __DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation?: string };
        const generated = debug.__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation?.length ?? 0;
        delete debug.__DO_NOT_USE_THIS_OR_YOU_WILL_BE_FIRED_compilation;
        const bytes = COMPILED_BASE_BYTES + Math.ceil(generated * COMPILED_BYTES_PER_CHAR);
        if (!precompiled.has(source)) budget -= bytes;
        const document = parsed.peek(source);
        const entry = document && !(document instanceof Error) ? entries.get(document) : undefined;
        // Evicted meanwhile: the compiled query goes with the request's document.
        if (!document || document instanceof Error || !entry) return;
        entry.compiled = true;
        entry.bytes += bytes;
        parsed.delete(source);
        // Too big for the compiled LRU: it stays with the parsed ones, at its full size.
        if (entry.bytes <= options.compiledMaxBytes) compiled.set(source, document);
        else parsed.set(source, document);
      },
    } satisfies JITCache,

    /** Drops every cached document (the memory watchdog calls this when it starts shedding). */
    clear() {
      parsed.clear();
      compiled.clear();
    },

    stats,
  };
}

/**
 * An operation's result looks the same whichever executor ran it. graphql-jit's errors carry no
 * `locations`, and its variable-coercion errors no `originalError`; graphql-js's do, so
 * theirs are copied without (the error masking then sees a request error, not a failure).
 */
export function useExecutorNeutralErrors(): Plugin {
  const neutral = (e: GraphQLError): GraphQLError => {
    const requestError =
      !e.path && e.originalError instanceof Error && e.originalError.name === 'GraphQLError' && !e.extensions?.code;
    if (!e.locations && !requestError) return e;
    return new GraphQLError(e.message, {
      path: e.path,
      originalError: requestError ? undefined : e.originalError,
      extensions: e.extensions,
    });
  };
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || !result.errors?.length) return;
          // graphql-jit's key order too: data, then errors.
          const { data, errors, ...rest } = result;
          setResult({ ...('data' in result ? { data } : {}), errors: errors.map(neutral), ...rest });
        },
      };
    },
  };
}
