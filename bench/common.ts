/**
 * What the benchmarks (bench/run.ts, bench/ml.ts, bench/flood.ts, bench/profile.ts) share: the admin
 * connection and scratch databases, child-process tracking with cleanup on SIGINT/SIGTERM/SIGHUP and at exit,
 * /proc readings (memory, CPU time), the production gateway (`npm run build`, `node dist/migrate.js`,
 * `node dist/server.js` as fly.toml runs it) and the peers (tsconfig.bench.json → dist-bench/: the naive set,
 * PostGraphile, the SQL floor).
 *
 * Cleanup: every child started here (or passed to `trackChild`) is killed, and every registered cleanup
 * (scratch databases, wire counters) runs, when `cleanup()` is called, on a signal (then the process exits
 * with 130), and children are SIGKILLed at the latest when the process exits. The peers also stop by
 * themselves when their stdin closes; the production gateway does not read stdin (as in production), so a
 * bench killed with SIGKILL can leave it running: then `kill` its pid (it prints none; `ps` shows
 * `node dist/server.js`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import pg from 'pg';

/** The PostgreSQL admin URL scratch databases are created with. */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const say = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

// ---------------------------------------------------------------------------------------------
// Cleanup

const children = new Set<ChildProcess>();
const cleanups = new Set<() => Promise<void>>();
let interrupted = false;
let cleaning: Promise<void> | undefined;
const scratchNames = new Set<string>();

/** Whether a signal interrupted the run (its errors are then expected, not worth a stack trace). */
export const wasInterrupted = () => interrupted;

/** Registers work for `cleanup()` (run newest first). @returns a function that unregisters it */
export function onCleanup(fn: () => Promise<void>): () => void {
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** Tracks a child: killed by `cleanup()`, on a signal and at exit. */
export function trackChild(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** Kills every tracked child and runs every registered cleanup (once; later calls share the first). */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) c.kill('SIGKILL');
    children.clear();
    for (const fn of [...cleanups].reverse()) await fn().catch(() => {});
    cleanups.clear();
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    const dbs = scratchNames.size ? `, dropping ${[...scratchNames].join(', ')}` : '';
    process.stderr.write(`\n${signal}: stopping servers${dbs}\n`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Last resort (e.g. process.exit elsewhere): children also exit by themselves when their stdin closes.
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

// ---------------------------------------------------------------------------------------------
// Databases

/** Runs one statement on the admin database. */
export async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export type ScratchDatabase = { name: string; url: string; drop(): Promise<void> };

/**
 * Creates `<prefix>_<ms>` (empty, not migrated). It is dropped by `drop()`, by `cleanup()` and on a signal,
 * whichever comes first; a failed drop is reported on stderr, never thrown.
 */
export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now()}`;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropping ??= admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      .catch((e: Error) => say(`could not drop ${name}: ${e.message}`))
      .finally(() => {
        unregister();
        scratchNames.delete(name);
      }));
  // Registered before it exists (DROP … IF EXISTS), so a signal during CREATE still cleans up.
  const unregister = onCleanup(drop);
  scratchNames.add(name);
  await admin(`CREATE DATABASE ${name}`);
  return { name, url: u.toString(), drop };
}

// ---------------------------------------------------------------------------------------------
// /proc readings

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** A process's VmRSS or VmHWM (peak RSS), MB; 0 when it is gone. */
export function memoryMB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process (all its threads), ms; 0 when it is gone. */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // fields 14 (utime), 15 (stime)
  } catch {
    return 0;
  }
}

/** CPU time (ms) of every PostgreSQL backend connected to `database` (its process title names it), by pid. */
export function backendCpuMs(database: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (title.startsWith('postgres:') && title.includes(` ${database} `))
        out.set(Number(entry), processCpuMs(+entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

/** The machine's CPU time since boot, in ticks: busy (not idle or iowait) and total. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const t = line.trim().split(/\s+/).slice(1).map(Number);
  const total = t.reduce((a, b) => a + b, 0);
  return { busy: total - (t[3] ?? 0) - (t[4] ?? 0), total }; // idle, iowait
}

// ---------------------------------------------------------------------------------------------
// Statistics

/** The median (the mean of the two middle values for an even count). */
export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The value at rank ⌊p·n⌋ of the sorted values (p in 0–1). */
export const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;

// ---------------------------------------------------------------------------------------------
// The production gateway: `npm run build` output, run as fly.toml and the Dockerfile run it.

/** A free TCP port of 127.0.0.1 (the kernel's pick; closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** `npm run build` (tsc -p tsconfig.build.json + the migrations and assets) → dist/. */
export function buildProduction() {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** The runtime image's NODE_OPTIONS (heap sizes), read from the Dockerfile so the bench runs what ships. */
function dockerfileNodeOptions(): string {
  const m = /NODE_OPTIONS=("([^"]*)"|(\S+))/.exec(readFileSync('Dockerfile', 'utf8'));
  if (!m) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return m[2] ?? m[3]!;
}

/** The runtime image's flags for node before `dist/server.js` (its CMD), so the bench starts what ships. */
export function dockerfileNodeArgs(): string[] {
  const cmds = [...readFileSync('Dockerfile', 'utf8').matchAll(/^CMD (\[.*\])\s*$/gm)];
  const argv = cmds.length > 0 ? (JSON.parse(cmds.at(-1)![1]!) as string[]) : [];
  if (argv[0] !== 'node' || argv.at(-1) !== 'dist/server.js') {
    throw new Error(`the Dockerfile's CMD is not node … dist/server.js: ${JSON.stringify(argv)}`);
  }
  return argv.slice(1, -1);
}

/** The variables of this process a production gateway inherits: the system's, nothing of the app's. */
const SYSTEM_VARS = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_ALL', 'TZ'];

/**
 * The production environment: the Dockerfile's ENV and fly.toml's [env] (NODE_ENV, MEMORY_SOFT_LIMIT_MB,
 * NODE_OPTIONS' heap limit, CLIENT_IP_HEADER, PERSISTED_OPERATIONS, METRICS_PORT) with the secrets
 * (DATABASE_URL, JWT_SECRET); PORT and METRICS_PORT free ports, HOST 127.0.0.1 (the bench's traffic stays
 * local; the image's 0.0.0.0 would change nothing else). Everything else is src/config.ts's defaults:
 * LOG_LEVEL info (one JSON line per request), no Redis, no MODEL_PATH (the offline encoder), no tracing.
 */
export function productionEnv(
  dbUrl: string,
  jwtSecret: string,
  ports: { port: number; metricsPort: number },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of SYSTEM_VARS) if (process.env[k] !== undefined) env[k] = process.env[k];
  return {
    ...env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(ports.port),
    METRICS_PORT: String(ports.metricsPort),
    MEMORY_SOFT_LIMIT_MB: '700',
    NODE_OPTIONS: dockerfileNodeOptions(),
    CLIENT_IP_HEADER: 'Fly-Client-IP',
    PERSISTED_OPERATIONS: 'allow',
    DATABASE_URL: dbUrl,
    JWT_SECRET: jwtSecret,
  };
}

/** `NODE_ENV=production DATABASE_URL=… node dist/migrate.js`, as fly.toml's release_command (no JWT_SECRET). */
export function migrateProduction(dbUrl: string) {
  const env: NodeJS.ProcessEnv = {};
  for (const k of SYSTEM_VARS) if (process.env[k] !== undefined) env[k] = process.env[k];
  execFileSync(process.execPath, ['dist/migrate.js'], {
    env: { ...env, NODE_ENV: 'production', DATABASE_URL: dbUrl },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
}

/**
 * Starts `node <the Dockerfile CMD's flags> [nodeArgs] dist/server.js` (built by `buildProduction`) with `productionEnv` (plus `env`) and
 * waits until GET /ready answers 200. Its stdout (a JSON log line per request) and stderr are read and
 * dropped but for a tail kept for error messages. `loopDelay()` reads prom-client's event-loop delay from
 * /metrics on the metrics port (reset at each scrape: the delay since the previous one).
 */
export async function startProductionGateway(
  dbUrl: string,
  jwtSecret: string,
  opts: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Server> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const port = await freePort();
  let metricsPort = await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const proc = trackChild(
    spawn(process.execPath, [...dockerfileNodeArgs(), ...(opts.nodeArgs ?? []), 'dist/server.js'], {
      env: { ...productionEnv(dbUrl, jwtSecret, { port, metricsPort }), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8_000);
  };
  // Warnings and errors (pino level ≥ 40) counted by message: the tail holds only the last requests' lines.
  const notable: Record<string, number> = {};
  let partial = '';
  proc.stdout!.on('data', (d: Buffer) => {
    keep(d);
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!.slice(-100_000);
    for (const line of lines) {
      const level = /"level":(\d+)/.exec(line);
      if (!level || Number(level[1]) < 40) continue;
      const msg = /"msg":"([^"]{0,120})/.exec(line)?.[1] ?? '?';
      notable[msg] = (notable[msg] ?? 0) + 1;
    }
  });
  proc.stderr!.on('data', keep);
  const origin = `http://127.0.0.1:${port}`;
  const metricsOrigin = `http://127.0.0.1:${metricsPort}`;
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`the gateway exited (${proc.signalCode ?? proc.exitCode}) before it was ready:\n${tail}`);
      }
      const ok = await fetch(`${origin}/ready`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        throw new Error(`the gateway did not answer /ready with 200 within ${timeoutMs / 1000} s:\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  const loopDelay = async (ms = 30_000): Promise<LoopDelay> => {
    const text = await fetch(`${metricsOrigin}/metrics`, { signal: AbortSignal.timeout(ms) }).then((r) => r.text());
    const value = (name: string) => {
      const m = new RegExp(`^nodejs_eventloop_lag_${name}_seconds (\\S+)$`, 'm').exec(text);
      return m ? Math.round(Number(m[1]) * 1e5) / 100 : Number.NaN;
    };
    return { p50: value('p50'), p99: value('p99'), max: value('max') };
  };
  return {
    kind: 'gateway',
    proc,
    pid: proc.pid!,
    url: `${origin}/graphql`,
    origin,
    metricsOrigin,
    output: () => tail,
    warnings: () => ({ ...notable }),
    loopDelay,
  };
}

// ---------------------------------------------------------------------------------------------
// The naive set

/**
 * Compiles the servers and scripts (tsconfig.bench.json → dist-bench/) and copies what tsc does not: the
 * migrations, the offline encoder's vocabulary and the persisted-operation manifest, where the compiled
 * code looks for them (beside it, as under src/ and at the repository root).
 */
export function compileServers() {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], {
    stdio: 'inherit',
  });
  cpSync('src/db/migrations', 'dist-bench/src/db/migrations', { recursive: true });
  cpSync('src/ml/assets', 'dist-bench/src/ml/assets', { recursive: true });
  mkdirSync('dist-bench/clients', { recursive: true });
  for (const file of ['persisted-operations.json', 'persisted-operations.retired.json']) {
    copyFileSync(`clients/${file}`, `dist-bench/clients/${file}`);
  }
}

/** The benchmarked servers: the production gateway, and the peers of bench/naive-server.ts etc. */
export type ServerKind = 'gateway' | PeerKind;
/** The peers, each `node dist-bench/bench/<file>.js` printing `READY <port>`. */
export type PeerKind = 'naive' | 'postgraphile' | 'floor' | 'yoga' | 'envelop';
const PEER_ENTRIES: Record<PeerKind, string[]> = {
  naive: ['dist-bench/bench/naive-server.js'],
  postgraphile: ['dist-bench/bench/postgraphile-server.js'],
  floor: ['dist-bench/bench/sql-floor-server.js'],
  yoga: ['dist-bench/bench/yoga-floor-server.js'],
  envelop: ['dist-bench/bench/envelop-floor-server.js'],
};
export type Server = {
  kind: ServerKind;
  proc: ChildProcess;
  pid: number;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** the gateway's metrics listener (METRICS_PORT): /metrics and the detailed /health */
  metricsOrigin?: string;
  /** the last lines the server wrote (stdout and stderr), for error messages */
  output(): string;
  /** the gateway's log lines at warn and above so far, counted by message */
  warnings?(): Record<string, number>;
  /** the gateway's event-loop delay (ms) since the previous call, from its /metrics; rejects after `timeoutMs` */
  loopDelay?(timeoutMs?: number): Promise<LoopDelay>;
};
export type LoopDelay = { p50: number; p99: number; max: number };

/** The environment `startServer` gives a peer: the bench's own, production mode, its database; `env` wins. */
export function serverEnv(dbUrl: string, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // GRAPHILE_ENV: PostGraphile's production mode (read when its modules load, so set here, not inside it).
  return { ...process.env, NODE_ENV: 'production', GRAPHILE_ENV: 'production', BENCH_DB_URL: dbUrl, ...env };
}

/**
 * Starts a peer, `node dist-bench/bench/<file>.js` (compiled by `compileServers`), on a free port of
 * 127.0.0.1 and waits for its `READY <port>`. Its output is always drained (a full pipe would block it);
 * stderr is copied to ours unless `quiet`.
 */
export async function startServer(
  kind: PeerKind,
  dbUrl: string,
  env: NodeJS.ProcessEnv = {},
  opts: { timeoutMs?: number; quiet?: boolean } = {},
): Promise<Server> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const proc = trackChild(
    spawn(process.execPath, PEER_ENTRIES[kind], {
      env: serverEnv(dbUrl, env),
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  let tail = '';
  const keep = (d: Buffer | string) => {
    tail = (tail + d).slice(-8_000);
  };
  proc.stderr!.on('data', (d: Buffer) => {
    keep(d);
    if (!opts.quiet) process.stderr.write(d);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(
      () => reject(new Error(`${kind} server did not start within ${timeoutMs / 1000} s:\n${tail}`)),
      timeoutMs,
    );
    proc.stdout!.on('data', (d: Buffer) => {
      keep(d);
      if (ready) return;
      const m = /READY (\d+)/.exec(tail);
      if (m) {
        ready = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`${kind} server exited (${signal ?? code}) before it was ready:\n${tail}`));
    });
  }).catch((error: Error) => {
    proc.kill('SIGKILL');
    throw error;
  });
  const origin = `http://127.0.0.1:${port}`;
  return { kind, proc, pid: proc.pid!, url: `${origin}/graphql`, origin, output: () => tail };
}

/** SIGTERM, then SIGKILL if it has not exited within 5 s. */
export async function stopServer(server: Pick<Server, 'proc'>) {
  const { proc } = server;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
