/**
 * The BERT WordPiece tokenizer against bert-base-uncased behaviour, with ids read from
 * the bundled vocabulary (line number − 1).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultTokenizer, WordPieceTokenizer } from '../src/ml/tokenizer.ts';

const vocab = readFileSync(new URL('../src/ml/assets/vocab.txt', import.meta.url), 'utf8').split('\n');
const id = (token: string) => {
  const i = vocab.indexOf(token);
  if (i < 0) throw new Error(`fixture token ${token} is not in the vocabulary`);
  return i;
};
const t = defaultTokenizer();

describe('WordPiece tokenizer', () => {
  it('loads the 30,522-token vocabulary once', () => {
    expect(t.vocabSize).toBe(30522);
    expect(defaultTokenizer()).toBe(t);
    expect([id('[PAD]'), id('[UNK]'), id('[CLS]'), id('[SEP]')]).toEqual([0, 100, 101, 102]);
  });

  it('lower-cases, splits punctuation and gives the exact ids', () => {
    expect(t.tokenize('The best Sushi in town.')).toEqual(['the', 'best', 'su', '##shi', 'in', 'town', '.']);
    expect(t.ids('The best sushi in town.')).toEqual([
      101,
      ...['the', 'best', 'su', '##shi', 'in', 'town', '.'].map(id),
      102,
    ]);
    expect(t.tokenize("don't")).toEqual(['don', "'", 't']);
    expect(t.tokenize('sushi-bar')).toEqual(['su', '##shi', '-', 'bar']);
    expect(t.tokenize('$12.50')).toEqual(['$', '12', '.', '50']);
  });

  it('strips accents (NFD, combining marks dropped)', () => {
    expect(t.tokenize('Café Crème')).toEqual(['cafe', 'cr', '##eme']);
    expect(t.tokenize('CAFÉ')).toEqual(t.tokenize('cafe'));
  });

  it('splits an unknown whole word into ## pieces, greedily longest first', () => {
    const pieces = t.tokenize('xylophonist');
    expect(pieces).toEqual(['x', '##yl', '##op', '##hon', '##ist']);
    for (const p of pieces) expect(id(p)).toBeGreaterThan(0);
  });

  it('maps an unsplittable word and an over-long word to [UNK]', () => {
    expect(t.ids('🍣')).toEqual([101, 100, 102]);
    expect(t.tokenize('a'.repeat(101))).toEqual(['[UNK]']);
    expect(t.tokenize('a'.repeat(100))).not.toContain('[UNK]');
  });

  it('puts each CJK ideograph on its own', () => {
    expect(t.tokenize('東京')).toEqual(['東', '京']);
  });

  it('drops control characters and U+FFFD; treats tabs, newlines and NBSP as spaces', () => {
    expect(t.tokenize('su\u0007shi\ufffd')).toEqual(['su', '##shi']);
    expect(t.tokenize('best\ttown\nbest\u00a0town')).toEqual(['best', 'town', 'best', 'town']);
  });

  it('truncates to 128 ids with [SEP] last', () => {
    const ids = t.ids('pizza '.repeat(500));
    expect(ids).toHaveLength(128);
    expect(ids[0]).toBe(101);
    expect(ids.at(-1)).toBe(102);
    expect(t.ids('', 128)).toEqual([101, 102]);
  });

  it('pads a batch to its longest row with masks and type ids', () => {
    const e = t.encode(['pizza', 'the best pizza in town']);
    expect(e.batch).toBe(2);
    expect(e.length).toBe(7);
    expect(e.inputIds).toBeInstanceOf(BigInt64Array);
    expect(Array.from(e.inputIds.slice(0, 7), Number)).toEqual([101, id('pizza'), 102, 0, 0, 0, 0]);
    expect(Array.from(e.attentionMask.slice(0, 7), Number)).toEqual([1, 1, 1, 0, 0, 0, 0]);
    expect(Array.from(e.attentionMask.slice(7), Number)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(e.tokenTypeIds).every((x) => x === 0n)).toBe(true);
    expect(() => t.encode([])).toThrow();
  });

  it('refuses a vocabulary without the special tokens', () => {
    expect(() => new WordPieceTokenizer(['a', 'b'])).toThrow(/\[UNK\]/);
  });
});
