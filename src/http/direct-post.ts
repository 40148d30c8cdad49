/**
 * The usual request, served below Yoga's HTTP hooks: one operation in a JSON POST to /graphql
 * with a query document (what the web frontend and GraphiQL-less clients send). The operation
 * runs through Yoga's own per-operation handler (`handleParams`: envelop with every plugin's
 * parse, validate, context and execute hooks, Yoga's error masking) and its result through
 * Yoga's result processor (`processRegularResult`: the status from the errors, the media type,
 * the JSON); what Yoga's request-level hooks would do around it is done here, by the same
 * functions the plugins call: the request log and its `x-request-id`, the metrics, a request
 * slot, the error codes, `Cache-Control: no-store`, compression.
 *
 * Why: Yoga's request pipeline (its hooks' loops over every plugin, the Fetch Request and
 * Response objects and their headers, the request parsers and the result-processor
 * negotiation) cost ~0.15 ms of CPU per request, about a third of a small request's whole cost
 * and more than the gateway's budget beside PostGraphile (docs/BENCHMARKS.md, "Yoga's own layer").
 *
 * Everything else goes Yoga's whole way (`eligible` says no before anything has run): batches,
 * persisted-operation ids and APQ, `PERSISTED_OPERATIONS=only`, parameters that are not well
 * formed, a document over MAX_QUERY_BYTES, no free request slot (Yoga's path queues or refuses),
 * a media type only Yoga's other processors serve (the listener checks `regularMediaType` before
 * it reads the body, and hands over the type). test/direct-post.test.ts checks that both
 * ways give the same status, headers and body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLError } from 'graphql';
import { createGraphQLError, processRegularResult } from 'graphql-yoga';
import { Counter } from 'prom-client';
import { ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { registry } from '../observability/metrics.ts';
import { CACHE_CONTROL } from './cache-control.ts';
import { compressedAnswer } from './compression.ts';
import { codedResult } from './errors.ts';
import { checkParams } from './limits.ts';
import type { RequestMetrics } from './metrics-plugin.ts';
import type { PersistedMode } from './persisted.ts';
import type { RequestLog } from './request-log.ts';

type Params = { query: string; operationName?: string; variables?: Record<string, unknown> };

/** The server context Yoga's node adapter would make. */
export type NodeContext = { req: IncomingMessage; res: ServerResponse; waitUntil: (p: Promise<void> | void) => void };

type ParamsHandler = (payload: {
  request: Request;
  params: Params;
  context: NodeContext;
}) => Promise<unknown> | unknown;

export type DirectPostOptions = {
  graphqlEndpoint: string;
  /** Yoga's per-operation handler (`yoga.handleParams`) */
  handleParams: ParamsHandler;
  requestLog: RequestLog;
  metrics: RequestMetrics;
  /** the request limiter's slots (src/backpressure/request-limiter.ts) */
  slots: { tryAcquire(): boolean; release(): void };
  maxQueryBytes: number;
  persistedMode: PersistedMode;
  /** COMPRESSION_MIN_BYTES (0: no compression) */
  compressionMinBytes: number;
  /** CORS is on (CORS_ORIGINS): requests with an Origin go Yoga's way */
  cors: boolean;
  log: Logger;
};

const served = new Counter({
  name: 'tastematch_graphql_direct_requests_total',
  help: "GraphQL requests served below Yoga's HTTP hooks (a single operation in a JSON POST); the others go through Yoga's adapter",
  registers: [registry],
});

export type MediaType = 'application/json' | 'application/graphql-response+json';
/** Yoga's regular processor's types, in its order, split once. */
const REGULAR_TYPES = (['application/graphql-response+json', 'application/json'] as const).map(
  (type) => [type, ...type.split('/')] as [MediaType, string, string],
);

/**
 * The media type Yoga's regular result processor answers with for this `Accept`, undefined when
 * it would not be the one (Yoga's multipart or SSE processors, or 406). graphql-yoga 5's rule
 * (plugins/result-processor/accept.js, use-result-processor.js): the listed types, UTF-8 only,
 * from the last to the first, each tried against both JSON types; the last match wins, so the
 * first type listed that matches decides.
 */
export function regularMediaType(accept: string | undefined): MediaType | undefined {
  const asked = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',');
  let chosen: MediaType | undefined;
  for (let i = asked.length - 1; i >= 0; i--) {
    const [mediaType, ...params] = asked[i]!.split(';');
    const charset = params.find((p) => p.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8' || mediaType === undefined) continue;
    const [pre, suf] = mediaType.split('/');
    for (const [type, typePre, typeSuf] of REGULAR_TYPES) {
      if ((pre === '*' || pre === typePre) && (suf === '*' || suf === typeSuf)) chosen = type;
    }
  }
  return chosen;
}

/** What `processRegularResult` makes of a result: it is handed this Response in place of the Fetch API's. */
class CapturedResponse {
  constructor(
    readonly body: string | null,
    readonly init: { status?: number; headers?: Record<string, string> },
  ) {}
}
const CAPTURE = { Response: CapturedResponse } as unknown as Parameters<typeof processRegularResult>[1];

/** A failure outside Yoga's handling, logged, as the error Yoga's masking gives an unexpected one. */
function unexpected(log: Logger, error: unknown): { errors: GraphQLError[] } {
  log.error({ err: error }, 'unexpected error');
  return {
    errors: [
      createGraphQLError('Unexpected error.', {
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, http: { status: 500 } },
      }),
    ],
  };
}

const hasOwn = (o: unknown, key: string) => typeof o === 'object' && o !== null && Object.hasOwn(o, key);

export function createDirectPost(opts: DirectPostOptions) {
  const { requestLog, metrics, slots } = opts;
  return {
    /**
     * The parameters of a request this path serves, its slot taken (release with `serve`);
     * undefined for Yoga's whole way, with nothing done.
     */
    eligible(
      body: unknown,
      req: IncomingMessage,
      mediaType: MediaType,
    ): { params: Params; mediaType: MediaType } | undefined {
      if (opts.persistedMode === 'only' || !body || typeof body !== 'object' || Array.isArray(body)) return undefined;
      // CORS headers are Yoga's CORS plugin's (a hook of the request).
      if (opts.cors && req.headers.origin !== undefined) return undefined;
      try {
        checkParams(body);
      } catch {
        return undefined;
      }
      const params = body as Record<string, unknown>;
      const { query, extensions } = params;
      if (typeof query !== 'string' || query.length === 0 || params.documentId != null) return undefined;
      if (hasOwn(extensions, 'persistedQuery') || hasOwn(extensions, 'documentId')) return undefined;
      if (query.length * 3 > opts.maxQueryBytes && Buffer.byteLength(query) > opts.maxQueryBytes) return undefined;
      if (!slots.tryAcquire()) return undefined;
      return { params: params as Params, mediaType };
    },

    /**
     * Runs the operation of `eligible`'s parameters and writes its answer; `arrived`: when the
     * request reached the listener (the log's and the metrics' durations count its upload too).
     */
    async serve(
      request: Request,
      eligible: { params: Params; mediaType: MediaType },
      context: NodeContext,
      arrived: bigint,
      res: ServerResponse,
    ): Promise<void> {
      let result: unknown;
      try {
        served.inc();
        requestLog.start(request, opts.graphqlEndpoint, arrived);
        metrics.start(request, arrived);
        result = await opts.handleParams({ request, params: eligible.params, context });
      } catch (error) {
        // Yoga's handler turns every failure of the operation into errors; this is one of ours.
        result = unexpected(opts.log, error);
      } finally {
        slots.release();
      }
      let answer: CapturedResponse;
      try {
        answer = processRegularResult(
          codedResult(result as Parameters<typeof codedResult>[0]) as Parameters<typeof processRegularResult>[0],
          CAPTURE,
          eligible.mediaType,
        ) as unknown as CapturedResponse;
      } catch (error) {
        // A result that does not serialise (a resolver's value JSON cannot write).
        answer = processRegularResult(
          unexpected(opts.log, error),
          CAPTURE,
          eligible.mediaType,
        ) as unknown as CapturedResponse;
      }
      const status = answer.init.status ?? 200;
      const headers: Record<string, string | number> = {};
      for (const [name, value] of Object.entries(answer.init.headers ?? {})) headers[name.toLowerCase()] = value;
      const text = answer.body ?? '';
      let body: string | Buffer = text;
      const bytes = Buffer.byteLength(text);
      headers['content-length'] = bytes;
      const requestId = requestLog.finish(request, status);
      if (requestId) headers['x-request-id'] = requestId;
      metrics.finish(request, status);
      // As src/http/cache-control.ts has it for every POST: never stored, a refusal's own policy kept.
      if (!(headers['cache-control'] && status !== 200)) headers['cache-control'] = CACHE_CONTROL.noStore;
      if (opts.compressionMinBytes > 0) {
        headers.vary = headers.vary ? `${headers.vary}, Accept-Encoding` : 'Accept-Encoding';
        const compressed = await compressedAnswer(
          text,
          bytes,
          context.req.headers['accept-encoding'],
          opts.compressionMinBytes,
        ).catch((error: unknown) => {
          opts.log.warn({ err: error }, 'compression failed: answered uncompressed');
          return undefined;
        });
        if (compressed) {
          body = compressed.body;
          headers['content-encoding'] = compressed.encoding;
          headers['content-length'] = body.byteLength;
        }
      }
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(status, headers).end(body);
    },
  };
}
