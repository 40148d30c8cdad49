/**
 * Sentence embeddings: WordPiece tokens → an ONNX encoder (all-MiniLM-L6-v2 or the
 * offline encoder; same signature) → attention-mask mean pooling → L2 normalisation.
 *
 * Memory on a small machine:
 * - The session loads on first use (concurrent first calls share one load) and is
 *   released after `idleMs` without use (EMBED_IDLE_MS), so an idle process gives its
 *   memory back; never while a run is in flight, and the next call loads it again.
 * - One run at a time (runs queue, at most `maxQueued` waiting): with one intra-op
 *   thread, parallel runs would only add their activations' memory, not speed.
 * - The CPU memory arena stays ON, measured rather than assumed: with it, onnxruntime
 *   reuses one block sized to the largest run (batch × sequence length), so memory is
 *   bounded by EMBED_BATCH_SIZE. With it off, every run's activations go through glibc
 *   malloc on the worker thread, whose per-thread heaps fragment and keep the pages:
 *   MiniLM-shaped model, 10 runs of 16 × 128 tokens: 273 MB RSS with the arena, 422 MB
 *   without. Weight pre-packing is off (below). `enableMemPattern: false`: memory patterns pre-plan fixed shapes, and every
 *   batch here has its own sequence length.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-node';

/**
 * onnxruntime-node is imported with the first session, not at start: its native library and
 * runtime are ~10 MB of RSS that a gateway which has not embedded anything yet (every request
 * but search, with the in-process index already built) does not need.
 */
type Ort = typeof import('onnxruntime-node');
let ort: Promise<Ort> | undefined;
const loadOrt = () => {
  ort ??= import('onnxruntime-node');
  return ort;
};

import type { Encoded, WordPieceTokenizer } from './tokenizer.ts';

export const DIMENSIONS = 384;

export type ModelSource = {
  /** Stored beside each embedding: rows made by another model are re-embedded by the backfill. */
  id: string;
  tokenizer: WordPieceTokenizer;
  /** The model bytes or a file path; called on every (re)load. */
  load(): Promise<Uint8Array | string>;
};

export type EmbedderOptions = {
  threads: number;
  batchSize: number;
  idleMs: number;
  /** runs allowed to wait for the session; beyond it, `EmbedderBusyError` */
  maxQueued?: number;
  maxLength?: number;
  /** what the model must output per token (384 for all-MiniLM-L6-v2; the database stores 384) */
  dimensions?: number;
};

export class EmbedderBusyError extends Error {
  constructor(waiting: number) {
    super(`Too many embedding requests waiting (${waiting})`);
    this.name = 'EmbedderBusyError';
  }
}

/** Mean of the token vectors where the mask is 1, then L2-normalised; one vector per row. */
export function meanPool(hidden: Float32Array, encoded: Encoded, dims = DIMENSIONS): Float32Array[] {
  const { batch, length, attentionMask } = encoded;
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dims);
    let count = 0;
    for (let t = 0; t < length; t++) {
      if (attentionMask[b * length + t] === 0n) continue;
      count++;
      const base = (b * length + t) * dims;
      for (let d = 0; d < dims; d++) v[d]! += hidden[base + d]!;
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      v[d]! /= Math.max(count, 1);
      norm += v[d]! * v[d]!;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let d = 0; d < dims; d++) v[d]! /= norm;
    out.push(v);
  }
  return out;
}

export class Embedder {
  readonly dimensions: number;
  private session: InferenceSession | null = null;
  private loading: Promise<InferenceSession> | null = null;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  /** sessions created so far (tests and metrics: a reload after an idle unload counts) */
  loads = 0;
  /** why the last load failed, until a load succeeds (readiness reports it) */
  loadError: string | null = null;

  constructor(
    private readonly source: ModelSource,
    private readonly options: EmbedderOptions,
  ) {
    this.dimensions = options.dimensions ?? DIMENSIONS;
  }

  get modelId(): string {
    return this.source.id;
  }

  /** Whether a session is in memory now. */
  get loaded(): boolean {
    return this.session !== null;
  }

  /**
   * Embeds texts in batches of `batchSize`; `onBatch` reports progress.
   * @throws EmbedderBusyError when too many calls are already waiting
   */
  async embed(texts: readonly string[], onBatch?: (done: number) => void): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.options.batchSize) {
      const batch = texts.slice(i, i + this.options.batchSize);
      out.push(...(await this.serial(() => this.run(batch))));
      onBatch?.(Math.min(i + batch.length, texts.length));
    }
    return out;
  }

  async embedOne(text: string): Promise<Float32Array> {
    const [v] = await this.embed([text]);
    return v!;
  }

  /** Loads the model now (start-up check for MODEL_PATH); it still unloads when idle. */
  async warm(): Promise<void> {
    await this.serial(async () => {
      await this.acquire();
      this.releaseSoon();
    });
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const session = this.session ?? (await this.loading?.catch(() => null)) ?? null;
    this.session = null;
    this.loading = null;
    await session?.release();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const max = this.options.maxQueued ?? 100;
    if (this.waiting >= max) return Promise.reject(new EmbedderBusyError(this.waiting));
    this.waiting++;
    const result = this.queue.then(
      () => {
        this.waiting--;
        return fn();
      },
      () => {
        this.waiting--;
        return fn();
      },
    );
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async run(texts: string[]): Promise<Float32Array[]> {
    const encoded = this.source.tokenizer.encode(texts, this.options.maxLength ?? 128);
    const session = await this.acquire();
    try {
      const { Tensor } = await loadOrt();
      const dims = [encoded.batch, encoded.length];
      const feeds: Record<string, Tensor> = {
        input_ids: new Tensor('int64', encoded.inputIds, dims),
        attention_mask: new Tensor('int64', encoded.attentionMask, dims),
        token_type_ids: new Tensor('int64', encoded.tokenTypeIds, dims),
      };
      const result = await session.run(feeds);
      const hidden = result.last_hidden_state;
      if (!hidden) throw new Error('the model has no last_hidden_state output');
      if (hidden.dims[2] !== this.dimensions) {
        hidden.dispose();
        throw new Error(`the model outputs ${hidden.dims[2]} dimensions per token, expected ${this.dimensions}`);
      }
      try {
        return meanPool(hidden.data as Float32Array, encoded, this.dimensions);
      } finally {
        hidden.dispose();
      }
    } finally {
      this.releaseSoon();
    }
  }

  private async acquire(): Promise<InferenceSession> {
    this.inFlight++;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (this.session) return this.session;
    this.loading ??= this.createSession().finally(() => {
      this.loading = null;
    });
    try {
      this.session = await this.loading;
      return this.session;
    } catch (error) {
      this.inFlight--;
      throw error;
    }
  }

  private releaseSoon() {
    this.inFlight--;
    if (this.inFlight > 0 || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.inFlight > 0 || !this.session) return;
      const session = this.session;
      this.session = null;
      void session.release();
    }, this.options.idleMs);
    this.idleTimer.unref();
  }

  private async createSession(): Promise<InferenceSession> {
    const options: InferenceSession.SessionOptions = {
      intraOpNumThreads: this.options.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: true,
      enableMemPattern: false,
      // Pre-packing keeps a second, re-laid-out copy of the MatMul weights: ~10–25 MB more
      // for MiniLM for a few percent of speed (measured: within the noise here).
      extra: { session: { disable_prepacking: '1' } },
    };
    try {
      const model = await this.source.load();
      const { InferenceSession } = await loadOrt();
      const session =
        typeof model === 'string'
          ? await InferenceSession.create(model, options)
          : await InferenceSession.create(model, options);
      this.loads++;
      this.loadError = null;
      return session;
    } catch (error) {
      this.loadError = (error as Error).message;
      throw error;
    }
  }
}
