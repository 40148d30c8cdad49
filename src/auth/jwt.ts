/**
 * Access tokens: HS256 JWTs (jose), issuer and audience checked, algorithm pinned.
 * Accounts (register/login) build on this; here it only identifies the viewer.
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';

const ISSUER = 'tastematch-gateway';
const AUDIENCE = 'tastematch';
const MIN_SECRET_BYTES = 32;
const CLOCK_TOLERANCE_S = 5;

/**
 * Verified tokens, kept until they expire: the same client sends the same token on every
 * request, and verifying it (WebCrypto HMAC through jose, async) cost ~5 % of a request's CPU
 * under load. Bounded by count and by token length (longer ones are verified every time); an
 * entry is only ever a token whose signature, issuer, audience and expiry were checked, and a
 * hit re-checks the expiry against the clock.
 */
const VERIFIED_TOKENS = 10_000;
const MAX_CACHED_TOKEN_LENGTH = 1_024;

export type TokenService = {
  sign(userId: string): Promise<string>;
  /** @returns the user id. @throws when the token is malformed, expired, foreign or not HS256. */
  verify(token: string): Promise<string>;
  /** true when the secret was generated at start-up (development only). */
  readonly generated: boolean;
};

/** Fewer distinct characters than this is a placeholder (`xxxx…`, `abab…`), not a secret. */
const MIN_DISTINCT_CHARS = 10;

/**
 * Checked here, where tokens are made, so commands that make none (`node dist/migrate.js`)
 * run without a secret.
 * @throws Error when `JWT_SECRET` is missing in production, or set (any mode) to fewer than
 *   32 bytes or fewer than 10 distinct characters.
 */
export function createTokenService(opts: { secret?: string; ttl: string; production: boolean }): TokenService {
  let secret = opts.secret || undefined;
  const generated = !secret;
  if (opts.production && !secret) {
    throw new Error(`JWT_SECRET must be set (at least ${MIN_SECRET_BYTES} random bytes) when NODE_ENV=production`);
  }
  if (secret && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    throw new Error(`JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`);
  }
  if (secret && new Set(secret).size < MIN_DISTINCT_CHARS) {
    throw new Error(
      `JWT_SECRET must have at least ${MIN_DISTINCT_CHARS} distinct characters: it looks like a placeholder (e.g. openssl rand -base64 48)`,
    );
  }
  secret ??= randomBytes(48).toString('base64url');
  const key = new TextEncoder().encode(secret);
  const verified = new LRUCache<string, { sub: string; expMs: number }>({ max: VERIFIED_TOKENS });
  return {
    generated,
    sign: (userId) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(opts.ttl)
        .sign(key),
    verify: async (token) => {
      const hit = verified.get(token);
      if (hit) {
        if (Date.now() < hit.expMs) return hit.sub;
        verified.delete(token);
      }
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp'],
      });
      if (!payload.sub || !/^\d{1,19}$/.test(payload.sub)) throw new Error('bad subject');
      if (token.length <= MAX_CACHED_TOKEN_LENGTH) {
        verified.set(token, { sub: payload.sub, expMs: (payload.exp! + CLOCK_TOLERANCE_S) * 1000 });
      }
      return payload.sub;
    },
  };
}
