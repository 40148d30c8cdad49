/**
 * The second wall behind the owner-filtered SQL: every field of a type that declares `ownedBy`
 * (Order, User, TasteProfile) resolves only for a row whose owner is in the context's `owners`,
 * and is otherwise the same NOT_FOUND as a missing row. Called on the built schema's resolvers
 * with rows the loaders would never hand out (another user's), which no HTTP request can reach.
 */
import type { GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';

const rows = {
  Order: { id: '7', user_id: '2', restaurant_id: '3', total_amount: 12.5, order_date: new Date(0) },
  User: { id: '2', email: 'b@example.com', name: 'B' },
  TasteProfile: { user_id: '2', total_orders: 0, top_cuisines: [], chosen_cuisines: ['thai'] },
} as const;

const ctxOf = (owners: string[]) => ({ owners: new Set(owners), viewer: { id: owners[0] } });

describe.each(Object.keys(rows) as (keyof typeof rows)[])('%s (ownedBy)', (typeName) => {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const fields = Object.values(type.getFields()).filter((f) => f.resolve);

  it('has resolvers on every field, each guarded', () => {
    expect(fields.length).toBeGreaterThan(0);
    expect(fields.length).toBe(Object.keys(type.getFields()).length);
  });

  it.each(Object.keys(type.getFields()))("%s of another user's row is NOT_FOUND, before anything is read", (name) => {
    const field = type.getFields()[name]!;
    const info = { parentType: type, fieldName: name } as unknown as GraphQLResolveInfo;
    let error: unknown;
    try {
      field.resolve!(rows[typeName], {}, ctxOf(['1']), info);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ message: `${typeName} not found`, extensions: { code: 'NOT_FOUND' } });
  });

  it("the owner's own row resolves (control)", async () => {
    const field = type.getFields()[typeName === 'TasteProfile' ? 'totalOrders' : 'id']!;
    const info = { parentType: type, fieldName: field.name } as unknown as GraphQLResolveInfo;
    const value = await field.resolve!(rows[typeName], {}, ctxOf(['2']), info);
    expect(value).toBe(
      typeName === 'TasteProfile' ? 0 : Buffer.from(`${typeName}:${rows[typeName].id}`).toString('base64'),
    );
  });
});
