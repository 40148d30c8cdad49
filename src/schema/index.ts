import './scalars.ts';
import './types/restaurant.ts';
import './types/order.ts';
import './types/user.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema();
