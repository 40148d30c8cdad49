/**
 * A generated ONNX graph with exactly all-MiniLM-L6-v2's architecture and signature
 * (BERT encoder: 6 layers, hidden 384, 12 heads of 32, intermediate 1536, vocabulary
 * 30,522, 512 positions, 2 token types, erf GELU, LayerNorm ε 1e-12; inputs
 * `input_ids`, `attention_mask`, `token_type_ids`, output `last_hidden_state`) and
 * seeded random weights: the benchmark measures the real model's inference cost and
 * memory without its weights, which cannot be downloaded here. Never committed: the
 * benchmark writes it under tmp/.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { buildModel, FLOAT, INT64, node, tensor, valueInfo } from '../src/ml/onnx-graph.ts';
import { prng } from '../src/random.ts';

export const MINILM_SHAPE = {
  layers: 6,
  hidden: 384,
  heads: 12,
  intermediate: 1536,
  vocab: 30522,
  maxPositions: 512,
} as const;

function buildMiniLmShaped(seed: number): { bytes: Uint8Array; parameters: number } {
  const { layers, hidden: H, heads, intermediate: I, vocab, maxPositions } = MINILM_SHAPE;
  const head = H / heads;
  const rand = prng(seed);
  let parameters = 0;
  const initializers: ReturnType<typeof tensor>[] = [];
  const nodes: ReturnType<typeof node>[] = [];
  /** N(0, 0.02²)-like weights (uniform with the same variance). */
  const weight = (name: string, dims: number[]) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * 0.02 * Math.sqrt(3);
    initializers.push(tensor(name, dims, data));
    parameters += n;
    return name;
  };
  const fill = (name: string, dims: number[], value: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    initializers.push(tensor(name, dims, new Float32Array(n).fill(value)));
    parameters += n;
    return name;
  };
  const constF = (name: string, value: number) => {
    initializers.push(tensor(name, [], Float32Array.of(value)));
    return name;
  };
  const constI = (name: string, values: number[], dims = [values.length]) => {
    initializers.push(tensor(name, dims, BigInt64Array.from(values.map(BigInt))));
    return name;
  };
  const layerNorm = (input: string, prefix: string, output: string) => {
    nodes.push(
      node('LayerNormalization', [input, fill(`${prefix}.gamma`, [H], 1), fill(`${prefix}.beta`, [H], 0)], [output], {
        axis: -1,
        epsilon: 1e-12,
      }),
    );
    return output;
  };
  const dense = (input: string, prefix: string, inDim: number, outDim: number) => {
    nodes.push(node('MatMul', [input, weight(`${prefix}.weight`, [inDim, outDim])], [`${prefix}.mm`]));
    nodes.push(node('Add', [`${prefix}.mm`, fill(`${prefix}.bias`, [outDim], 0)], [`${prefix}.out`]));
    return `${prefix}.out`;
  };

  // Embeddings: word + position (0..seq-1) + token type, then LayerNorm.
  constI('zero', [0], []);
  constI('one', [1], []);
  constI('axis1', [1], []);
  constI('heads_shape', [0, 0, heads, head]);
  constI('hidden_shape', [0, 0, H]);
  constI('mask_axes', [1, 2]);
  constF('sqrt_head', Math.sqrt(head));
  constF('neg_big', -10_000);
  constF('f_one', 1);
  constF('f_half', 0.5);
  constF('sqrt2', Math.SQRT2);
  nodes.push(node('Gather', [weight('embeddings.word', [vocab, H]), 'input_ids'], ['emb.word'], { axis: 0 }));
  nodes.push(node('Shape', ['input_ids'], ['ids.shape']));
  nodes.push(node('Gather', ['ids.shape', 'axis1'], ['seq.len'], { axis: 0 }));
  nodes.push(node('Range', ['zero', 'seq.len', 'one'], ['position_ids']));
  nodes.push(
    node('Gather', [weight('embeddings.position', [maxPositions, H]), 'position_ids'], ['emb.pos'], { axis: 0 }),
  );
  nodes.push(node('Gather', [weight('embeddings.type', [2, H]), 'token_type_ids'], ['emb.type'], { axis: 0 }));
  nodes.push(node('Add', ['emb.word', 'emb.pos'], ['emb.sum1']));
  nodes.push(node('Add', ['emb.sum1', 'emb.type'], ['emb.sum']));
  let x = layerNorm('emb.sum', 'embeddings.ln', 'emb.out');

  // Additive attention mask: 0 where attended, −10000 on padding; [b, 1, 1, s].
  nodes.push(node('Cast', ['attention_mask'], ['mask.f'], { to: FLOAT }));
  nodes.push(node('Sub', ['f_one', 'mask.f'], ['mask.inv']));
  nodes.push(node('Mul', ['mask.inv', 'neg_big'], ['mask.bias2']));
  nodes.push(node('Unsqueeze', ['mask.bias2', 'mask_axes'], ['mask.bias']));

  for (let l = 0; l < layers; l++) {
    const p = `layer${l}`;
    const split = (name: string, perm: number[]) => {
      const projected = dense(x, `${p}.${name}`, H, H);
      nodes.push(node('Reshape', [projected, 'heads_shape'], [`${p}.${name}.heads`]));
      nodes.push(node('Transpose', [`${p}.${name}.heads`], [`${p}.${name}.t`], { perm }));
      return `${p}.${name}.t`;
    };
    const q = split('query', [0, 2, 1, 3]);
    const k = split('key', [0, 2, 3, 1]);
    const v = split('value', [0, 2, 1, 3]);
    nodes.push(node('MatMul', [q, k], [`${p}.scores`]));
    nodes.push(node('Div', [`${p}.scores`, 'sqrt_head'], [`${p}.scaled`]));
    nodes.push(node('Add', [`${p}.scaled`, 'mask.bias'], [`${p}.masked`]));
    nodes.push(node('Softmax', [`${p}.masked`], [`${p}.probs`], { axis: -1 }));
    nodes.push(node('MatMul', [`${p}.probs`, v], [`${p}.context`]));
    nodes.push(node('Transpose', [`${p}.context`], [`${p}.context.t`], { perm: [0, 2, 1, 3] }));
    nodes.push(node('Reshape', [`${p}.context.t`, 'hidden_shape'], [`${p}.context.flat`]));
    const attention = dense(`${p}.context.flat`, `${p}.attention.output`, H, H);
    nodes.push(node('Add', [attention, x], [`${p}.attention.residual`]));
    const x1 = layerNorm(`${p}.attention.residual`, `${p}.attention.ln`, `${p}.attention.out`);
    const inner = dense(x1, `${p}.intermediate`, H, I);
    // GELU, erf form: 0.5 · h · (1 + erf(h / √2))
    nodes.push(node('Div', [inner, 'sqrt2'], [`${p}.gelu.scaled`]));
    nodes.push(node('Erf', [`${p}.gelu.scaled`], [`${p}.gelu.erf`]));
    nodes.push(node('Add', [`${p}.gelu.erf`, 'f_one'], [`${p}.gelu.plus`]));
    nodes.push(node('Mul', [inner, `${p}.gelu.plus`], [`${p}.gelu.mul`]));
    nodes.push(node('Mul', [`${p}.gelu.mul`, 'f_half'], [`${p}.gelu`]));
    const out = dense(`${p}.gelu`, `${p}.output`, I, H);
    nodes.push(node('Add', [out, x1], [`${p}.output.residual`]));
    x = layerNorm(`${p}.output.residual`, `${p}.output.ln`, l === layers - 1 ? 'last_hidden_state' : `${p}.out`);
  }

  const bytes = buildModel({
    name: 'minilm-shaped',
    inputs: [
      valueInfo('input_ids', INT64, ['batch', 'seq']),
      valueInfo('attention_mask', INT64, ['batch', 'seq']),
      valueInfo('token_type_ids', INT64, ['batch', 'seq']),
    ],
    outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', H])],
    nodes,
    initializers,
  });
  return { bytes, parameters };
}

/** Writes the MiniLM-shaped model to `path` unless it is already there; returns the parameter count (0 if kept). */
export async function writeMiniLmShapedModel(path: string, seed = 42): Promise<number> {
  if (existsSync(path)) return 0;
  await mkdir(dirname(path), { recursive: true });
  const { bytes, parameters } = buildMiniLmShaped(seed);
  await writeFile(path, bytes);
  return parameters;
}
