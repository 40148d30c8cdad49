import { builder } from '../builder.ts';
import { CreateOrderRules } from '../validation.ts';
import { viewerId } from '../viewer.ts';
import { Order } from './order.ts';
import { Restaurant } from './restaurant.ts';

const OrderItemInput = builder.inputType('OrderItemInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: '1–200 characters.' }),
    quantity: t.int({ required: true, description: '1–99.' }),
    price: t.float({ required: true, description: 'Unit price, ≥ 0, at most 2 decimals.' }),
  }),
});

const CreateOrderInput = builder.inputType('CreateOrderInput', {
  fields: (t) => ({
    restaurantId: t.globalID({ for: Restaurant, required: true }),
    items: t.field({ type: [OrderItemInput], required: true, description: '1–50 items.' }),
    totalAmount: t.float({ description: 'Optional: the server computes the total and refuses one that differs.' }),
    rating: t.int({ description: '1–5.' }),
    orderDate: t.field({ type: 'DateTime', description: 'Default now; never in the future.' }),
    simulated: t.boolean({ description: "The order simulator's orders (see clearSimulatedOrders). Default false." }),
    idempotencyKey: t.string({
      description: 'Up to 100 printable ASCII characters. A retry with the same key returns the same order.',
    }),
  }),
});

builder.mutationFields((t) => ({
  createOrder: t.field({
    type: Order,
    authScopes: { authenticated: true },
    description: 'Places an order for the signed-in user, in one statement.',
    args: { input: t.arg({ type: CreateOrderInput, required: true }).validate(CreateOrderRules) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.orders.create({
        userId: viewerId(ctx),
        restaurantId: input.restaurantId.id,
        orderDate: input.orderDate ?? null,
        totalAmount: input.totalAmount,
        items: input.items,
        rating: input.rating ?? null,
        simulated: input.simulated ?? false,
        idempotencyKey: input.idempotencyKey ?? null,
      }),
  }),
  rateOrder: t.field({
    type: Order,
    authScopes: { authenticated: true },
    description: "Rates one of the signed-in user's orders (1–5).",
    args: {
      id: t.arg.globalID({ for: Order, required: true }),
      rating: t.arg.int({ required: true }),
    },
    resolve: (_root, args, ctx) => ctx.services.orders.rate(viewerId(ctx), args.id.id, args.rating),
  }),
  clearSimulatedOrders: t.int({
    authScopes: { authenticated: true },
    description: "Deletes the signed-in user's simulated orders; returns how many.",
    resolve: (_root, _args, ctx) => ctx.services.orders.clearSimulated(viewerId(ctx)),
  }),
}));
