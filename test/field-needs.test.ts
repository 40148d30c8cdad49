/**
 * A field says what it needs, once: the projection's field → column maps and the cost model's
 * weights are read from the declarations on the fields (`select`, `cost`), in the built schema.
 */
import SchemaBuilder from '@pothos/core';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { operationCost } from '../src/http/cost.ts';
import FieldNeedsPlugin, { columnOf, declaredCost } from '../src/schema/field-needs.ts';
import { schema } from '../src/schema/index.ts';
import { fieldColumns } from '../src/schema/projection.ts';

describe('projection maps come from the fields', () => {
  it('Restaurant, Order and User: each field maps to the columns it declared', () => {
    expect(fieldColumns({ schema }, 'Restaurant')).toEqual({
      always: ['id'],
      byField: {
        id: [],
        name: ['name'],
        cuisineType: ['cuisine_type'],
        description: ['description'],
        rating: ['rating'],
        priceRange: ['price_range'],
        location: ['location'],
        createdAt: ['created_at'],
        similar: [],
      },
    });
    expect(fieldColumns({ schema }, 'Order')).toEqual({
      always: ['id', 'user_id'],
      byField: {
        id: [],
        orderDate: ['order_date'],
        totalAmount: ['total_amount'],
        items: ['items'],
        rating: ['rating'],
        simulated: ['is_simulation'],
        createdAt: ['created_at'],
        restaurant: ['restaurant_id'],
      },
    });
    expect(fieldColumns({ schema }, 'User')).toEqual({
      always: ['id'],
      byField: { id: [], email: ['email'], name: ['name'], createdAt: ['created_at'], orders: [], tasteProfile: [] },
    });
  });

  it('a type that is not projected has no map', () => {
    expect(() => fieldColumns({ schema }, 'Recommendation')).toThrow('Recommendation is not a projected type');
  });

  it('a field of a projected type without declared columns fails the build', () => {
    type Row = { id: string; name?: string; extra?: string };
    // Only this plugin; scopeAuth's options are required by its (global) option types, not used.
    const b = new SchemaBuilder<{ Objects: { Thing: Row } }>({
      plugins: [FieldNeedsPlugin],
      scopeAuth: { authScopes: () => ({}) },
    });
    const column = columnOf<Row>();
    b.objectType('Thing', {
      select: ['id'],
      fields: (t) => ({
        name: t.string(column('name')),
        extra: t.string({ resolve: (r) => r.extra ?? '' }),
      }),
    });
    b.queryType({ fields: (t) => ({ thing: t.field({ type: 'Thing', resolve: () => ({ id: '1' }) }) }) });
    expect(() => b.toSchema()).toThrow('Thing.extra reads projected rows but declares no columns (select)');
  });

  it('a column the projection did not read is an error, not a silent null', () => {
    const column = columnOf<{ id: string; description?: string | null }>();
    expect(() => column('description').resolve({ id: '1' })).toThrow('projection did not read description');
    expect(column('description').resolve({ id: '1', description: null })).toBeNull();
  });
});

describe('cost weights come from the fields', () => {
  const field = (type: string, name: string) => {
    const t = schema.getType(type) as unknown as { getFields(): Record<string, Parameters<typeof declaredCost>[0]> };
    return declaredCost(t.getFields()[name]!);
  };

  it('the fields that do real work declare their weight; the others weigh nothing extra', () => {
    expect(field('RestaurantConnection', 'totalCount')).toBe(10);
    expect(field('OrderConnection', 'totalCount')).toBe(10);
    expect(field('Restaurant', 'similar')).toBe(20);
    expect(field('Query', 'searchRestaurants')).toBe(100);
    expect(field('Query', 'recommendations')).toBe(100);
    expect(field('Query', 'chefChoice')).toBe(100);
    expect(field('Restaurant', 'name')).toBe(0);
  });

  it('the cost model prices a declared weight', () => {
    const price = (query: string) => {
      const doc = parse(query);
      const op = doc.definitions[0];
      if (op?.kind !== 'OperationDefinition') throw new Error('no operation');
      return operationCost(schema, op, {}, {}, 1e9, 100);
    };
    // restaurants (1) + one page × totalCount (1 + 10)
    expect(price('{ restaurants(first: 1) { totalCount } }')).toBe(12);
    // searchRestaurants (1 + 100) + 10 matches × score (1)
    expect(price('{ searchRestaurants(text: "x") { score } }')).toBe(111);
  });
});
