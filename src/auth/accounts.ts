/**
 * Registration and login. Passwords are hashed here and never leave this module: not
 * in a response, a log line or an error.
 *
 * Both reserve their attempt in the throttle before any hashing (one atomic step per
 * attempt), so concurrent requests cannot pass a limit together, and both hash through
 * the bounded `PasswordHasher`.
 */
import type { Db } from '../db/pool.ts';
import { insertUser, selectCredentialsByEmail, updatePasswordHash } from '../db/queries/users.ts';
import { badUserInput, rateLimited, unauthenticated } from '../errors.ts';
import type { PasswordHasher } from './passwords.ts';
import { type Limit, LOGIN_THROTTLE, type Throttle } from './throttle.ts';

/** One message for an unknown email and a wrong password: a login must not reveal which emails exist. */
export const LOGIN_FAILED = 'Invalid email or password';

export type RegistrationLimits = {
  /** registrations per client address per `addressWindowMs` (REGISTER_ADDRESS_LIMIT) */
  addressMax: number;
  addressWindowMs: number;
  /** registrations of every client together per `globalWindowMs` (REGISTER_GLOBAL_LIMIT) */
  globalMax: number;
  globalWindowMs: number;
};

export type Accounts = {
  /**
   * @returns the new user's id.
   * @throws BAD_USER_INPUT when the email is taken (decided by the unique index), RATE_LIMITED, OVERLOADED.
   */
  register(input: { email: string; name: string; password: string }, clientAddress: string): Promise<string>;
  /**
   * Checks a password. Every attempt counts against the email and the client address;
   * past the limit every attempt is refused (RATE_LIMITED) until the window ends, even
   * with the right password. A success gives its attempt back (the email's count is
   * cleared) and upgrades a legacy hash.
   * @returns the user's id.
   * @throws UNAUTHENTICATED (one message for every failure), RATE_LIMITED or OVERLOADED.
   */
  login(input: { email: string; password: string }, clientAddress: string): Promise<string>;
  /** The same accounts over another handle (a request's: its statements count for that request). */
  withDb(db: Db): Accounts;
};

export function createAccounts(deps: {
  db: Db;
  throttle: Throttle;
  hasher: PasswordHasher;
  registration: RegistrationLimits;
}): Accounts {
  const { db, throttle, hasher, registration } = deps;
  const loginLimit = (key: string): Limit => ({
    key,
    max: LOGIN_THROTTLE.maxFailures,
    windowMs: LOGIN_THROTTLE.windowMs,
  });

  return {
    withDb: (other) => createAccounts({ ...deps, db: other }),
    async register(input, clientAddress) {
      hasher.refuseWhenFull('hash');
      const limits: Limit[] = [
        { key: `register:ip:${clientAddress}`, max: registration.addressMax, windowMs: registration.addressWindowMs },
        { key: 'register:all', max: registration.globalMax, windowMs: registration.globalWindowMs },
      ];
      const wait = await throttle.reserve(limits);
      if (wait > 0) throw rateLimited(wait, 'registrations');
      let passwordHash: string;
      try {
        passwordHash = await hasher.hash(input.password);
      } catch (error) {
        // Refused before any work (OVERLOADED): the attempt does not count.
        await throttle.release(limits.map((l) => l.key));
        throw error;
      }
      const row = await insertUser(db, { email: input.email, name: input.name, passwordHash });
      if (!row) throw badUserInput('email: is already registered', { field: 'email' });
      return row.id;
    },

    async login(input, clientAddress) {
      hasher.refuseWhenFull('verify');
      const emailKey = `login:email:${input.email}`;
      const addressKey = `login:ip:${clientAddress}`;
      const wait = await throttle.reserve([loginLimit(emailKey), loginLimit(addressKey)]);
      if (wait > 0) throw rateLimited(wait);
      let ok = false;
      let account: Awaited<ReturnType<typeof selectCredentialsByEmail>> | undefined;
      let needsRehash = false;
      try {
        account = await selectCredentialsByEmail(db, input.email);
        if (account) ({ ok, needsRehash } = await hasher.verify(account.password_hash, input.password));
        else await hasher.verifyDummy(input.password);
      } catch (error) {
        // No password was checked (database away, hashing overloaded): the attempt does not count.
        await throttle.release([emailKey, addressKey]);
        throw error;
      }
      if (!account || !ok) throw unauthenticated(LOGIN_FAILED);
      await throttle.reset(emailKey);
      await throttle.release([addressKey]);
      if (needsRehash) {
        // Best effort: with hashing busy, the upgrade waits for a later login.
        const upgraded = await hasher.hash(input.password).catch(() => null);
        if (upgraded) await updatePasswordHash(db, account.id, account.password_hash, upgraded);
      }
      return account.id;
    },
  };
}
