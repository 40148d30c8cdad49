import type { Db } from '../db/pool.ts';
import { type RestaurantColumn, type RestaurantRow, selectRestaurantsByIds } from '../db/queries/restaurants.ts';
import { ProjectingLoader } from './projecting-loader.ts';

/** Restaurants by id with the columns each caller asks for (the fields declare them: src/schema/types/restaurant.ts). */
export function restaurantsById(db: Db, maxBatchSize: number) {
  return new ProjectingLoader<RestaurantColumn, RestaurantRow>(
    'restaurants',
    (ids, columns) => selectRestaurantsByIds(db, ids, columns),
    maxBatchSize,
  );
}
