import type { Context } from '../../context.ts';
import type { UserRow } from '../../db/queries/users.ts';
import { builder } from '../builder.ts';
import { projectedColumns } from '../projection.ts';
import { LoginRules, RegisterRules } from '../validation.ts';
import { User } from './user.ts';

type AuthPayloadShape = { token: string; userId: string };

export const AuthPayload = builder.objectRef<AuthPayloadShape>('AuthPayload').implement({
  description: 'A signed-in session: send `token` as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'HS256 JWT; expires after JWT_TTL.' }),
    user: t.field({
      type: User,
      resolve: async (p, _args, ctx, info) => {
        const user = await ctx.loaders.usersById.load(p.userId, projectedColumns<UserRow>(info, 'User'));
        if (!user) throw new Error(`user ${p.userId} vanished after signing in`);
        return user;
      },
    }),
  }),
});

const RegisterInput = builder.inputType('RegisterInput', {
  fields: (t) => ({
    email: t.string({ required: true, description: 'Stored trimmed and lower-cased; unique.' }),
    name: t.string({ required: true, description: '1–255 characters.' }),
    password: t.string({ required: true, description: '8–256 characters.' }),
  }),
});

const LoginInput = builder.inputType('LoginInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

/** The rest of this response may show the signed-in user's own data (`user { orders }`). */
async function signedIn(ctx: Context, userId: string): Promise<AuthPayloadShape> {
  ctx.owners.add(userId);
  return { token: await ctx.tokens.sign(userId), userId };
}

builder.mutationFields((t) => ({
  register: t.field({
    type: AuthPayload,
    description:
      'Creates an account and signs it in. Registrations are limited per client address and in total ' +
      '(REGISTER_ADDRESS_LIMIT, REGISTER_GLOBAL_LIMIT): past a limit, RATE_LIMITED with retryAfter.',
    args: { input: t.arg({ type: RegisterInput, required: true }).validate(RegisterRules) },
    resolve: async (_root, { input }, ctx) =>
      signedIn(ctx, await ctx.services.accounts.register(input, ctx.clientAddress())),
  }),
  login: t.field({
    type: AuthPayload,
    description:
      'Signs in. Unknown email and wrong password fail alike (UNAUTHENTICATED); ' +
      '10 attempts per email or client address in 15 minutes block further ones (RATE_LIMITED; a success ' +
      'gives its attempt back). Too many sign-ins at once: OVERLOADED with retryAfter.',
    args: { input: t.arg({ type: LoginInput, required: true }).validate(LoginRules) },
    resolve: async (_root, { input }, ctx) =>
      signedIn(ctx, await ctx.services.accounts.login(input, ctx.clientAddress())),
  }),
}));
