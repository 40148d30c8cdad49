/**
 * Onboarding choices. Saving them changes a user's recommendations (before any order they
 * are made from these), so saving drops the user's cached recommendations here.
 */
import type { Db } from '../db/pool.ts';
import { selectKnownCuisines, upsertPreferences } from '../db/queries/preferences.ts';
import { badUserInput } from '../errors.ts';
import type { Recommender } from '../recommend/engine.ts';

export type Preferences = {
  /**
   * Replaces the user's cuisines (stored in the catalogue's spelling) and price range.
   * @throws BAD_USER_INPUT naming the first cuisine the catalogue does not know.
   */
  set(userId: string, choices: { cuisines: readonly string[]; priceRange: string | null }): Promise<void>;
  /** The same service over another handle (a request's: its statements count for that request). */
  withDb(db: Db): Preferences;
};

export function createPreferences(deps: { db: Db; recommender: Recommender }): Preferences {
  const { db, recommender } = deps;
  return {
    withDb: (other) => createPreferences({ ...deps, db: other }),
    async set(userId, { cuisines, priceRange }) {
      const known = new Map(
        (await selectKnownCuisines(db, cuisines)).map((r) => [r.cuisine_type.toLowerCase(), r.cuisine_type]),
      );
      const canonical = cuisines.map((name, i) => {
        const found = known.get(name.toLowerCase());
        if (!found) {
          throw badUserInput(`cuisines[${i}]: "${name}" is not a known cuisine (see Query.cuisines)`, {
            field: `cuisines[${i}]`,
          });
        }
        return found;
      });
      await upsertPreferences(db, userId, canonical, priceRange);
      await recommender.invalidate(userId);
    },
  };
}
