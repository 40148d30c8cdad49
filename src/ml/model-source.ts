/**
 * Where the encoder comes from. MODEL_PATH: a directory with all-MiniLM-L6-v2's
 * `model.onnx` (or `onnx/model.onnx`, the layout of the Hugging Face repository)
 * and its `vocab.txt`. Unset: the offline encoder, generated in memory from the
 * bundled vocabulary (deterministic, no download).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSource } from './embedder.ts';
import { defaultTokenizer, WordPieceTokenizer } from './tokenizer.ts';

export class ModelFilesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFilesError';
  }
}

/** The model and vocabulary files of a MODEL_PATH directory. @throws ModelFilesError naming what is missing */
export function modelFiles(dir: string): { model: string; vocab: string } {
  const model = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')].find((p) => existsSync(p));
  const vocab = join(dir, 'vocab.txt');
  if (!model) throw new ModelFilesError(`MODEL_PATH=${dir} has neither model.onnx nor onnx/model.onnx`);
  if (!existsSync(vocab)) throw new ModelFilesError(`MODEL_PATH=${dir} has no vocab.txt`);
  return { model, vocab };
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The offline encoder's model id (stored beside each embedding it made). */
export const OFFLINE_MODEL_ID = 'tastematch-offline-v1';

/**
 * The offline encoder: built in memory on each load (~16 MB, deterministic), released with the
 * session. Its builder (and the ONNX protobuf code, ~1 MB of heap) is imported on first load.
 */
export function offlineModelSource(): ModelSource {
  const tokenizer = defaultTokenizer();
  return {
    id: OFFLINE_MODEL_ID,
    tokenizer,
    load: async () => (await import('./offline-model.ts')).buildOfflineModel(vocabOf(tokenizer)),
  };
}

function vocabOf(tokenizer: WordPieceTokenizer): string[] {
  return readFileSync(new URL('./assets/vocab.txt', import.meta.url), 'utf8')
    .split('\n')
    .slice(0, tokenizer.vocabSize);
}

/**
 * The real model from MODEL_PATH. Its id carries the file's hash, so embeddings made
 * by another model file are found and redone by the backfill.
 * @throws ModelFilesError when a file is missing
 */
export async function fileModelSource(dir: string): Promise<ModelSource> {
  const files = modelFiles(dir);
  const digest = await sha256File(files.model);
  return {
    id: `all-MiniLM-L6-v2:${digest.slice(0, 12)}`,
    tokenizer: WordPieceTokenizer.fromFile(files.vocab),
    load: async () => files.model,
  };
}

export function modelSource(modelPath: string | undefined): Promise<ModelSource> {
  return modelPath ? fileModelSource(modelPath) : Promise.resolve(offlineModelSource());
}
