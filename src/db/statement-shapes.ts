/**
 * Statements whose text depends only on a few choices (the columns asked for, the ordering,
 * which filters are set) while their values change with every call: built once per shape with
 * slonik's tag, then reused with the call's values. The tag builds a statement from scratch on
 * every call (fragment tokens, identifiers, the joined column list, the text); under benchmark
 * Q2 that was 4.8 % of the gateway's CPU per request (profile self time of @slonik/sql-tag), and
 * a reused text also keeps its hash for the prepared-statement lookup in src/db/pool.ts.
 *
 * A shape is built with a marker in place of each value; the built statement must hold those
 * markers and nothing else as its values (checked when the shape is built), so reusing it with
 * other values binds exactly what building it with them would have. At most `maxShapes` shapes
 * are kept (the first ones); past that a statement is still built with markers and filled in,
 * only not kept.
 */
import type { QuerySqlToken } from './sql.ts';

/** Stands for the `i`th value while a shape is built; never a value a caller could pass. */
const marker = (i: number) => `\u0000tm-value-${i}\u0000`;

export function statementShapes<S, T extends QuerySqlToken>(
  maxShapes: number,
  build: (shape: S, values: readonly string[]) => T,
) {
  const shapes = new Map<string, { token: T; positions: readonly number[] }>();
  return (key: string, shape: S, values: readonly unknown[]): T => {
    let entry = shapes.get(key);
    if (!entry) {
      const markers = values.map((_, i) => marker(i));
      const token = build(shape, markers);
      const positions = token.values.map((v) => markers.indexOf(v as string));
      if (positions.includes(-1)) throw new Error(`statement shape ${key}: a value is not one of its markers`);
      entry = { token, positions };
      if (shapes.size < maxShapes) shapes.set(key, entry);
    }
    const { token, positions } = entry;
    return { ...token, values: positions.map((p) => values[p]) as T['values'] };
  };
}
