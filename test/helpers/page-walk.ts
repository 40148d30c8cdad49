import { expect } from 'vitest';

export type PageInfo = {
  hasNextPage: boolean;
  hasPreviousPage?: boolean;
  startCursor?: string | null;
  endCursor: string | null;
};
export type Connection<N> = { edges: { cursor?: string; node: N }[]; pageInfo: PageInfo };

/**
 * Follows `endCursor` from the first page to the last and checks each page's Relay shape:
 * at most `first` edges; `hasPreviousPage` (when selected) true after the first page;
 * `startCursor`/`endCursor` (when selected) the first/last edge's cursor, or null on an empty
 * page; a page that says there is more is full and has a cursor. `between` runs after each
 * page that has a next one, before the next request (to change rows under the walk).
 */
export async function walkPages<C extends Connection<unknown>>(
  fetchPage: (after: string | null) => Promise<C>,
  first: number,
  opts: { between?: (page: C, index: number) => Promise<void>; maxPages?: number } = {},
): Promise<{ nodes: C['edges'][number]['node'][]; pages: C[] }> {
  const { between, maxPages = 1000 } = opts;
  const pages: C[] = [];
  let after: string | null = null;
  for (;;) {
    const page: C = await fetchPage(after);
    pages.push(page);
    const { edges, pageInfo } = page;
    expect(edges.length).toBeLessThanOrEqual(first);
    if (pageInfo.hasPreviousPage !== undefined) expect(pageInfo.hasPreviousPage).toBe(after !== null);
    if (pageInfo.startCursor !== undefined) expect(pageInfo.startCursor).toBe(edges[0]?.cursor ?? null);
    if (edges.length === 0 || edges[0]!.cursor !== undefined) {
      expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
    }
    if (!pageInfo.hasNextPage) break;
    expect(edges).toHaveLength(first);
    expect(pageInfo.endCursor).toBeTruthy();
    expect(pages.length, 'the walk does not end').toBeLessThan(maxPages);
    await between?.(page, pages.length - 1);
    after = pageInfo.endCursor;
  }
  return { nodes: pages.flatMap((p) => p.edges.map((e) => e.node)), pages };
}

/** The database id inside a Relay global id (base64 of `Type:id`). */
export function dbId(globalId: string, type: string): string {
  const decoded = Buffer.from(globalId, 'base64').toString('utf8');
  expect(decoded.startsWith(`${type}:`), decoded).toBe(true);
  return decoded.slice(type.length + 1);
}

export function expectNoDuplicates(ids: string[]) {
  const dups = ids.filter((id, i) => ids.indexOf(id) !== i);
  expect(dups, 'ids returned more than once').toEqual([]);
}
