/**
 * A private PostgreSQL cluster for one test file: `initdb` in a temporary directory, a
 * server of its own on a free port (TCP on 127.0.0.1, its socket in that directory), and
 * `pg_ctl` to stop, start and restart it under the test's control. The gateway's real
 * outages (a restart, a crash, an unreachable server) cannot be played on the shared test
 * server, which the other files use at the same time.
 *
 * PostgreSQL refuses to run as root: as root, the binaries run as the `postgres` system
 * user (`runuser`), which owns the directory. A cluster is stopped (`-m immediate`) and its
 * directory removed when the test process exits without `destroy()`, so a crashed test
 * leaves no server behind.
 */
import { type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.ts';

export type PrivateCluster = {
  /** `postgres://postgres@127.0.0.1:<port>/tastematch` (trust authentication) */
  url: string;
  port: number;
  /** `pg_ctl stop -m fast`: sessions are terminated, a checkpoint is written; resolves once the server is gone. */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl restart -m fast`; resolves once the new server accepts connections. */
  restart(): Promise<void>;
  /** Runs one statement on a short connection of its own (not counted anywhere, never pooled). */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  /** The server's log so far (for failure messages). */
  log(): string;
  /** Stops the server (if running) and removes its directory. */
  destroy(): Promise<void>;
};

const DATABASE = 'tastematch';
const asRoot = process.getuid?.() === 0;

/** The directory of initdb and pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
function postgresBinDir(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  const configured = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const fromConfig = configured.status === 0 ? configured.stdout.trim() : '';
  if (fromConfig && has(fromConfig)) return fromConfig;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(base, v, 'bin')).find(has);
}

/**
 * Whether a private cluster can be started here (initdb and pg_ctl, plus runuser as root).
 * Absent: false with a printed reason, except under CI=true where absence fails the run
 * (.ci/run installs PostgreSQL), the same rule as requireProgram.
 */
export function privateClusterAvailable(): boolean {
  let missing: string | undefined;
  if (!postgresBinDir()) missing = 'initdb/pg_ctl (PostgreSQL server binaries)';
  else if (asRoot && spawnSync('sh', ['-c', 'command -v runuser'], { encoding: 'utf8' }).status !== 0) {
    missing = 'runuser (PostgreSQL cannot run as root)';
  }
  if (!missing) return true;
  if (process.env.CI === 'true') throw new Error(`${missing} is required under CI=true but is not installed`);
  console.warn(`[skip] ${missing} is not installed: the private-cluster tests are skipped`);
  return false;
}

/** The command line for a PostgreSQL binary, as the `postgres` user when we are root. */
function command(bin: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/**
 * Runs a binary to its end. Resolves on `exit`, not `close`: the postmaster that
 * `pg_ctl start` leaves behind must not hold the promise through an inherited pipe.
 */
function run(bin: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<void> {
  const [file, argv] = command(bin, args);
  const options: SpawnOptions = { cwd, stdio: ['ignore', 'pipe', 'pipe'] };
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, options);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${[bin, ...args].join(' ')} failed (${signal ?? code}):\n${out}`));
    });
  });
}

/** Live clusters' stop-now actions, for the process 'exit' hook (synchronous by necessity). */
const live = new Map<string, () => void>();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const stopNow of live.values()) stopNow();
  });
}

/** initdb, start, and a `tastematch` database: a new, empty cluster of the test's own. */
export async function startPrivateCluster(
  /** `-c` settings on the server's command line (they override postgresql.auto.conf, i.e. ALTER SYSTEM) */
  commandLineSettings: Record<string, string> = { max_connections: '30' },
): Promise<PrivateCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('initdb/pg_ctl not found (pg_config --bindir, /usr/lib/postgresql/*/bin)');
  const initdb = join(bin, 'initdb');
  const pgCtl = join(bin, 'pg_ctl');
  const dir = await mkdtemp(join(tmpdir(), 'tm-pgc-'));
  if (asRoot) {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0) throw new Error('running as root, but there is no postgres system user to run PostgreSQL');
    chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = join(dir, 'data');
  const logFile = join(dir, 'log');
  const port = await freePort();
  const settings = Object.entries(commandLineSettings)
    .map(([k, v]) => ` -c ${k}=${v}`)
    .join('');
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off${settings}`;
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stopNow = () => {
    // Synchronous: runs inside process 'exit'. Immediate mode: no checkpoint, the directory goes anyway.
    if (existsSync(join(data, 'postmaster.pid'))) {
      const [file, argv] = command(pgCtl, ['-D', data, 'stop', '-m', 'immediate', '-w', '-t', '10']);
      spawnSync(file, argv, { cwd: dir, stdio: 'ignore' });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  installExitHook();
  live.set(dir, stopNow);

  const ctl = (...args: string[]) => run(pgCtl, ['-D', data, ...args], dir);
  const start = () => ctl('-o', options, '-l', logFile, '-w', '-t', '60', 'start');
  const stop = () => ctl('stop', '-m', 'fast', '-w', '-t', '60');
  const restart = () => ctl('-o', options, '-l', logFile, 'restart', '-m', 'fast', '-w', '-t', '60');

  const url = `postgres://postgres@127.0.0.1:${port}/${DATABASE}`;
  const sqlOn = async <R extends pg.QueryResultRow>(connectionString: string, text: string, values?: unknown[]) => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
    // A server going away under an idle client emits 'error'; the query's rejection says it.
    client.on('error', () => {});
    try {
      await client.connect();
      return (await client.query<R>(text, values as unknown[])).rows;
    } finally {
      await client.end().catch(() => {});
    }
  };

  try {
    await run(initdb, ['-D', data, '-A', 'trust', '-U', 'postgres', '--encoding=UTF8', '--locale=C'], dir);
    await start();
    await sqlOn(`postgres://postgres@127.0.0.1:${port}/postgres`, `CREATE DATABASE ${DATABASE}`);
  } catch (error) {
    stopNow();
    live.delete(dir);
    throw new Error(`the private cluster did not start: ${(error as Error).message}\n${readLog()}`);
  }

  return {
    url,
    port,
    stop,
    start,
    restart,
    sql: (text, values) => sqlOn(url, text, values),
    log: readLog,
    async destroy() {
      if (!live.has(dir)) return;
      if (existsSync(join(data, 'postmaster.pid'))) await stop().catch(() => {});
      stopNow(); // anything left (a failed fast stop): immediate, then the directory
      live.delete(dir);
    },
  };
}
