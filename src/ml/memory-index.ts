/**
 * The in-process vector index: every restaurant vector in ONE Float32Array of
 * capacity × 384 (n × 384 × 4 bytes: 15 MB for 10,000 restaurants, 154 MB for
 * 100,000), filled by one streaming query (binary vectors, 100 rows per fetch), and
 * updated in place when restaurants change: a changed row overwrites its slot, a new
 * one takes a free slot. Only when the headroom (5 %) is used up does the array grow,
 * by copying once into a larger one.
 *
 * Exact search: a scan computing dot products with a bounded heap. 100,000 × 384
 * multiply-adds per query; `similar` for m restaurants is one scan with m heaps.
 */
import type { Db } from '../db/pool.ts';
import {
  decodeVector,
  type EmbeddingType,
  selectVectorCount,
  streamRestaurantVectors,
} from '../db/queries/embeddings.ts';
import type { Logger } from '../observability/logger.ts';
import { type Match, type NearestFilter, TopK, type VectorIndex } from './vector-index.ts';

/**
 * A scan gives the event loop back every ~2M multiply-adds (a few ms): a page of 100
 * `similar` lists over 10,000 restaurants is ~400M, and run in one go it would stall every
 * other request, /health included, for a second or more.
 */
const YIELD_EVERY = 2_000_000;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

const HEADROOM = 1.05;
/** Rows re-read at each sync: a slower transaction can commit a slightly older timestamp. */
const SYNC_OVERLAP_MS = 5_000;

export class MemoryIndex implements VectorIndex {
  readonly kind = 'memory' as const;
  private data = new Float32Array(0);
  private ratings = new Float32Array(0);
  private ids: string[] = [];
  private readonly slotOf = new Map<string, number>();
  private watermark: Date | null = null;
  private loading: Promise<void> | null = null;
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  /** full scans of the matrix so far (a `similar` batch is one) */
  private scans = 0;

  constructor(
    private readonly db: Db,
    private readonly type: EmbeddingType,
    private readonly modelId: string,
    private readonly log: Logger,
    private readonly opts: { dims: number; syncMs: number },
  ) {}

  /** Its reads are the process's syncs, not any request's: the same index. */
  withDb(_db: Db): VectorIndex {
    return this;
  }

  stats() {
    return { size: this.ids.length, bytes: this.data.byteLength, scans: this.scans };
  }

  /** First use loads everything; later calls pull rows changed since the last sync. */
  async sync(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = (this.loaded ? this.pull() : this.loadAll()).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async nearest(query: Float32Array, k: number, filter: NearestFilter = {}): Promise<Match[]> {
    await this.ready();
    const top = new TopK(k);
    const { dims } = this.opts;
    const minRating = filter.minRating ?? Number.NEGATIVE_INFINITY;
    this.scans++;
    let work = 0;
    for (let slot = 0; slot < this.ids.length; slot++) {
      work += dims;
      if (work >= YIELD_EVERY) {
        work = 0;
        await yieldToEventLoop();
      }
      if (this.ratings[slot]! < minRating) continue;
      if (filter.excludeIds?.has(this.ids[slot]!)) continue;
      top.push(slot, this.dot(query, slot * dims));
    }
    return top.sorted().map(({ slot, score }) => ({ id: this.ids[slot]!, score }));
  }

  async similar(ids: readonly string[], k: number): Promise<Map<string, Match[]>> {
    await this.ready();
    const { dims } = this.opts;
    const sources = ids.map((id) => ({ id, slot: this.slotOf.get(id) })).filter((s) => s.slot !== undefined);
    const tops = sources.map(() => new TopK(k));
    this.scans++;
    // One pass over the matrix for every source: each row is read once, not once per source.
    let work = 0;
    for (let slot = 0; slot < this.ids.length; slot++) {
      work += sources.length * dims;
      if (work >= YIELD_EVERY) {
        work = 0;
        await yieldToEventLoop();
      }
      const base = slot * dims;
      for (let q = 0; q < sources.length; q++) {
        const source = sources[q]!.slot!;
        if (source === slot) continue;
        tops[q]!.push(slot, this.dotSlots(source * dims, base));
      }
    }
    const out = new Map<string, Match[]>();
    sources.forEach((s, q) => {
      out.set(
        s.id,
        tops[q]!.sorted().map(({ slot, score }) => ({ id: this.ids[slot]!, score })),
      );
    });
    return out;
  }

  async vectors(ids: readonly string[]): Promise<Map<string, Float32Array>> {
    await this.ready();
    const { dims } = this.opts;
    const out = new Map<string, Float32Array>();
    for (const id of ids) {
      const slot = this.slotOf.get(id);
      if (slot !== undefined) out.set(id, this.data.slice(slot * dims, (slot + 1) * dims));
    }
    return out;
  }

  /** Writes one vector in place (the backfill in this process calls it; other writers are picked up by sync). */
  upsert(id: string, vector: Float32Array, rating: number): void {
    const { dims } = this.opts;
    let slot = this.slotOf.get(id);
    if (slot === undefined) {
      slot = this.ids.length;
      if ((slot + 1) * dims > this.data.length) this.grow(Math.ceil((slot + 1) * HEADROOM) + 16);
      this.ids.push(id);
      this.slotOf.set(id, slot);
    }
    this.data.set(vector, slot * dims);
    this.ratings[slot] = rating;
  }

  private async ready() {
    if (!this.loaded) await this.sync();
  }

  private async loadAll() {
    const count = await selectVectorCount(this.db, this.modelId);
    this.grow(Math.ceil(count * HEADROOM) + 16);
    await this.pull();
    this.loaded = true;
    this.log.info(
      { restaurants: this.ids.length, megabytes: Math.round(this.data.byteLength / 2 ** 20) },
      'vector index loaded',
    );
    if (this.opts.syncMs > 0) {
      this.timer = setInterval(
        () => void this.sync().catch((e: Error) => this.log.warn({ err: e }, 'vector index sync failed')),
        this.opts.syncMs,
      );
      this.timer.unref();
    }
  }

  private async pull() {
    const since = this.watermark ? new Date(this.watermark.getTime() - SYNC_OVERLAP_MS) : null;
    let newest = this.watermark;
    await streamRestaurantVectors(this.db, this.type, this.modelId, since, (row) => {
      this.upsert(row.id, decodeVector(row.vector, this.type, this.opts.dims), row.rating);
      if (!newest || row.updated_at > newest) newest = row.updated_at;
    });
    this.watermark = newest;
  }

  private grow(capacity: number) {
    const { dims } = this.opts;
    if (capacity * dims <= this.data.length) return;
    const data = new Float32Array(capacity * dims);
    data.set(this.data);
    const ratings = new Float32Array(capacity);
    ratings.set(this.ratings);
    this.data = data;
    this.ratings = ratings;
  }

  private dot(query: Float32Array, base: number): number {
    const { data } = this;
    let s = 0;
    for (let d = 0; d < query.length; d++) s += query[d]! * data[base + d]!;
    return s;
  }

  private dotSlots(a: number, b: number): number {
    const { data } = this;
    const { dims } = this.opts;
    let s = 0;
    for (let d = 0; d < dims; d++) s += data[a + d]! * data[b + d]!;
    return s;
  }
}
