import DataLoader from 'dataloader';
import { observedBatch } from '../observability/metrics.ts';

/**
 * A per-request DataLoader whose keys carry the columns the caller needs.
 *
 * All keys collected in one tick become one batch, fetched with the union of their
 * columns in a single statement (so a level stays one statement even when
 * fragments ask for different fields). The cache key includes the column set, so
 * a cached row is never served for a column it did not read.
 *
 * Ours, not @pothos/plugin-dataloader's: that plugin keys a loader by id alone (`load(ids)` on
 * a loadable object), so a key cannot carry the column set, and one batch cannot read the union
 * of what different selections of the same type need in one tick.
 */
export class ProjectingLoader<C extends string, R extends { id: string }> {
  private readonly loader: DataLoader<{ id: string; columns: readonly C[] }, R | null, string>;
  /** Rows read elsewhere, by id, with the columns they hold: any subset of those is served from here. */
  private readonly primed = new Map<string, { row: R; columns: ReadonlySet<C> }>();

  constructor(name: string, fetch: (ids: string[], columns: C[]) => Promise<readonly R[]>, maxBatchSize: number) {
    this.loader = new DataLoader(
      observedBatch(name, async (keys: readonly { id: string; columns: readonly C[] }[]) => {
        const ids = [...new Set(keys.map((k) => k.id))];
        const columns = [...new Set(keys.flatMap((k) => k.columns))].sort();
        const byId = new Map((await fetch(ids, columns)).map((r) => [r.id, r]));
        return keys.map((k) => byId.get(k.id) ?? null);
      }),
      { maxBatchSize, cacheKeyFn: (k) => `${k.id}|${k.columns.join(',')}` },
    );
  }

  /** The row, or null when no such row exists (or the viewer may not see it). */
  load(id: string, columns: readonly C[]): Promise<R | null> {
    const row = this.primedRow(id, columns);
    return row ? Promise.resolve(row) : this.loader.load({ id, columns });
  }

  /** The primed row holding `columns`, at once (no promise), if there is one. */
  primedRow(id: string, columns: readonly C[]): R | undefined {
    const primed = this.primed.get(id);
    return primed && columns.every((c) => primed.columns.has(c)) ? primed.row : undefined;
  }

  /**
   * Seeds the cache with a row read elsewhere (e.g. joined into a page query) holding `columns`
   * (share one set across a batch's rows): a later `load` of any subset of them is served from it.
   */
  prime(row: R, columns: ReadonlySet<C>) {
    this.primed.set(row.id, { row, columns });
  }
}
