/**
 * MAX_BODY_BYTES: a body over the limit gets 413 QUERY_TOO_LARGE before it is parsed.
 *
 * Yoga's own `maxRequestBodySize` (turned off in src/app.ts) pipes every body through a
 * TransformStream to count its bytes, even when `Content-Length` has already said how many
 * there are: that stream, its AbortController and the DOMException its pipeline makes at the
 * end cost ~3 % of a small request's CPU. Node's HTTP parser never delivers more than
 * `Content-Length` bytes (and refuses a request with both it and `Transfer-Encoding`), so the
 * header is enough when present; only a body without one (chunked) is counted as it streams.
 * The errors are Yoga's (REQUEST_ENTITY_TOO_LARGE, mapped to QUERY_TOO_LARGE in errors.ts).
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';

const tooLarge = () =>
  createGraphQLError('Request body too large', {
    extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });

/** Only one non-negative integer is a Content-Length (comma-joined values are smuggling attempts). */
const CONTENT_LENGTH = /^\d+$/;

type FetchApi = { Request: typeof Request; TransformStream: typeof TransformStream };

function countedBody(request: Request, limit: number, fetchAPI: FetchApi): Request {
  let bytes = 0;
  // The node adapter's body is whatwg-node's stream, which pipes only into its own TransformStream.
  const Transform = request.body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
  const body = request.body!.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body,
    duplex: 'half',
  } as RequestInit);
}

export function useBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        if (!CONTENT_LENGTH.test(length)) {
          throw createGraphQLError('Content-Length header is invalid.', {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
          });
        }
        if (Number(length) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((req) => parse(countedBody(req, limit, fetchAPI)));
    },
  };
}
