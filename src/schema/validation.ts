/**
 * Mutation input rules (zod), checked before any SQL by @pothos/plugin-validation: each
 * mutation's `input` argument declares its rules (`t.arg({ … }).validate(CreateOrderRules)`) and
 * the resolver receives the parsed value. A broken rule is BAD_USER_INPUT whose message and
 * `extensions.field` name the input field (`items[2].quantity`): `inputError`, the plugin's
 * `validationError` (src/schema/builder.ts).
 */
import { z } from 'zod';
import { PRICE_RANGES } from '../db/queries/restaurants.ts';
import { badUserInput } from '../errors.ts';

// A UTF-16 surrogate without its pair: JSON can carry one (`"\\ud800"`), UTF-8 cannot.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Why PostgreSQL or the model cannot take `s` as text, or undefined when they can: a NUL
 * (PostgreSQL refuses it), a lone surrogate (stored as U+FFFD, refused inside jsonb).
 * Every string argument that reaches SQL or the model goes through this.
 */
export function textProblem(s: string): string | undefined {
  if (s.includes('\0')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) return 'must be valid Unicode (no lone surrogates)';
  return undefined;
}

/** A string `textProblem` accepts. */
const plain = () =>
  z.string().superRefine((s, ctx) => {
    const problem = textProblem(s);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, fatal: true });
  });

/**
 * A free-text argument of a query field (search text, filters): BAD_USER_INPUT naming
 * `argument` when it is too long or not text PostgreSQL can take.
 */
export function textArgument(value: string, argument: string, max: number): string {
  if (value.length > max) throw badUserInput(`"${argument}" must be at most ${max} characters`, { argument });
  const problem = textProblem(value);
  if (problem) throw badUserInput(`"${argument}" ${problem}`, { argument });
  return value;
}

/** Text PostgreSQL can store (no NUL, no lone surrogate), trimmed, `min`–`max` characters (code points, as varchar counts). */
const text = (min: number, max: number) =>
  plain()
    .transform((s) => s.trim())
    .refine((s) => [...s].length >= min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .refine((s) => [...s].length <= max, `must be at most ${max} characters`);

export const Email = plain()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().max(255, 'must be at most 255 characters').email('must be a valid email address'));

export const RegisterRules = z.object({
  email: Email,
  name: text(1, 255),
  // Not trimmed: spaces are part of a password. The upper bound caps hashing work.
  password: plain().pipe(z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters')),
});

/** Login checks no password rules (older accounts predate them), only bounds. */
export const LoginRules = z.object({
  email: plain()
    .transform((s) => s.trim().toLowerCase())
    .pipe(z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters')),
  password: plain().pipe(z.string().min(1, 'must not be empty').max(256, 'must be at most 256 characters')),
});

const cents = (n: number) => Math.round(n * 100);
/** `numeric(10,2)`: below 100 million. */
const MAX_AMOUNT = 99_999_999.99;
/** A client clock a little ahead of ours is not an order from the future. */
export const ORDER_DATE_SKEW_MS = 60_000;
const EARLIEST_ORDER_DATE = new Date('2000-01-01T00:00:00Z');

const Money = z
  .number()
  .finite()
  .min(0, 'must not be negative')
  .max(MAX_AMOUNT, `must be at most ${MAX_AMOUNT}`)
  .refine((n) => Math.abs(n * 100 - cents(n)) < 1e-6, 'must have at most 2 decimal places');

export const CreateOrderRules = z
  .object({
    // A global id the relay plugin has already decoded (and refused when it is not a Restaurant's).
    restaurantId: z.object({ typename: z.string(), id: z.string() }),
    items: z
      .array(
        z.object({
          name: text(1, 200),
          quantity: z.number().int().min(1, 'must be at least 1').max(99, 'must be at most 99'),
          price: Money,
        }),
      )
      .min(1, 'must have at least 1 item')
      .max(50, 'must have at most 50 items'),
    totalAmount: Money.nullish(),
    rating: z.number().int().min(1, 'must be between 1 and 5').max(5, 'must be between 1 and 5').nullish(),
    orderDate: z
      .date()
      .refine((d) => d.getTime() <= Date.now() + ORDER_DATE_SKEW_MS, 'must not be in the future')
      .refine((d) => d >= EARLIEST_ORDER_DATE, 'must not be before 2000-01-01')
      .nullish(),
    simulated: z.boolean().nullish(),
    idempotencyKey: z
      .string()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
      .nullish(),
  })
  // The server computes the total; a total sent by the client must agree with it.
  .transform((o, ctx) => {
    const total = o.items.reduce((sum, i) => sum + i.quantity * cents(i.price), 0) / 100;
    if (total > MAX_AMOUNT) {
      ctx.addIssue({ code: 'custom', path: ['items'], message: `total must be at most ${MAX_AMOUNT}` });
    }
    if (o.totalAmount != null && cents(o.totalAmount) !== Math.round(total * 100)) {
      ctx.addIssue({
        code: 'custom',
        path: ['totalAmount'],
        message: `does not match the items (their total is ${total.toFixed(2)})`,
      });
    }
    return { ...o, totalAmount: total };
  });

export const TastePreferencesRules = z.object({
  cuisines: z
    .array(text(1, 100))
    .min(1, 'must name at least 1 cuisine')
    .max(5, 'must name at most 5 cuisines')
    .refine((list) => new Set(list.map((c) => c.toLowerCase())).size === list.length, 'must not repeat a cuisine'),
  priceRange: z.enum(PRICE_RANGES).nullish(),
});

function fieldPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A Standard Schema failure, as the validation plugin hands it over (its issue paths start with the argument). */
type ValidationFailure = {
  readonly issues: readonly {
    readonly message: string;
    readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
  }[];
};

/**
 * The validation plugin's `validationError`: BAD_USER_INPUT naming the first broken field, its
 * path inside the argument (`input.items[2].quantity` → `items[2].quantity`).
 */
export function inputError(failure: ValidationFailure) {
  const issue = failure.issues[0]!;
  const [argument, ...path] = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p));
  const field = fieldPath(path.map((p) => (typeof p === 'number' ? p : String(p))));
  return badUserInput(`${field || String(argument ?? 'input')}: ${issue.message}`, { field });
}
