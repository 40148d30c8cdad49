import type { GraphQLResolveInfo } from 'graphql';
import { z } from 'zod';
import { badUserInput } from '../errors.ts';
import { selectedFieldNames } from './projection.ts';
import { textProblem } from './validation.ts';

/**
 * Validates a `first` (a connection's page against `MAX_PAGE_SIZE`, a list's against its own
 * bound). 0 is a valid, empty page, as Relay's connection rules allow; negative is refused.
 * @throws BAD_USER_INPUT with `{ argument, value, limit }` when out of range.
 *
 * Ours, not a @pothos/plugin-validation rule: a connection's bound is MAX_PAGE_SIZE, configuration
 * that reaches the resolver through the context, while a plugin rule is a schema built once at
 * import that sees only the argument's value; one check for every `first` rather than two kinds.
 */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw badUserInput(`"first" must be between 0 and ${max} (got ${value})`, { argument: 'first', value, limit: max });
  }
  return value;
}

/**
 * Opaque keyset cursors: base64url JSON of `[kind, ...sort key values]`. The kind names
 * the ordering, so a cursor from one ordering is refused by another.
 */
export function encodeCursor(kind: string, values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

const CursorJson = z.tuple([z.string()]).rest(z.union([z.string().max(1000), z.number()]));

/**
 * @throws BAD_USER_INPUT when the cursor is not one of ours or was made for another ordering.
 */
export function decodeCursor<T extends z.ZodTypeAny>(cursor: string, kind: string, values: T): z.infer<T> {
  const invalid = () =>
    badUserInput('Invalid cursor: pass an endCursor returned by the same field and ordering', { argument: 'after' });
  if (cursor.length > 2000 || !/^[\w-]*$/.test(cursor)) throw invalid();
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = CursorJson.safeParse(json);
  if (!parsed.success || parsed.data[0] !== kind) throw invalid();
  const rest = values.safeParse(parsed.data.slice(1));
  if (!rest.success) throw invalid();
  return rest.data;
}

const MAX_BIGINT = 9223372036854775807n;

/** A positive bigint key as a decimal string, within PostgreSQL's int8 range. */
export function isIdString(s: string): boolean {
  return /^[1-9]\d{0,18}$/.test(s) && BigInt(s) <= MAX_BIGINT;
}

/** Bigint ids as decimal strings (also what Relay global ids carry). */
export const IdString = z.string().refine(isIdString);

/** Text PostgreSQL can store (see textProblem); at most `max` characters (code points, as varchar counts). */
export const PgText = (max: number) => z.string().refine((s) => !textProblem(s) && [...s].length <= max);

/** A timestamp exactly as this gateway writes it (`Date#toISOString`), so PostgreSQL accepts it. */
export const IsoTimestamp = z.string().refine((s) => {
  const d = new Date(s);
  return !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= 1 && d.toISOString() === s;
});

/**
 * A connection value from a keyset query that read `first + 1` rows (the extra row
 * only tells `hasNextPage`). `count` is what `totalCount` runs, when selected.
 */
export function connectionFromRows<R>(
  rows: readonly R[],
  first: number,
  hasPreviousPage: boolean,
  cursorOf: (row: R) => string,
  count: () => Promise<number>,
) {
  const page = rows.slice(0, first);
  // Cursors are encoded only when selected (a getter): most clients read endCursor alone.
  const edges = page.map((node) => ({
    node,
    get cursor() {
      return cursorOf(node);
    },
  }));
  const at = (row: R | undefined) => (row === undefined ? null : cursorOf(row));
  return {
    count,
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage,
      get startCursor() {
        return at(page[0]);
      },
      get endCursor() {
        return at(page.at(-1));
      },
    },
  };
}

/** True when a connection selection needs rows; `{ totalCount }` alone needs none. */
export function selectsPage(info: GraphQLResolveInfo, connectionType: string): boolean {
  const top = selectedFieldNames(info, [connectionType]);
  return top.has('edges') || top.has('pageInfo');
}
