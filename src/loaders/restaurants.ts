import type { Db } from '../db/pool.ts';
import { type RestaurantColumn, type RestaurantRow, selectRestaurantsByIds } from '../db/queries/restaurants.ts';
import { ProjectingLoader } from './projecting-loader.ts';
import type { ColumnMap } from './projection.ts';

/** GraphQL `Restaurant` field → columns. `description` is read only when asked for. */
export const RESTAURANT_FIELD_COLUMNS: ColumnMap<RestaurantColumn> = {
  name: ['name'],
  cuisineType: ['cuisine_type'],
  description: ['description'],
  rating: ['rating'],
  priceRange: ['price_range'],
  location: ['location'],
  createdAt: ['created_at'],
};

export function restaurantsById(db: Db, maxBatchSize: number) {
  return new ProjectingLoader<RestaurantColumn, RestaurantRow>(
    'restaurants',
    (ids, columns) => selectRestaurantsByIds(db, ids, columns),
    maxBatchSize,
  );
}
