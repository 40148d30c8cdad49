/**
 * The request's URL, parsed once: @whatwg-node's Request keeps the URL its server adapter parsed
 * (`parsedUrl`, filled lazily and cached); `new URL(request.url)` in each plugin parsed it again
 * (~1 % of a small request's CPU). A standard Request (tests' `app.fetch`) has none: parsed here.
 */
export function requestUrl(request: Request): URL {
  return (request as { parsedUrl?: URL }).parsedUrl ?? new URL(request.url);
}
