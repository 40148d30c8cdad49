import type { IncomingMessage } from 'node:http';
import { initContextCache } from '@pothos/core';
import type { Accounts } from './auth/accounts.ts';
import type { TokenService } from './auth/jwt.ts';
import type { TieredCache } from './cache/tiered-cache.ts';
import { clientAddress } from './client-address.ts';
import type { Db } from './db/pool.ts';
import { unauthenticated } from './errors.ts';
import { orderCountByUserId, orderPagesByUserId, ordersById } from './loaders/orders.ts';
import { restaurantsById } from './loaders/restaurants.ts';
import { similarByRestaurantId } from './loaders/similar.ts';
import { tasteProfilesByUserId } from './loaders/taste-profiles.ts';
import { usersById } from './loaders/users.ts';
import type { Ml } from './ml/service.ts';
import { requestScope } from './observability/request-scope.ts';
import type { Orders } from './orders/service.ts';
import type { Preferences } from './preferences/service.ts';
import type { Recommender } from './recommend/engine.ts';

export type Limits = { maxPageSize: number; maxBatchKeys: number };
export type AppDeps = {
  db: Db;
  tokens: TokenService;
  limits: Limits;
  /** registration and login, throttled and with bounded hashing */
  accounts: Accounts;
  /** order writes; each drops the user's cached recommendations */
  orders: Orders;
  /** onboarding choices; saving drops the user's cached recommendations */
  preferences: Preferences;
  /** Header holding the client address behind a trusted proxy (CLIENT_IP_HEADER); unset: the TCP peer. */
  clientIpHeader?: string;
  /** X-Forwarded-For entries appended by trusted proxies (TRUSTED_PROXY_HOPS, default 1) */
  trustedProxyHops?: number;
  ml: Ml;
  recommender: Recommender;
  /** the shared cache (catalogue metadata, persisted documents); unset: nothing cached there */
  cache?: TieredCache;
};
export type Viewer = { id: string };

/**
 * The services a request reaches, over its own database handle (its statements count for it in
 * the request log). Built on first use, like the loaders below: a request that places no order
 * builds no order service. A class with getters, not getters on the context: envelop copies the
 * context into Yoga's with Object.assign, which would run them all on every request.
 */
class RequestServices {
  #accounts?: Accounts;
  #orders?: Orders;
  #preferences?: Preferences;
  #recommender?: Recommender;
  #ml?: Ml;

  constructor(
    private readonly deps: AppDeps,
    private readonly db: Db,
  ) {}

  get accounts() {
    this.#accounts ??= this.deps.accounts.withDb(this.db);
    return this.#accounts;
  }
  get orders() {
    this.#orders ??= this.deps.orders.withDb(this.db);
    return this.#orders;
  }
  get preferences() {
    this.#preferences ??= this.deps.preferences.withDb(this.db);
    return this.#preferences;
  }
  get recommender() {
    this.#recommender ??= this.deps.recommender.withDb(this.db);
    return this.#recommender;
  }
  /** Embeddings and the vector index (the pgvector one reads through the request's handle). */
  get ml() {
    this.#ml ??= { ...this.deps.ml, index: this.deps.ml.index.withDb(this.db) };
    return this.#ml;
  }
}

/**
 * Per-request DataLoaders: created for each request, so no row is ever shared between users.
 * Each is built on first use (getters on the prototype: nothing is allocated for the ones a
 * request never reads; building all seven up front was ~1 % of a small request's CPU).
 */
class RequestLoaders {
  #similar?: ReturnType<typeof similarByRestaurantId>;
  #restaurants?: ReturnType<typeof restaurantsById>;
  #users?: ReturnType<typeof usersById>;
  #orders?: ReturnType<typeof ordersById>;
  #orderPages?: ReturnType<typeof orderPagesByUserId>;
  #orderCounts?: ReturnType<typeof orderCountByUserId>;
  #tasteProfiles?: ReturnType<typeof tasteProfilesByUserId>;

  constructor(
    private readonly db: Db,
    private readonly services: RequestServices,
    private readonly viewer: Viewer | null,
    private readonly maxBatch: number,
  ) {}

  get similarByRestaurantId() {
    this.#similar ??= similarByRestaurantId(this.services.ml.index, this.maxBatch);
    return this.#similar;
  }
  get restaurantsById() {
    this.#restaurants ??= restaurantsById(this.db, this.maxBatch);
    return this.#restaurants;
  }
  get usersById() {
    this.#users ??= usersById(this.db, this.maxBatch);
    return this.#users;
  }
  get ordersById() {
    this.#orders ??= ordersById(this.db, this.viewer?.id ?? null, this.maxBatch);
    return this.#orders;
  }
  get orderPagesByUserId() {
    this.#orderPages ??= orderPagesByUserId(this.db, this.maxBatch, () => this.restaurantsById);
    return this.#orderPages;
  }
  get orderCountByUserId() {
    this.#orderCounts ??= orderCountByUserId(this.db, this.maxBatch);
    return this.#orderCounts;
  }
  get tasteProfilesByUserId() {
    this.#tasteProfiles ??= tasteProfilesByUserId(this.db, this.maxBatch);
    return this.#tasteProfiles;
  }
}

export type Context = {
  db: Db;
  /** The user of the request's Bearer token; null for anonymous requests. */
  viewer: Viewer | null;
  /**
   * Users whose own data this response may show: the viewer, plus a user who signed in
   * or registered in this request (so `login { user { … } }` works before the client
   * holds a token). `ownedBy` (src/schema/ownership.ts) reads it; nothing else grants access.
   */
  owners: Set<string>;
  /** The client's address (behind a trusted proxy, its header): worked out only when called. */
  clientAddress: () => string;
  tokens: TokenService;
  limits: Limits;
  cache?: TieredCache;
  /** accounts, orders, preferences, recommender, ml: each over the request's handle, built on first use */
  services: RequestServices;
  loaders: RequestLoaders;
};

/**
 * Builds the request context. A request with no `Authorization` header is anonymous;
 * a header that is present but not a valid Bearer token is refused (401), never anonymous.
 * @throws UNAUTHENTICATED
 */
export async function createContext(
  deps: AppDeps,
  request: Request,
  req: IncomingMessage | undefined,
): Promise<Context> {
  const header = request.headers.get('authorization');
  let viewer: Viewer | null = null;
  if (header !== null) {
    const match = /^Bearer ([\w.-]+)$/.exec(header.trim());
    if (!match) throw unauthenticated('Authorization must be "Bearer <token>"');
    try {
      viewer = { id: await deps.tokens.verify(match[1]!) };
    } catch {
      throw unauthenticated();
    }
  }
  // The request's handle: every statement its loaders and services send counts for it (request log).
  const scope = requestScope(request);
  const db = scope ? deps.db.scoped(scope) : deps.db;
  const services = new RequestServices(deps, db);
  return {
    ...initContextCache(),
    db,
    viewer,
    owners: new Set(viewer ? [viewer.id] : []),
    // Read by sign-in and registration only: worked out when they ask. A function, not a getter:
    // envelop merges this object into Yoga's context with Object.assign, which would run a getter
    // on every request (and a getter makes the literal a slow dictionary-mode object).
    clientAddress: () => clientAddress(request, req, deps.clientIpHeader, deps.trustedProxyHops),
    tokens: deps.tokens,
    limits: deps.limits,
    cache: deps.cache,
    services,
    loaders: new RequestLoaders(db, services, viewer, deps.limits.maxBatchKeys),
  };
}
