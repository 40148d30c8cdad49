/**
 * The node:http listener of the app (src/server.ts). A JSON POST to the GraphQL endpoint with a
 * Content-Length within MAX_BODY_BYTES has its body read here, into one buffer; then either
 * - src/http/direct-post.ts serves it (one operation with a query document: the clients' usual
 *   request), below Yoga's HTTP hooks, or
 * - Yoga handles it whole (`yoga.handleRequest`: every hook of every plugin) over `NodeRequest`,
 *   a Request of this module with the node request's headers and the body already read.
 * Anything else (GET, GraphiQL, multipart, health, metrics, a body without Content-Length,
 * memory shedding, tracing) goes through Yoga's own node adapter (@whatwg-node/server), which
 * builds a Fetch Request with a body stream and writes the Response back.
 *
 * The body is read here because the direct path must see the parameters before choosing. The
 * adapter's own Request and body stream cost ~3 % of a small request's CPU more than
 * `NodeRequest` (paired rounds, 2026-12-04); the saving that matters is the direct path's
 * (docs/BENCHMARKS.md, "Yoga's own layer").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger.ts';
import { type createDirectPost, type MediaType, regularMediaType } from './direct-post.ts';

type YogaLike = {
  (req: IncomingMessage, res: ServerResponse): unknown;
  handleRequest(request: Request, serverContext: object): Promise<Response> | Response;
  waitUntil(promise: Promise<void> | void): void;
};

export type NodeListenerOptions = {
  graphqlEndpoint: string;
  /** bodies beyond this go the adapter's way (which refuses them with 413) */
  maxBodyBytes: number;
  /** when true for a request, it goes the adapter's way (memory shedding, CORS, tracing) */
  viaAdapter?: (req: IncomingMessage) => boolean;
  log: Logger;
  /** the usual single operation, below Yoga's HTTP hooks (src/http/direct-post.ts) */
  direct?: ReturnType<typeof createDirectPost>;
};

/** The body as JSON, undefined when it is not (Yoga's parser then says so). */
function parsedBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Yoga's JSON rule (request-parser/utils.js `isContentTypeMatch`): the first of a list, exactly, or with parameters. */
function isJson(contentType: string): boolean {
  const first = contentType.split(',')[0]!;
  return first === 'application/json' || first.startsWith('application/json;');
}
const CONTENT_LENGTH = /^\d{1,9}$/;

/** A header value as the Fetch API gives it: repeated ones joined with ", ". */
function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? value : value.join(', ');
}

/** The Fetch Headers a plugin reads (get, has, forEach), over the node request's own object. */
class NodeHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}
  get(name: string): string | null {
    return headerValue(this.raw[name.toLowerCase()]);
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) fn(value, name);
  }
  *entries(): IterableIterator<[string, string]> {
    for (const [name, value] of Object.entries(this.raw)) {
      const v = headerValue(value);
      if (v !== null) yield [name, v];
    }
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

/**
 * The request as Yoga and the plugins see it: method, URL, headers, the body read already
 * (`json`, `text`), and an abort signal made only when something asks for one (it fires when the
 * client goes away before the answer).
 */
class NodeRequest {
  readonly method = 'POST';
  readonly headers: NodeHeaders;
  #url?: URL;
  #controller?: AbortController;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly body: Buffer,
    /** the body as JSON when the listener parsed it already (not parsed twice) */
    private readonly parsed?: unknown,
  ) {
    this.headers = new NodeHeaders(req.headers);
  }
  get url(): string {
    return this.parsedUrl.href;
  }
  /** Read by src/http/request-url.ts and the adapter's hooks instead of parsing `url` again. */
  get parsedUrl(): URL {
    this.#url ??= new URL(this.req.url ?? '/', `http://${this.req.headers.host ?? 'localhost'}`);
    return this.#url;
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      if (this.res.writableFinished) return controller.signal;
      if (this.res.destroyed) controller.abort();
      else this.res.once('close', () => this.res.writableFinished || controller.abort());
    }
    return this.#controller.signal;
  }
  get bodyUsed(): boolean {
    return false;
  }
  json(): Promise<unknown> {
    if (this.parsed !== undefined) return Promise.resolve(this.parsed);
    const text = this.body.toString('utf8');
    try {
      return Promise.resolve(JSON.parse(text));
    } catch (error) {
      // The message @whatwg-node's Request gives (Yoga passes it on to the client).
      if (error instanceof SyntaxError) error.message += `, "${text}" is not valid JSON`;
      return Promise.reject(error);
    }
  }
  text(): Promise<string> {
    return Promise.resolve(this.body.toString('utf8'));
  }
}

/** Writes a Fetch Response to the node response: status, headers, the whole body. */
async function send(response: Response, res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  // @whatwg-node's Response keeps a string body as it was given: no stream, no copy.
  const given = response as unknown as { bodyType?: string; bodyInit?: unknown };
  const body =
    given.bodyType === 'String' && typeof given.bodyInit === 'string'
      ? given.bodyInit
      : response.body
        ? Buffer.from(await response.arrayBuffer())
        : undefined;
  res.writeHead(response.status, response.statusText || undefined, headers);
  res.end(body);
}

/** Reads exactly `length` bytes of body (Node's parser never delivers more than Content-Length). */
function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
    if (length === 0) req.resume();
  });
}

export function createNodeListener(yoga: YogaLike, opts: NodeListenerOptions) {
  /** A JSON POST this listener reads itself: its body's length and the JSON media type of its answer. */
  const readHere = (req: IncomingMessage): { bytes: number; mediaType: MediaType } | undefined => {
    if (req.method !== 'POST' || req.url !== opts.graphqlEndpoint) return undefined;
    const type = req.headers['content-type'];
    if (!type || !isJson(type)) return undefined;
    // Answers only Yoga's other result processors give (event streams, multipart) go its whole way, streamed.
    const mediaType = regularMediaType(req.headers.accept);
    if (!mediaType) return undefined;
    const length = req.headers['content-length'];
    if (!length || !CONTENT_LENGTH.test(length) || req.headers['content-encoding']) return undefined;
    const bytes = Number(length);
    if (bytes > opts.maxBodyBytes || opts.viaAdapter?.(req)) return undefined;
    return { bytes, mediaType };
  };
  return (req: IncomingMessage, res: ServerResponse): unknown => {
    const arrived = process.hrtime.bigint();
    const here = readHere(req);
    if (!here) return yoga(req, res);
    return readBody(req, here.bytes)
      .then(
        async (body) => {
          const json = parsedBody(body);
          const request = new NodeRequest(req, res, body, json) as unknown as Request;
          const context = { req, res, waitUntil: yoga.waitUntil };
          const direct = opts.direct?.eligible(json, req, here.mediaType);
          if (direct) return opts.direct!.serve(request, direct, context, arrived, res);
          const response = await yoga.handleRequest(request, context);
          await send(response, res);
        },
        () => res.destroy(),
      )
      .catch(() => {
        // A hook that threw after Yoga's own error handling: the adapter answers 500 too.
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
  };
}
