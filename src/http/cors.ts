/**
 * CORS for browsers (CORS_ORIGINS): Yoga's CORS plugin, given per request either the options
 * for that one origin or `false`. Given the configured list itself, Yoga answers a disallowed
 * origin with `Access-Control-Allow-Origin: null` (or, for a one-origin list, the configured
 * origin) plus methods and credentials; here a disallowed origin gets no CORS header at all.
 * Allowed methods and headers are fixed, not echoed from the preflight, and the preflight is
 * cached by the browser for `PREFLIGHT_MAX_AGE_S`. `Vary: Origin` is set on cacheable
 * answers by src/http/cache-control.ts, whether the request had an Origin or not.
 */
import type { YogaServerOptions } from 'graphql-yoga';

type CorsOption = NonNullable<YogaServerOptions<object, object>['cors']>;

/** What clients send beyond the safelisted headers: a token and a JSON body. */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type'];
export const CORS_METHODS = ['GET', 'POST', 'OPTIONS'];
/** Chromium caps a preflight's cache at 2 h; 10 min keeps a changed CORS_ORIGINS quick to apply. */
const PREFLIGHT_MAX_AGE_S = 600;

/** Yoga's `cors` option: `false` when no origin is configured (same-origin only). */
export function corsOptions(origins: readonly string[]): CorsOption {
  if (origins.length === 0) return false;
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  return (request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(any || allowed.has(origin.toLowerCase()))) return false;
    return {
      // One origin: Yoga answers it as it is (no `Vary` of its own, which would replace ours).
      origin: [origin],
      // Credentials (cookies) only for a named origin; `*` allows reading, not credentials.
      credentials: !any,
      methods: CORS_METHODS,
      allowedHeaders: CORS_ALLOWED_HEADERS,
      maxAge: PREFLIGHT_MAX_AGE_S,
    };
  };
}
