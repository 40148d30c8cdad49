/**
 * The long-lived services behind the schema, built once per process: embeddings and
 * vector search, the bounded cache, the recommender over them, and the order and preference
 * writes that drop the recommendations they change.
 */
import type { Redis } from 'ioredis';
import { BytesCache, type CacheOptions } from './cache/bytes-cache.ts';
import { TieredCache } from './cache/tiered-cache.ts';
import type { Db } from './db/pool.ts';
import { DIMENSIONS } from './ml/embedder.ts';
import { createMl, type Ml, type MlOptions } from './ml/service.ts';
import type { Logger } from './observability/logger.ts';
import { createOrders, type Orders } from './orders/service.ts';
import { createPreferences, type Preferences } from './preferences/service.ts';
import { Recommender } from './recommend/engine.ts';
import { templateInsights } from './recommend/insights.ts';

export type Services = {
  ml: Ml;
  cache: TieredCache;
  recommender: Recommender;
  orders: Orders;
  preferences: Preferences;
  close(): Promise<void>;
};

export async function createServices(
  db: Db,
  opts: { ml: MlOptions; cache: CacheOptions },
  log: Logger,
  /** REDIS_URL's client: the cache's shared second level and invalidation channel */
  redis?: Redis,
): Promise<Services> {
  const ml = await createMl(db, opts.ml, log);
  const cache = new TieredCache(new BytesCache(opts.cache), redis, opts.cache.ttlMs, log);
  const recommender = new Recommender({ db, index: ml.index, cache, insights: templateInsights, dims: DIMENSIONS });
  return {
    ml,
    cache,
    recommender,
    orders: createOrders({ db, recommender }),
    preferences: createPreferences({ db, recommender }),
    close: async () => {
      await cache.close();
      await ml.close();
    },
  };
}
