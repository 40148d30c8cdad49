/**
 * Password hashing: argon2id (OWASP's minimum: 19 MiB, 2 passes, 1 lane) through
 * @node-rs/argon2, which runs on libuv's thread pool (4 threads by default, shared with
 * DNS and file system calls). Requests hash through a `PasswordHasher`: a gate of a few
 * slots with a bounded, timed wait, so a flood of logins queues briefly and is then
 * refused (OVERLOADED) instead of taking every CPU and thread from the other requests.
 *
 * Older formats still verify, and report `needsRehash` so a successful login upgrades
 * the row: bcrypt (`$2a$`/`$2b$`/`$2y$`, the original Python backend's passlib hashes)
 * and `scrypt$N=…,r=…,p=…$salt$hash` (demo data seeded before argon2id).
 */
import { scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';
import { Gate, GateFullError, GateTimeoutError } from '../backpressure/gate.ts';
import { overloaded } from '../errors.ts';
import { passwordWork } from '../observability/metrics.ts';

export const ARGON2_OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
const ARGON2_PREFIX = `$argon2id$v=19$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}$`;

/** @param salt fixed salt for reproducible seed data only; omitted, a random 16-byte salt. */
export function hashPassword(password: string, salt?: Uint8Array): Promise<string> {
  return hash(password, salt ? { ...ARGON2_OPTIONS, salt } : ARGON2_OPTIONS);
}

export type Verification = { ok: boolean; needsRehash: boolean };

const deriveScrypt = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

async function verifyScrypt(stored: string, password: string): Promise<boolean> {
  const m = /^scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Refuse absurd parameters from the database rather than burn memory on them.
  if (N > 2 ** 20 || r > 32 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  const actual = await deriveScrypt(password, Buffer.from(m[4]!, 'base64'), expected.length, {
    N,
    r,
    p,
    maxmem: 256 * N * r + 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Verifies `password` against a stored hash of any supported format; an unknown format never verifies. */
export async function verifyPassword(stored: string, password: string): Promise<Verification> {
  if (stored.startsWith('$argon2')) {
    const ok = await verify(stored, password).catch(() => false);
    return { ok, needsRehash: ok && !stored.startsWith(ARGON2_PREFIX) };
  }
  if (/^\$2[aby]\$\d\d\$/.test(stored)) {
    const ok = await bcrypt.compare(password, stored).catch(() => false);
    return { ok, needsRehash: ok };
  }
  if (stored.startsWith('scrypt$')) {
    const ok = await verifyScrypt(stored, password).catch(() => false);
    return { ok, needsRehash: ok };
  }
  return { ok: false, needsRehash: false };
}

let dummy: Promise<string> | undefined;

/**
 * Spends the same work as a real verification, for an email with no account: the
 * response time must not tell whether an email is registered.
 */
export async function verifyDummy(password: string): Promise<void> {
  dummy ??= hashPassword('tastematch-dummy-password');
  await verify(await dummy, password).catch(() => false);
}

export type HashingOptions = {
  /** hashes/verifications at once (PASSWORD_HASH_CONCURRENCY) */
  concurrency: number;
  /** callers waiting for a slot (PASSWORD_HASH_QUEUE) */
  maxWaiting: number;
  /** longest wait for a slot (PASSWORD_HASH_TIMEOUT_MS) */
  timeoutMs: number;
};

/** The request path's hashing: every hash and verification holds one slot of a small gate. */
export class PasswordHasher {
  private readonly gate: Gate;

  constructor(readonly options: HashingOptions) {
    this.gate = new Gate(options.concurrency, options.timeoutMs, options.maxWaiting, 'password hashing');
  }

  get state() {
    return this.gate.state;
  }

  /**
   * Every slot busy and the wait queue full: a new hash would be refused. Checked before
   * the work that leads to a hash (a database read), so refusals cost next to nothing.
   * @throws OVERLOADED
   */
  refuseWhenFull(op: 'hash' | 'verify'): void {
    const { active, waiting, size } = this.gate.state;
    if (active >= size && waiting >= this.options.maxWaiting) {
      passwordWork.inc({ op, outcome: 'refused' });
      throw overloaded('Too many sign-ins at once; try again shortly', 1);
    }
  }

  /** @throws OVERLOADED (with retryAfter) when no slot frees up in time */
  private async run<T>(op: 'hash' | 'verify', fn: () => Promise<T>): Promise<T> {
    try {
      await this.gate.acquire();
    } catch (error) {
      if (error instanceof GateFullError || error instanceof GateTimeoutError) {
        passwordWork.inc({ op, outcome: 'refused' });
        throw overloaded('Too many sign-ins at once; try again shortly', 1);
      }
      throw error;
    }
    try {
      return await fn();
    } finally {
      this.gate.release();
      passwordWork.inc({ op, outcome: 'done' });
    }
  }

  hash(password: string): Promise<string> {
    return this.run('hash', () => hashPassword(password));
  }

  verify(stored: string, password: string): Promise<Verification> {
    return this.run('verify', () => verifyPassword(stored, password));
  }

  verifyDummy(password: string): Promise<void> {
    return this.run('verify', () => verifyDummy(password));
  }
}
