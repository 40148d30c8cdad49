/**
 * PGlite with pgvector (and pg_trgm) behind a PostgreSQL wire-protocol socket, in a child
 * process (./pglite-child.ts): the pgvector code paths can be tested where the machine's
 * PostgreSQL has no pgvector.
 *
 *   const pglite = await startPglite();
 *   await migrate(pglite.url);           // any pg / slonik client can connect to pglite.url
 *   …
 *   await pglite.stop();
 *
 * One database (`postgres`), user `postgres`, no password, no TLS. Every client
 * connection shares PGlite's single session (see pglite-child.ts): tests on one server
 * should not depend on session state, and a file should start its own server.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Pool options for a gateway pool on PGlite: its connections share one session, so named
 * statements prepared on one "connection" collide on the next (DB_PREPARED_STATEMENTS=0, as
 * behind PgBouncer before 1.21).
 */
export const PGLITE_POOL_OPTIONS = { preparedStatements: 0 } as const;

export type Pglite = {
  /** `postgres://postgres@127.0.0.1:<port>/postgres?sslmode=disable` */
  url: string;
  port: number;
  /** the child's pid */
  pid: number;
  /** milliseconds from spawning the child to `READY` */
  startupMs: number;
  /** what the child printed (stdout and stderr), for diagnostics */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. Idempotent. */
  stop(): Promise<void>;
};

export type PgliteOptions = {
  /** fixed port (default: one the OS chooses) */
  port?: number;
  /** keep the database in this directory (default: in memory) */
  dataDir?: string;
  /** concurrent client connections the socket server accepts (default 16; the gateway's pool is 4) */
  maxConnections?: number;
  /** how long to wait for `READY` (default 60 s) */
  timeoutMs?: number;
  /** diagnosis only: the socket server without the exchange guard of pglite-child.ts */
  unguarded?: boolean;
};

const CHILD = fileURLToPath(new URL('./pglite-child.ts', import.meta.url));
/** the project root: `--import tsx` resolves from the child's working directory */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;

/**
 * Starts PGlite in a child process and resolves once it accepts connections.
 * @throws Error with the child's output when it exits or does not print `READY` within `timeoutMs`.
 */
export async function startPglite(options: PgliteOptions = {}): Promise<Pglite> {
  const args = ['--import', 'tsx', CHILD, '--port', String(options.port ?? 0)];
  args.push('--max-connections', String(options.maxConnections ?? 16));
  if (options.dataDir) args.push('--data-dir', options.dataDir);
  if (options.unguarded) args.push('--unguarded');
  const started = performance.now();
  // stdin stays an open pipe: the child exits when it closes, i.e. when this process ends.
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });

  let out = '';
  const record = (chunk: Buffer) => {
    out += chunk.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stderr?.on('data', record);
  // Keep draining stdout after READY as well, so the child never blocks on a full pipe.
  child.stdout?.on('data', record);
  child.stdin?.on('error', () => {}); // EPIPE when the child is already gone
  child.on('error', (error) => record(Buffer.from(`[startPglite] child process error: ${error.message}\n`)));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  const kill = async () => {
    // No pid: the spawn itself failed and there is no process (nor an 'exit' event) to wait for.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    child.stdin?.destroy();
  };

  const timeoutMs = options.timeoutMs ?? 60_000;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const fail = (why: string) => reject(new Error(`PGlite ${why}. Its output:\n${out || '(none)'}`));
      const timer = setTimeout(() => fail(`did not print READY within ${timeoutMs} ms`), timeoutMs);
      const onData = () => {
        const m = /^READY (\d+)$/m.exec(out);
        if (!m) return;
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(Number(m[1]));
      };
      child.stdout?.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        fail(`could not be spawned (${error.message})`);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(`exited before it was ready (code ${code}, signal ${signal})`);
      });
    });
  } catch (error) {
    await kill();
    throw error;
  }
  const startupMs = performance.now() - started;

  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`,
    port,
    pid: child.pid ?? -1,
    startupMs,
    output: () => out,
    stop: () => {
      stopping ??= kill();
      return stopping;
    },
  };
}
