/**
 * Response compression by `Accept-Encoding`: brotli or gzip, from Node's zlib, on the libuv
 * thread pool (not the event loop). @whatwg-node/server's `useContentEncoding` (what Yoga
 * offers) was the first choice and does not fit: it matches `Accept-Encoding` tokens as raw
 * strings (`gzip;q=0` or ` br` after a comma never match, q-values are ignored), compresses
 * every body whatever its size, adds no `Vary` and leaves the ETag as it is, and on Node 20
 * its CompressionStream has no brotli. So the negotiation is here; the compressors are zlib's.
 *
 * - Answers under `COMPRESSION_MIN_BYTES` go as they are: below about one TCP segment the bytes
 *   saved do not pay for the work. Measured (Node 20, zlib, this machine, CPU per call, median
 *   of 5×200): a 2.6 KB page of 5 restaurants 55 µs gzip-6 / 62 µs brotli-4 (→ 0.77 / 0.75 KB);
 *   10 KB (20 restaurants) 103 / 82 µs (→ 1.8 / 2.0 KB); 49 KB (100) 1.1 ms / 0.43 ms
 *   (→ 6.5 / 8.3 KB). Brotli quality 4 is within 10 % of gzip-6's ratio at under half its CPU
 *   on large answers; higher qualities cost 10–100× more for a few percent.
 * - Every compressible answer says `Vary: Accept-Encoding`; a compressed one gets its own
 *   ETag (`"<sha256>-br"`, `"<sha256>-gzip"`), so a cache never serves one encoding's bytes
 *   for another's validator, and `If-None-Match` with it still answers 304.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Plugin } from 'graphql-yoga';
import { addVary } from './cache-control.ts';

export type Encoding = 'br' | 'gzip' | 'identity';

/** Codings this server produces, by its own preference on equal q-values. */
const PRODUCED = ['br', 'gzip'] as const;

/**
 * The coding to answer with, from an `Accept-Encoding` header (RFC 9110 §12.5.3): q-values,
 * any order, case and spacing, `*`, `x-gzip`; a coding with `q=0` is refused. With no header,
 * or nothing acceptable that we produce, the answer is not compressed (identity is always
 * sent rather than a 406: `identity;q=0` with nothing else acceptable gets identity too).
 */
export function negotiateEncoding(header: string | null | undefined): Encoding {
  if (!header) return 'identity';
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [rawName, ...params] = part.split(';');
    let name = rawName!.trim().toLowerCase();
    if (!name) continue;
    if (name === 'x-gzip') name = 'gzip';
    let weight = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k?.toLowerCase() === 'q') {
        const n = Number(v);
        weight = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v ?? '') ? n : 0;
      }
    }
    // The most specific statement wins; repeated, the highest.
    q.set(name, Math.max(q.get(name) ?? 0, weight));
  }
  let best: Encoding = 'identity';
  let bestQ = 0;
  for (const coding of PRODUCED) {
    const weight = q.get(coding) ?? q.get('*') ?? 0;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best;
}

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/** Compresses with this module's levels (or `quality`, for bodies compressed once and kept). */
export function compress(body: Uint8Array, encoding: 'br' | 'gzip', quality?: number): Promise<Buffer> {
  return encoding === 'br'
    ? brotli(body, {
        params: {
          [zlib.constants.BROTLI_PARAM_QUALITY]: quality ?? 4,
          [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
        },
      })
    : gzip(body, { level: quality ?? 6 });
}

/**
 * A whole answer compressed for this `Accept-Encoding` when it is at least `minBytes` (0: never);
 * undefined to send it as it is. For answers written below Yoga's hooks (src/http/direct-post.ts),
 * which then say `Vary: Accept-Encoding` as the plugin does.
 */
export async function compressedAnswer(
  body: string,
  bytes: number,
  acceptEncoding: string | null | undefined,
  minBytes: number,
): Promise<{ body: Buffer; encoding: 'br' | 'gzip' } | undefined> {
  if (minBytes <= 0 || bytes < minBytes) return undefined;
  const encoding = negotiateEncoding(acceptEncoding);
  if (encoding === 'identity') return undefined;
  return { body: await compress(Buffer.from(body), encoding), encoding };
}

/** The validator of a body in an encoding: `"x"` → `"x-br"` (weak ones stay weak). */
export function encodedEtag(etag: string, encoding: Encoding): string {
  if (encoding === 'identity') return etag;
  return etag.replace(/"$/, `-${encoding}"`);
}

/** `If-None-Match` lists this ETag (weak comparison, as RFC 9110 has for GET), or is `*`. */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/** Whole bodies only: a stream (text/event-stream, multipart) would be held back until it ends. */
const COMPRESSIBLE = /^(application\/(json|graphql-response\+json|javascript)|text\/(?!event-stream))/i;

/** 304 with the headers of the answer it stands for, no body. */
export function notModified(headers: Headers): Response {
  const h = new Headers(headers);
  h.delete('content-length');
  h.delete('content-encoding');
  return new Response(null, { status: 304, headers: h });
}

/** Compresses answers of at least `minBytes` (0: never) whose client accepts br or gzip. */
export function useCompression(minBytes: number): Plugin {
  return {
    async onResponse({ request, response, setResponse }) {
      if (minBytes <= 0 || request.method === 'HEAD') return;
      if (response.status === 204 || response.status === 304 || response.headers.has('content-encoding')) return;
      if (!COMPRESSIBLE.test(response.headers.get('content-type') ?? '')) return;
      if (/\bno-transform\b/i.test(response.headers.get('cache-control') ?? '')) return;
      addVary(response.headers, 'Accept-Encoding');
      const encoding = negotiateEncoding(request.headers.get('accept-encoding'));
      // `response.body` last: on a body given as a string, reading it builds a stream (and the
      // server then pipes that instead of writing the string): ~2.5 % of a request's CPU.
      if (encoding === 'identity' || !response.body) return;
      const declared = Number(response.headers.get('content-length') ?? Number.NaN);
      if (declared < minBytes) return;
      const body = new Uint8Array(await response.arrayBuffer());
      const headers = new Headers(response.headers);
      const init = { status: response.status, statusText: response.statusText, headers };
      if (body.byteLength < minBytes) {
        setResponse(new Response(body, init));
        return;
      }
      const etag = headers.get('etag');
      if (etag) {
        const tagged = encodedEtag(etag, encoding);
        headers.set('etag', tagged);
        if (response.status === 200 && etagMatches(request.headers.get('if-none-match'), tagged)) {
          setResponse(notModified(headers));
          return;
        }
      }
      const compressed = await compress(body, encoding);
      headers.set('content-encoding', encoding);
      headers.set('content-length', String(compressed.byteLength));
      setResponse(new Response(compressed as Uint8Array<ArrayBuffer>, init));
    },
  };
}
