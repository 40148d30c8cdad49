/**
 * The embedder's pooling math on a tiny hand-built ONNX graph, its session lifecycle
 * (lazy single load, idle unload, reload), batching and the model sources.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Embedder, type ModelSource, meanPool } from '../src/ml/embedder.ts';
import { fileModelSource, ModelFilesError, modelFiles, offlineModelSource } from '../src/ml/model-source.ts';
import { buildOfflineModel } from '../src/ml/offline-model.ts';
import { buildModel, FLOAT, INT64, node, tensor, valueInfo } from '../src/ml/onnx-graph.ts';
import { WordPieceTokenizer } from '../src/ml/tokenizer.ts';

/** A 10-word vocabulary and a graph that maps each token id to a known 4-dimensional row. */
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'red', 'green', 'blue', 'dark', 'light'];
const ROWS = [
  [0, 0, 0, 0], // [PAD]
  [1, 1, 1, 1], // [UNK]
  [0, 0, 0, 2], // [CLS]
  [0, 0, 0, 2], // [SEP]
  [0, 0, 0, 0],
  [4, 0, 0, 0], // red
  [0, 4, 0, 0], // green
  [0, 0, 4, 0], // blue
  [2, 2, 2, 0], // dark
  [-2, -2, -2, 0], // light
];

function tinyModel(): Uint8Array {
  return buildModel({
    name: 'tiny',
    inputs: [
      valueInfo('input_ids', INT64, ['batch', 'seq']),
      valueInfo('attention_mask', INT64, ['batch', 'seq']),
      valueInfo('token_type_ids', INT64, ['batch', 'seq']),
    ],
    outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', 4])],
    initializers: [tensor('table', [VOCAB.length, 4], Float32Array.from(ROWS.flat()))],
    // Padding rows are NOT zeroed here: the pooling must ignore them by the mask alone.
    nodes: [node('Gather', ['table', 'input_ids'], ['last_hidden_state'], { axis: 0 })],
  });
}

function tinySource(counter?: { loads: number }): ModelSource {
  return {
    id: 'tiny',
    tokenizer: new WordPieceTokenizer(VOCAB),
    load: async () => {
      if (counter) counter.loads++;
      await new Promise((r) => setTimeout(r, 20)); // a slow load, so concurrent callers overlap
      return tinyModel();
    },
  };
}

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('mean pooling', () => {
  it('averages the token vectors where the mask is 1, then L2-normalises', () => {
    // batch 2 × length 3 × dims 2; row 2 has one padding position holding garbage
    const hidden = Float32Array.from([1, 0, 3, 0, 2, 0, 0, 2, 0, 4, 100, 100]);
    const mask = BigInt64Array.from([1n, 1n, 1n, 1n, 1n, 0n]);
    const [a, b] = meanPool(
      hidden,
      { inputIds: new BigInt64Array(6), attentionMask: mask, tokenTypeIds: new BigInt64Array(6), batch: 2, length: 3 },
      2,
    );
    expect(Array.from(a!)).toEqual([1, 0]);
    expect(Array.from(b!)).toEqual([0, 1]); // the 100s were ignored
  });

  it('runs the real session path on a hand-built graph: [CLS] red [SEP] pools to (4, 0, 0, 4)/3, normalised', async () => {
    const e = new Embedder(tinySource(), { threads: 1, batchSize: 8, idleMs: 60_000, dimensions: 4 });
    try {
      // "red" → [CLS]=(0,0,0,2), red=(4,0,0,0), [SEP]=(0,0,0,2): mean (4/3, 0, 0, 4/3)
      const [red, long] = await e.embed(['red', 'red green blue dark light']);
      const s = Math.SQRT1_2;
      expect(Array.from(red!).map((x) => Number(x.toFixed(5)))).toEqual([s, 0, 0, s].map((x) => Number(x.toFixed(5))));
      // The second row is longer, so "red" was padded in the batch; padding did not change it.
      const [alone] = await e.embed(['red']);
      expect(Array.from(alone!)).toEqual(Array.from(red!));
      expect(norm(long!)).toBeCloseTo(1, 5);
    } finally {
      await e.close();
    }
  });

  it('an unknown word is [UNK]', async () => {
    const e = new Embedder(tinySource(), { threads: 1, batchSize: 8, idleMs: 60_000, dimensions: 4 });
    try {
      const [v] = await e.embed(['purple']);
      // [CLS] (0,0,0,2) + [UNK] (1,1,1,1) + [SEP] (0,0,0,2) → (1,1,1,5)
      const n = Math.sqrt(28);
      expect(Array.from(v!).map((x) => x.toFixed(5))).toEqual([1 / n, 1 / n, 1 / n, 5 / n].map((x) => x.toFixed(5)));
    } finally {
      await e.close();
    }
  });
});

describe('session lifecycle', () => {
  it('loads once for concurrent first calls, unloads when idle, reloads on the next call', async () => {
    const counter = { loads: 0 };
    const e = new Embedder(tinySource(counter), { threads: 1, batchSize: 2, idleMs: 50, dimensions: 4 });
    try {
      expect(e.loaded).toBe(false);
      const results = await Promise.all([e.embed(['red']), e.embed(['green', 'blue', 'dark']), e.embedOne('light')]);
      expect(results.map((r) => r.length)).toEqual([1, 3, 4]); // the last is one vector of 4
      expect(counter.loads).toBe(1);
      expect(e.loaded).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(e.loaded).toBe(false);
      await e.embedOne('red');
      expect(counter.loads).toBe(2);
      expect(e.loads).toBe(2);
    } finally {
      await e.close();
    }
  });

  it('reports progress per batch and keeps input order', async () => {
    const e = new Embedder(tinySource(), { threads: 1, batchSize: 2, idleMs: 60_000, dimensions: 4 });
    try {
      const done: number[] = [];
      const out = await e.embed(['red', 'green', 'blue', 'red', 'green'], (n) => done.push(n));
      expect(done).toEqual([2, 4, 5]);
      expect(Array.from(out[3]!)).toEqual(Array.from(out[0]!));
      expect(out[1]![1]).toBeGreaterThan(0.5); // green's own dimension
    } finally {
      await e.close();
    }
  });

  it('refuses work beyond its queue bound instead of piling it up', async () => {
    const e = new Embedder(tinySource(), { threads: 1, batchSize: 1, idleMs: 60_000, maxQueued: 2, dimensions: 4 });
    try {
      const calls = [e.embedOne('red'), e.embedOne('green'), e.embedOne('blue')];
      const settled = await Promise.allSettled(calls);
      expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((settled[2] as PromiseRejectedResult).reason.name).toBe('EmbedderBusyError');
    } finally {
      await e.close();
    }
  });

  it('records why a load failed and recovers when the model is fixed', async () => {
    let broken = true;
    const source: ModelSource = {
      id: 'flaky',
      tokenizer: new WordPieceTokenizer(VOCAB),
      load: async () => (broken ? new Uint8Array([1, 2, 3]) : tinyModel()),
    };
    const e = new Embedder(source, { threads: 1, batchSize: 1, idleMs: 60_000, dimensions: 4 });
    try {
      await expect(e.embedOne('red')).rejects.toThrow();
      expect(e.loadError).toBeTruthy();
      broken = false;
      expect(await e.embedOne('red')).toHaveLength(4);
      expect(e.loadError).toBeNull();
    } finally {
      await e.close();
    }
  });
});

describe('model sources', () => {
  it('the offline encoder is deterministic and ranks texts sharing cuisine and dish words first', async () => {
    const vocab = Array.from({ length: 200 }, (_, i) => `w${i}`).concat(VOCAB);
    expect(Buffer.from(buildOfflineModel(vocab)).equals(Buffer.from(buildOfflineModel(vocab)))).toBe(true);
    const e = new Embedder(offlineModelSource(), { threads: 1, batchSize: 8, idleMs: 60_000 });
    try {
      const [q, same, other] = await e.embed([
        'japanese restaurant with sushi and sashimi',
        'fresh sashimi and sushi, a japanese place',
        'italian trattoria with pizza and pasta',
      ]);
      const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
      expect(dot(q!, same!)).toBeGreaterThan(dot(q!, other!) + 0.3);
    } finally {
      await e.close();
    }
  });

  it('MODEL_PATH: finds model.onnx or onnx/model.onnx and vocab.txt; names what is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tm-model-'));
    expect(() => modelFiles(dir)).toThrow(ModelFilesError);
    expect(() => modelFiles(dir)).toThrow(/neither model\.onnx nor onnx\/model\.onnx/);
    await mkdir(join(dir, 'onnx'));
    await writeFile(join(dir, 'onnx', 'model.onnx'), tinyModel());
    expect(() => modelFiles(dir)).toThrow(/no vocab\.txt/);
    await writeFile(join(dir, 'vocab.txt'), `${VOCAB.join('\n')}\n`);
    expect(modelFiles(dir).model).toBe(join(dir, 'onnx', 'model.onnx'));
    const source = await fileModelSource(dir);
    expect(source.id).toMatch(/^all-MiniLM-L6-v2:[0-9a-f]{12}$/);
    const e = new Embedder(source, { threads: 1, batchSize: 4, idleMs: 60_000, dimensions: 4 });
    try {
      expect(await e.embedOne('blue dark')).toHaveLength(4);
    } finally {
      await e.close();
    }
  });
});
