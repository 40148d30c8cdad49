import './scalars.ts';
import './types/restaurant.ts';
import './types/order.ts';
import './types/user.ts';
import './types/taste-profile.ts';
import './types/auth-payload.ts';
import './types/order-mutations.ts';
import './types/recommendation.ts';
import './types/restaurant-match.ts';
import { builder } from './builder.ts';

export const schema = builder.toSchema();
