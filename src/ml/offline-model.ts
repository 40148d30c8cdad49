/**
 * The offline encoder: a small ONNX model with all-MiniLM-L6-v2's signature
 * (`input_ids`, `attention_mask`, `token_type_ids` → `last_hidden_state` [b, s, 384]),
 * generated from the vocabulary, so the default install needs no download and runs
 * the same tokenizer → session → pooling path as the real model.
 *
 * Each WordPiece token's row is a sum of seeded random vectors of its features: the
 * piece itself and its character trigrams (so `tacos` and `taco` share most of theirs);
 * stop words weigh little, special tokens and punctuation nothing. A fixed random
 * projection takes the F = 256 feature dimensions to 384. The table is 30,522 × 256
 * floats (31 MB, only while the session is loaded) instead of MiniLM's 30,522 × 384 embeddings plus 6 layers (90 MB).
 * Texts sharing cuisine and dish words end up close; it knows no synonyms.
 */
import { fnv1a, prng } from '../random.ts';
import { OFFLINE_MODEL_ID } from './model-source.ts';
import { buildModel, FLOAT, INT64, node, tensor, valueInfo } from './onnx-graph.ts';

const F = 256;
const OUT = 384;
const STOP_WORDS = new Set(
  'the a an and or of in on at to for with from by is are was our we us you your it its this that serves serving plus best restaurant place'.split(
    ' ',
  ),
);

/**
 * BERT's vocabulary lists whole words roughly by frequency (ids from ~2,000 up): the
 * commonest words (house, town, street) say little about a restaurant, rarer ones
 * (pizza, curry) a lot. An IDF stand-in from the id: 0.2 up to 1 at id 12,000.
 */
function frequencyWeight(id: number, continuation: boolean): number {
  if (continuation) return 1;
  const w = (Math.log(Math.max(id, 2000)) - Math.log(2000)) / (Math.log(12_000) - Math.log(2000));
  return Math.min(1, Math.max(0.2, w));
}

function addFeature(table: Float32Array, row: number, feature: string, weight: number) {
  const rand = prng(fnv1a(feature));
  const base = row * F;
  // Uniform on [-√3, √3]: unit variance, as good as Gaussian for a random projection.
  for (let d = 0; d < F; d++) table[base + d]! += weight * (rand() * 2 - 1) * Math.sqrt(3);
}

/** ONNX bytes of the offline encoder for this vocabulary; deterministic (same vocab, same bytes). */
export function buildOfflineModel(vocab: readonly string[]): Uint8Array {
  const table = new Float32Array(vocab.length * F);
  vocab.forEach((token, row) => {
    if (/^\[.*\]$/.test(token) || /^(##)?[\p{P}\p{S}]+$/u.test(token)) return; // specials, punctuation: zero rows
    const continuation = token.startsWith('##');
    const text = continuation ? token.slice(2) : token;
    const weight = STOP_WORDS.has(text) ? 0.1 : frequencyWeight(row, continuation);
    addFeature(table, row, token, weight);
    const marked = `${continuation ? '' : '<'}${text}>`;
    const grams: string[] = [];
    for (let i = 0; i + 3 <= marked.length; i++) grams.push(marked.slice(i, i + 3));
    for (const g of grams) addFeature(table, row, `#3:${g}`, (0.5 * weight) / Math.sqrt(grams.length));
  });
  const projection = new Float32Array(F * OUT);
  const rand = prng(fnv1a('tastematch-offline-projection'));
  for (let i = 0; i < projection.length; i++) projection[i] = ((rand() * 2 - 1) * Math.sqrt(3)) / Math.sqrt(F);

  return buildModel({
    name: OFFLINE_MODEL_ID,
    inputs: [
      valueInfo('input_ids', INT64, ['batch', 'seq']),
      valueInfo('attention_mask', INT64, ['batch', 'seq']),
      valueInfo('token_type_ids', INT64, ['batch', 'seq']),
    ],
    outputs: [valueInfo('last_hidden_state', FLOAT, ['batch', 'seq', OUT])],
    initializers: [
      tensor('table', [vocab.length, F], table),
      tensor('projection', [F, OUT], projection),
      tensor('last_axis', [1], new BigInt64Array([-1n])),
    ],
    nodes: [
      node('Gather', ['table', 'input_ids'], ['features'], { axis: 0 }),
      node('MatMul', ['features', 'projection'], ['projected']),
      // Padding positions come out as zeros (pooling ignores them anyway); token types are unused.
      node('Unsqueeze', ['attention_mask', 'last_axis'], ['mask3']),
      node('Cast', ['mask3'], ['maskf'], { to: FLOAT }),
      node('Mul', ['projected', 'maskf'], ['last_hidden_state']),
    ],
  });
}
