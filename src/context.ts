import { initContextCache } from '@pothos/core';
import type { TokenService } from './auth/jwt.ts';
import type { Db } from './db/pool.ts';
import { orderCountByUserId, orderPagesByUserId, ordersById } from './loaders/orders.ts';
import { restaurantsById } from './loaders/restaurants.ts';
import { usersById } from './loaders/users.ts';
import { unauthenticated } from './schema/errors.ts';

export type Limits = { maxPageSize: number; maxBatchKeys: number };
export type AppDeps = { db: Db; tokens: TokenService; limits: Limits };
export type Viewer = { id: string };

/** Per-request DataLoaders: created for each request, so no row is ever shared between users. */
function createLoaders(db: Db, viewer: Viewer | null, maxBatch: number) {
  return {
    restaurantsById: restaurantsById(db, maxBatch),
    usersById: usersById(db, maxBatch),
    ordersById: ordersById(db, viewer?.id ?? null, maxBatch),
    orderPagesByUserId: orderPagesByUserId(db, maxBatch),
    orderCountByUserId: orderCountByUserId(db, maxBatch),
  };
}

export type Context = {
  db: Db;
  viewer: Viewer | null;
  limits: Limits;
  loaders: ReturnType<typeof createLoaders>;
};

/**
 * Builds the request context. A request with no `Authorization` header is anonymous;
 * a header that is present but not a valid Bearer token is refused (401), never anonymous.
 * @throws UNAUTHENTICATED
 */
export async function createContext(deps: AppDeps, request: Request): Promise<Context> {
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
  return {
    ...initContextCache(),
    db: deps.db,
    viewer,
    limits: deps.limits,
    loaders: createLoaders(deps.db, viewer, deps.limits.maxBatchKeys),
  };
}
