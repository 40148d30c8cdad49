/**
 * BERT WordPiece tokenisation, as Hugging Face's BertTokenizer does it for
 * all-MiniLM-L6-v2 (lower case with accents stripped, control characters removed,
 * CJK ideographs and punctuation split off, greedy longest-match word pieces with `##`).
 * Hand-written: the npm tokenizer packages either download vocabularies at run time or
 * bring a large runtime; this is one file over the bundled vocab.txt.
 */
import { readFileSync } from 'node:fs';

export type Encoded = {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  batch: number;
  length: number;
};

const UNK = '[UNK]';
const MAX_WORD_CHARS = 100;
/** 128 tokens never need more text than this; longer input is cut before any work is done on it. */
const MAX_INPUT_CHARS = 10_000;

function isWhitespace(cp: number): boolean {
  if (cp === 0x20 || cp === 0x09 || cp === 0x0a || cp === 0x0d) return true;
  return cp > 127 && /\p{Zs}/u.test(String.fromCodePoint(cp));
}

function isControl(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false;
  if (cp < 127) return cp < 32;
  return /\p{Cc}|\p{Cf}/u.test(String.fromCodePoint(cp));
}

function isPunctuation(cp: number): boolean {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) {
    return true;
  }
  return cp > 127 && /\p{P}/u.test(String.fromCodePoint(cp));
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Lower case, then NFD without combining marks (BERT's accent stripping). */
function normalizeWord(word: string): string {
  const lower = word.toLowerCase();
  // ASCII needs neither NFD nor mark removal: the common case stays cheap.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range itself
  if (/^[\x00-\x7f]*$/.test(lower)) return lower;
  return lower.normalize('NFD').replace(/\p{Mn}/gu, '');
}

export class WordPieceTokenizer {
  readonly vocabSize: number;
  private readonly vocabIds: Map<string, number>;
  private readonly unkId: number;
  private readonly clsId: number;
  private readonly sepId: number;

  constructor(vocab: readonly string[]) {
    this.vocabSize = vocab.length;
    this.vocabIds = new Map(vocab.map((token, i) => [token, i]));
    const id = (t: string) => {
      const v = this.vocabIds.get(t);
      if (v === undefined) throw new Error(`the vocabulary has no ${t}`);
      return v;
    };
    this.unkId = id(UNK);
    this.clsId = id('[CLS]');
    this.sepId = id('[SEP]');
  }

  static fromFile(path: string | URL): WordPieceTokenizer {
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    if (lines.at(-1) === '') lines.pop();
    return new WordPieceTokenizer(lines);
  }

  /** Basic tokenisation: clean, split on whitespace, CJK and punctuation; normalise each word. */
  private words(text: string): string[] {
    const out: string[] = [];
    let current = '';
    const flush = () => {
      if (current) out.push(normalizeWord(current));
      current = '';
    };
    for (const ch of text.slice(0, MAX_INPUT_CHARS)) {
      const cp = ch.codePointAt(0)!;
      if (cp === 0 || cp === 0xfffd || isControl(cp)) continue;
      if (isWhitespace(cp)) {
        flush();
      } else if (isCjk(cp)) {
        flush();
        out.push(ch);
      } else if (isPunctuation(cp)) {
        flush();
        out.push(normalizeWord(ch));
      } else {
        current += ch;
      }
    }
    flush();
    // Accent stripping can leave a punctuation-only or empty word; BERT splits after it too.
    return out.flatMap((w) => (w === '' ? [] : this.splitPunctuation(w)));
  }

  private splitPunctuation(word: string): string[] {
    const parts: string[] = [];
    let current = '';
    for (const ch of word) {
      if (isPunctuation(ch.codePointAt(0)!)) {
        if (current) parts.push(current);
        parts.push(ch);
        current = '';
      } else {
        current += ch;
      }
    }
    if (current) parts.push(current);
    return parts;
  }

  /** Greedy longest-match-first word pieces; a word that cannot be split is one [UNK]. */
  private pieces(word: string, out: string[]) {
    const chars = Array.from(word);
    if (chars.length > MAX_WORD_CHARS) {
      out.push(UNK);
      return;
    }
    const start = out.length;
    let begin = 0;
    while (begin < chars.length) {
      let end = chars.length;
      let piece: string | null = null;
      while (begin < end) {
        const candidate = (begin > 0 ? '##' : '') + chars.slice(begin, end).join('');
        if (this.vocabIds.has(candidate)) {
          piece = candidate;
          break;
        }
        end--;
      }
      if (piece === null) {
        out.length = start;
        out.push(UNK);
        return;
      }
      out.push(piece);
      begin = end;
    }
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    for (const word of this.words(text)) this.pieces(word, out);
    return out;
  }

  ids(text: string, maxLength = 128): number[] {
    const pieces = this.tokenize(text).slice(0, Math.max(0, maxLength - 2));
    return [this.clsId, ...pieces.map((p) => this.vocabIds.get(p) ?? this.unkId), this.sepId];
  }

  encode(texts: readonly string[], maxLength = 128): Encoded {
    if (texts.length === 0) throw new Error('encode needs at least one text');
    const rows = texts.map((t) => this.ids(t, maxLength));
    const length = Math.max(...rows.map((r) => r.length));
    const batch = rows.length;
    const inputIds = new BigInt64Array(batch * length);
    const attentionMask = new BigInt64Array(batch * length);
    rows.forEach((row, b) => {
      row.forEach((id, i) => {
        inputIds[b * length + i] = BigInt(id);
        attentionMask[b * length + i] = 1n;
      });
    });
    return { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(batch * length), batch, length };
  }
}

let cached: WordPieceTokenizer | undefined;

/** The tokenizer over the bundled all-MiniLM-L6-v2 vocabulary, built once. */
export function defaultTokenizer(): WordPieceTokenizer {
  cached ??= WordPieceTokenizer.fromFile(new URL('./assets/vocab.txt', import.meta.url));
  return cached;
}
