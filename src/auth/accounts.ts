/**
 * Registration and login. Passwords are hashed here and never leave this module: not
 * in a response, a log line or an error.
 */
import type { Db } from '../db/pool.ts';
import { insertUser, selectCredentialsByEmail, updatePasswordHash } from '../db/queries/users.ts';
import { badUserInput, rateLimited, unauthenticated } from '../schema/errors.ts';
import { hashPassword, verifyDummy, verifyPassword } from './passwords.ts';
import type { LoginThrottle } from './throttle.ts';

/** One message for an unknown email and a wrong password: a login must not reveal which emails exist. */
export const LOGIN_FAILED = 'Invalid email or password';

/**
 * @returns the new user's id.
 * @throws BAD_USER_INPUT when the email is taken (decided by the unique index).
 */
export async function register(db: Db, input: { email: string; name: string; password: string }): Promise<string> {
  const passwordHash = await hashPassword(input.password);
  const row = await insertUser(db, { email: input.email, name: input.name, passwordHash });
  if (!row) throw badUserInput('email: is already registered', { field: 'email' });
  return row.id;
}

type LoginDeps = { db: Db; throttle: LoginThrottle; clientAddress: string };

/**
 * Checks a password. Failures count against the email and the client address; past
 * the limit every attempt is refused (RATE_LIMITED) until the window ends, even with
 * the right password. A success clears the email's failures and upgrades a legacy hash.
 * @returns the user's id.
 * @throws UNAUTHENTICATED (one message for every failure) or RATE_LIMITED.
 */
export async function login(deps: LoginDeps, input: { email: string; password: string }): Promise<string> {
  const keys = [`email:${input.email}`, `ip:${deps.clientAddress}`];
  const wait = await deps.throttle.blockedFor(keys);
  if (wait > 0) throw rateLimited(wait);
  const account = await selectCredentialsByEmail(deps.db, input.email);
  if (!account) {
    await verifyDummy(input.password);
    await deps.throttle.fail(keys);
    throw unauthenticated(LOGIN_FAILED);
  }
  const { ok, needsRehash } = await verifyPassword(account.password_hash, input.password);
  if (!ok) {
    await deps.throttle.fail(keys);
    throw unauthenticated(LOGIN_FAILED);
  }
  await deps.throttle.reset(keys[0]!);
  if (needsRehash) {
    await updatePasswordHash(deps.db, account.id, account.password_hash, await hashPassword(input.password));
  }
  return account.id;
}
