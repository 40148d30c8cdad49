import { type ListSqlToken, sql } from './sql.ts';

/**
 * Turns a whitelisted column list into a SQL column list. Columns come only from
 * the field → column maps in src/loaders (never from request text), and are
 * checked here again against the table's known columns before they reach SQL.
 */
export function columnList<C extends string>(
  known: readonly C[],
  columns: readonly C[],
  alias?: string,
  /** Names each column `<prefix><column>` (a joined table's columns beside the main row's). */
  prefix?: string,
): ListSqlToken {
  for (const c of columns) if (!known.includes(c)) throw new Error(`Unknown column ${c}`);
  return sql.join(
    columns.map((c) => {
      const column = sql.identifier(alias ? [alias, c] : [c]);
      return prefix === undefined ? column : sql.fragment`${column} AS ${sql.identifier([prefix + c])}`;
    }),
    sql.fragment`, `,
  );
}
