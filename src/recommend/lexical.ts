/**
 * How a search text becomes a lexical query (src/db/queries/restaurants.ts runs it): its words,
 * misspelt cuisine words corrected against the catalogue's cuisines (one edit: a letter missing,
 * extra or wrong — works on any PostgreSQL; pg_trgm, where installed, adds trigram similarity for
 * every other word), and whether it is to be taken literally.
 */
import type { LexicalQuery } from '../db/queries/restaurants.ts';

/** Words kept from one text: a bound on the tsquery and on the trigram look-ups. */
const MAX_WORDS = 16;
/** Trigram corrections only for words this long (search_words holds words of 4+ letters). */
const MIN_TRIGRAM_WORD = 4;
/** Corrections only to vocabulary words this long, from query words one shorter at least ("thi" → "thai"). */
const MIN_CORRECTED_WORD = 4;

/** Letters and digits: everything else separates words (and cannot reach to_tsquery as an operator). */
const WORD = /[\p{L}\p{N}]+/gu;
/** `%`, `_` and `\`: someone typing them means them ("50%"), so the text is matched literally only. */
const LITERAL = /[%_\\]/;

export function words(text: string): string[] {
  return [...new Set(text.toLowerCase().match(WORD) ?? [])].slice(0, MAX_WORDS);
}

/** Levenshtein distance ≤ 1 (one insertion, deletion or substitution), in linear time. */
function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  const [s, l] = a.length <= b.length ? [a, b] : [b, a];
  let i = 0;
  while (i < s.length && s[i] === l[i]) i++;
  if (s.length === l.length) return s.slice(i + 1) === l.slice(i + 1);
  return s.slice(i) === l.slice(i + 1);
}

/** The vocabulary misspellings are corrected to: the words of the cuisine names, lower case. */
export function cuisineVocabulary(cuisines: readonly string[]): string[] {
  return [...new Set(cuisines.flatMap((c) => words(c)))].filter((w) => w.length >= MIN_CORRECTED_WORD).sort();
}

/** A word one edit away from exactly one vocabulary word, that word (first alphabetically on a tie); else null. */
function correction(word: string, vocabulary: readonly string[]): string | null {
  if (word.length < MIN_CORRECTED_WORD - 1 || vocabulary.includes(word)) return null;
  return vocabulary.find((v) => withinOneEdit(word, v)) ?? null;
}

/**
 * The lexical query for `text` (already trimmed and checked by textArgument).
 * @param trigram whether pg_trgm is installed (its functions exist only then)
 */
export function lexicalQuery(text: string, vocabulary: readonly string[], trigram: boolean): LexicalQuery {
  const ws = words(text);
  const literal = LITERAL.test(text) || ws.length === 0;
  const corrected = ws.map((w) => correction(w, vocabulary) ?? w);
  const fixes = corrected.filter((w, i) => w !== ws[i]);
  return {
    text,
    queries: literal ? [] : fixes.length ? [text, corrected.join(' ')] : [text],
    terms: literal ? [] : [...new Set([...ws, ...fixes])],
    trigramWords: trigram && !literal ? ws.filter((w) => w.length >= MIN_TRIGRAM_WORD) : null,
  };
}
