/**
 * `npm run bench`: the gateway against a deliberately naive resolver set (bench/naive-app.ts), in one
 * run, on the machine's PostgreSQL. Not part of `npm test`. docs/BENCHMARKS.md explains the columns.
 *
 * 1. Creates a scratch database (tm_bench_<ms>; dropped at the end, also on failure and SIGINT/SIGTERM),
 *    migrates it and seeds 10,000 restaurants / 10,000 users / 200,000 orders.
 * 2. Per server, one child process behind a wire counter (test/helpers/wire-counter.ts): statements, rows and
 *    row bytes of one request per query, after a warm one.
 * 3. Per loaded query (Q1, Q2), a fresh child process per server connected straight to PostgreSQL: a warm-up,
 *    then --runs load runs of --duration seconds at 10 connections (autocannon), gateway and naive runs
 *    alternating (ABBA…) so drift on the shared machine hits both; medians of req/s, p99, CPU per request
 *    (server process and PostgreSQL backends, from /proc); peak RSS (VmHWM, and RSS sampled every 100 ms).
 * 4. Prints the tables and PASS/FAIL lines, writes bench/results/<ISO date>.json and latest.json, and
 *    replaces the part of docs/BENCHMARKS.md between `<!-- bench:start -->` and `<!-- bench:end -->`.
 *
 * The servers run as compiled JavaScript (tsconfig.bench.json → dist-bench/), as in production: tsx's loader
 * would add its own CPU and ~50 MB of RSS to each. All traffic stays on 127.0.0.1; every loop is bounded.
 *
 * Flags: --quick (1,000/1,000/20,000), --restaurants/--users/--orders N, --duration S (10), --runs N (3),
 * --warmup S (2). BENCH_DATABASE_URL: admin URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createTokenService } from '../src/auth/jwt.ts';
import { DEMO_EMAIL } from '../src/db/demo-account.ts';
import { migrate } from '../src/db/migrate.ts';
import { seedDatabase } from '../src/db/seed.ts';
import { startWireCounter } from '../test/helpers/wire-counter.ts';
import {
  backendCpuMs,
  cleanup,
  compileServers,
  createScratchDatabase,
  machineCpu,
  median,
  memoryMB,
  onCleanup,
  processCpuMs,
  type ScratchDatabase,
  type Server,
  type ServerKind,
  startServer,
  stopServer,
  wasInterrupted,
} from './common.ts';

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    restaurants: { type: 'string' },
    users: { type: 'string' },
    orders: { type: 'string' },
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
  },
});
const num = (name: string, v: string | undefined, fallback: number, min: number) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${v}`);
  return n;
};
const sizes = {
  restaurants: num('restaurants', flags.restaurants, flags.quick ? 1_000 : 10_000, 1),
  users: num('users', flags.users, flags.quick ? 1_000 : 10_000, 1),
  orders: num('orders', flags.orders, flags.quick ? 20_000 : 200_000, 50),
};
const duration = num('duration', flags.duration, 10, 1);
const runs = num('runs', flags.runs, 3, 1);
const warmup = num('warmup', flags.warmup, 2, 0);
const CONNECTIONS = 10;

/** The scratch database (tm_bench_<ms>), created by main(). */
let scratch: ScratchDatabase;
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

// ---------------------------------------------------------------------------------------------
// Queries. `levels`: the statements the gateway must send (one per level, whatever the list size);
// `edges`: the list length a correct answer has; `load`: measured under load (the others only at the wire).

type QuerySpec = {
  levels: number;
  auth: boolean;
  edges: number;
  path: readonly string[];
  load: boolean;
  query: string;
};
const restaurantsQuery = (n: number) =>
  `{ restaurants(first: ${n}) { edges { node { id name cuisineType rating } } } }`;
const ordersQuery = (n: number) =>
  `{ me { orders(first: ${n}) { edges { node { id orderDate totalAmount restaurant { name cuisineType } } } } } }`;
const QUERIES = {
  Q1: { levels: 1, auth: false, edges: 50, path: ['restaurants'], load: true, query: restaurantsQuery(50) },
  Q1_5: { levels: 1, auth: false, edges: 5, path: ['restaurants'], load: false, query: restaurantsQuery(5) },
  Q2: { levels: 3, auth: true, edges: 50, path: ['me', 'orders'], load: true, query: ordersQuery(50) },
  Q2_5: { levels: 3, auth: true, edges: 5, path: ['me', 'orders'], load: false, query: ordersQuery(5) },
} satisfies Record<string, QuerySpec>;
type QueryName = keyof typeof QUERIES;
const QUERY_NAMES = Object.keys(QUERIES) as QueryName[];
const LOADED = QUERY_NAMES.filter((n) => QUERIES[n].load);

type Kind = ServerKind;
const KINDS: readonly Kind[] = ['gateway', 'naive'];

// ---------------------------------------------------------------------------------------------
// CPU time of the server, of the scratch database's backends, of the machine, of this process.

type CpuSnapshot = {
  server: number;
  backends: Map<number, number>;
  machine: { busy: number; total: number };
  self: NodeJS.CpuUsage;
};
const snapshot = (pid: number): CpuSnapshot => ({
  server: processCpuMs(pid),
  backends: backendCpuMs(scratch.name),
  machine: machineCpu(),
  self: process.cpuUsage(),
});

// ---------------------------------------------------------------------------------------------
// Servers

const JWT_ENV = { JWT_SECRET };

function requestOptions(url: string, name: QueryName, token: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (QUERIES[name].auth) headers.authorization = `Bearer ${token}`;
  return { url, method: 'POST' as const, headers, body: JSON.stringify({ query: QUERIES[name].query }) };
}

/** One request, checked: HTTP 200, no errors, the expected number of edges. @returns the response body. */
async function checkedRequest(server: Server, name: QueryName, token: string): Promise<string> {
  const { url, ...init } = requestOptions(server.url, name, token);
  const response = await fetch(url, init);
  const text = await response.text();
  const what = `${server.kind} ${name}`;
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(`${what}: ${JSON.stringify(body.errors).slice(0, 500)}`);
  let node: unknown = body.data;
  for (const key of QUERIES[name].path) node = (node as Record<string, unknown> | null | undefined)?.[key];
  const edges = (node as { edges?: unknown[] } | null | undefined)?.edges;
  if (edges?.length !== QUERIES[name].edges) {
    throw new Error(`${what}: expected ${QUERIES[name].edges} edges, got ${edges?.length ?? 'none'}`);
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// Measurements

type WireStats = { statements: number; rows: number; rowBytes: number; sql: string[] };
type RunStats = {
  reqPerSec: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  serverCpuMsPerReq: number;
  pgCpuMsPerReq: number;
  loadGeneratorCpuMsPerReq: number;
  machineBusyPct: number;
};
type LoadStats = {
  runs: RunStats[];
  warmupFailures: number;
  reqPerSec: number;
  p99Ms: number;
  serverCpuMsPerReq: number;
  pgCpuMsPerReq: number;
  machineBusyPct: number;
  failures: number;
  failed: boolean;
  peakRssMB: number;
  sampledPeakRssMB: number;
};
type Cell = { server: Kind; query: QueryName; wire: WireStats; load?: LoadStats };

/** Statements and bytes at the wire: one child behind a wire counter, one request per query after a warm one. */
async function measureWire(kind: Kind, token: string): Promise<Map<QueryName, WireStats>> {
  const out = new Map<QueryName, WireStats>();
  const wire = await startWireCounter(scratch.url);
  const unregister = onCleanup(() => wire.close());
  let server: Server | undefined;
  try {
    server = await startServer(kind, wire.url, JWT_ENV);
    for (const name of QUERY_NAMES) {
      await checkedRequest(server, name, token); // warm: connections open, type oids read
      await wire.settle();
      wire.reset();
      await checkedRequest(server, name, token);
      await wire.settle();
      out.set(name, {
        statements: wire.statements.length,
        rows: wire.rows,
        rowBytes: wire.rowBytes,
        sql: wire.statements.map((s) => s.sql.replace(/\s+/g, ' ').trim()),
      });
    }
  } finally {
    if (server) await stopServer(server);
    await wire.close();
    unregister();
  }
  return out;
}

async function loadRun(server: Server, name: QueryName, token: string, expectBody: string, seconds: number) {
  // A pause first: the previous run's last requests (still being answered when autocannon returns) finish.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = snapshot(server.pid);
  const r = await autocannon({
    ...requestOptions(server.url, name, token),
    connections: CONNECTIONS,
    duration: seconds,
    expectBody,
  });
  const after = snapshot(server.pid);
  const requests = Math.max(1, r.requests.total);
  let pgMs = 0;
  for (const [pid, ms] of after.backends) pgMs += ms - (before.backends.get(pid) ?? 0);
  const self = process.cpuUsage(before.self);
  const stats: RunStats = {
    reqPerSec: r.requests.average,
    p99Ms: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    serverCpuMsPerReq: (after.server - before.server) / requests,
    pgCpuMsPerReq: pgMs / requests,
    loadGeneratorCpuMsPerReq: (self.user + self.system) / 1000 / requests,
    machineBusyPct: (100 * (after.machine.busy - before.machine.busy)) / (after.machine.total - before.machine.total),
  };
  return stats;
}
const failuresOf = (r: RunStats) => r.non2xx + r.errors + r.timeouts + r.mismatches;

/**
 * One query under load: a fresh child per server (so VmHWM is this scenario's), both checked and warmed,
 * then the runs alternating gateway/naive, naive/gateway, … .
 */
async function measureLoad(name: QueryName, token: string): Promise<Record<Kind, LoadStats>> {
  const servers: Server[] = [];
  const sampled = new Map<Kind, number>();
  const sampler = setInterval(() => {
    for (const s of servers) sampled.set(s.kind, Math.max(sampled.get(s.kind) ?? 0, memoryMB(s.pid, 'VmRSS')));
  }, 100);
  try {
    for (const kind of KINDS) servers.push(await startServer(kind, scratch.url, JWT_ENV));
    const bodies = new Map<Kind, string>();
    const warmupFailures = new Map<Kind, number>();
    for (const s of servers) {
      bodies.set(s.kind, await checkedRequest(s, name, token));
      if (warmup) warmupFailures.set(s.kind, failuresOf(await loadRun(s, name, token, bodies.get(s.kind)!, warmup)));
    }
    const results = new Map<Kind, RunStats[]>(KINDS.map((k) => [k, []]));
    for (let i = 0; i < runs; i++) {
      for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
        const r = await loadRun(s, name, token, bodies.get(s.kind)!, duration);
        results.get(s.kind)!.push(r);
        process.stderr.write(
          `  ${name} ${s.kind.padEnd(7)} run ${i + 1}/${runs}: ${r.reqPerSec.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ` +
            `server ${r.serverCpuMsPerReq.toFixed(2)} + PostgreSQL ${r.pgCpuMsPerReq.toFixed(2)} CPU ms/req, ` +
            `machine ${r.machineBusyPct.toFixed(0)}% busy${failuresOf(r) ? `, ${failuresOf(r)} FAILED requests` : ''}\n`,
        );
      }
    }
    const out = {} as Record<Kind, LoadStats>;
    for (const s of servers) {
      const rs = results.get(s.kind)!;
      const failures = rs.reduce((n, r) => n + failuresOf(r), 0) + (warmupFailures.get(s.kind) ?? 0);
      out[s.kind] = {
        runs: rs,
        warmupFailures: warmupFailures.get(s.kind) ?? 0,
        reqPerSec: median(rs.map((r) => r.reqPerSec)),
        p99Ms: median(rs.map((r) => r.p99Ms)),
        serverCpuMsPerReq: median(rs.map((r) => r.serverCpuMsPerReq)),
        pgCpuMsPerReq: median(rs.map((r) => r.pgCpuMsPerReq)),
        machineBusyPct: median(rs.map((r) => r.machineBusyPct)),
        failures,
        failed: failures > 0,
        peakRssMB: memoryMB(s.pid, 'VmHWM'),
        sampledPeakRssMB: Math.max(sampled.get(s.kind) ?? 0, memoryMB(s.pid, 'VmRSS')),
      };
    }
    return out;
  } finally {
    clearInterval(sampler);
    await Promise.all(servers.map(stopServer));
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 0) {
  return n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '–' : `${fmt(a / b, 1)}×`;

async function main() {
  const started = Date.now();
  process.stderr.write('compiling the servers (tsconfig.bench.json → dist-bench/)…\n');
  compileServers();

  scratch = await createScratchDatabase('tm_bench');
  const dbUrl = scratch.url;
  await migrate(dbUrl);
  process.stderr.write(
    `seeding ${scratch.name}: ${sizes.restaurants} restaurants, ${sizes.users} users, ${sizes.orders} orders…\n`,
  );
  let lastLine = '';
  await seedDatabase(dbUrl, {
    ...sizes,
    batchSize: 2_000,
    seed: 42,
    onProgress: ({ table, done, total }) => {
      const line = `  ${table} ${Math.floor((done / total) * 10) * 10}%`;
      if (line !== lastLine) process.stderr.write(`${line}\n`);
      lastLine = line;
    },
  });
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  // Settle the database before measuring: the seed's inserts would otherwise trigger autovacuum and a
  // checkpoint in the middle of the first load runs.
  process.stderr.write('VACUUM (ANALYZE), CHECKPOINT…\n');
  await c.query('VACUUM (ANALYZE)');
  await c.query('CHECKPOINT').catch((e: Error) => process.stderr.write(`  (no CHECKPOINT: ${e.message})\n`));
  const demo = (await c.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [DEMO_EMAIL])).rows[0];
  const pgVersion = (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  await c.end();
  if (!demo) throw new Error('the seed has no demo user');
  const token = await createTokenService({ secret: JWT_SECRET, ttl: '2h', production: false }).sign(String(demo.id));

  const cells: Cell[] = [];
  for (const kind of KINDS) {
    process.stderr.write(`${kind}: statements and bytes at the wire…\n`);
    for (const [query, wire] of await measureWire(kind, token)) cells.push({ server: kind, query, wire });
  }
  for (const name of LOADED) {
    process.stderr.write(
      `${name} under load: ${warmup} s warm-up, then ${runs} × ${duration} s per server at ${CONNECTIONS} connections…\n`,
    );
    const load = await measureLoad(name, token);
    for (const kind of KINDS) cells.find((c) => c.server === kind && c.query === name)!.load = load[kind];
  }
  const cell = (server: Kind, query: QueryName) => cells.find((c) => c.server === server && c.query === query)!;

  // Tables
  const table = [
    '| query | server | statements/request | row bytes/request | req/s | p99 ms | server CPU ms/request | PostgreSQL CPU ms/request | peak RSS MB | load |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const name of QUERY_NAMES) {
    for (const kind of KINDS) {
      const { wire, load } = cell(kind, name);
      const status = !load ? '' : load.failed ? `**FAILED** (${load.failures} bad responses)` : 'ok';
      table.push(
        `| ${name} | ${kind} | ${wire.statements} | ${fmt(wire.rowBytes)} | ${fmt(load?.reqPerSec)} | ${fmt(load?.p99Ms)} | ` +
          `${fmt(load?.serverCpuMsPerReq, 2)} | ${fmt(load?.pgCpuMsPerReq, 2)} | ${fmt(load?.peakRssMB)} | ${status} |`,
      );
    }
  }
  const ratios = [
    '| query | statements naive/gateway | row bytes naive/gateway | req/s gateway/naive | p99 naive/gateway | server CPU/request naive/gateway | PostgreSQL CPU/request naive/gateway |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of QUERY_NAMES) {
    const g = cell('gateway', name);
    const n = cell('naive', name);
    ratios.push(
      `| ${name} | ${ratio(n.wire.statements, g.wire.statements)} | ${ratio(n.wire.rowBytes, g.wire.rowBytes)} | ` +
        `${ratio(g.load?.reqPerSec, n.load?.reqPerSec)} | ${ratio(n.load?.p99Ms, g.load?.p99Ms)} | ` +
        `${ratio(n.load?.serverCpuMsPerReq, g.load?.serverCpuMsPerReq)} | ${ratio(n.load?.pgCpuMsPerReq, g.load?.pgCpuMsPerReq)} |`,
    );
  }
  const perRestaurant = (k: Kind) => cell(k, 'Q1').wire.rowBytes / cell(k, 'Q1').wire.rows;
  const bytesPerRestaurant = { gateway: perRestaurant('gateway'), naive: perRestaurant('naive') };

  // Checks
  const checks: { name: string; pass: boolean }[] = [];
  for (const name of QUERY_NAMES) {
    const got = cell('gateway', name).wire.statements;
    const { levels, edges } = QUERIES[name];
    checks.push({
      name: `${name} (${edges} edges): gateway statements/request = ${levels} level${levels > 1 ? 's' : ''} (got ${got})`,
      pass: got === levels,
    });
  }
  checks.push({
    name: `Q1: gateway row bytes per restaurant < 100 (got ${fmt(bytesPerRestaurant.gateway, 1)})`,
    pass: bytesPerRestaurant.gateway < 100,
  });
  const speedup = (cell('gateway', 'Q2').load?.reqPerSec ?? 0) / (cell('naive', 'Q2').load?.reqPerSec ?? Infinity);
  checks.push({ name: `Q2: gateway ≥ 10× naive req/s (got ${fmt(speedup, 1)}×)`, pass: speedup >= 10 });
  for (const c of cells.filter((c) => c.load)) {
    checks.push({
      name: `${c.query} ${c.server}: no failed requests under load (non-2xx, errors, timeouts, wrong bodies: ${c.load!.failures})`,
      pass: !c.load!.failed,
    });
  }

  const when = new Date().toISOString();
  const cpuModel = cpus()[0]?.model.trim() ?? '?';
  const busy = LOADED.map(
    (name) =>
      `${name} ${fmt(cell('gateway', name).load?.machineBusyPct)}% / ${fmt(cell('naive', name).load?.machineBusyPct)}%`,
  );
  const summary = [
    `Run ${when}: ${fmt(sizes.restaurants)} restaurants / ${fmt(sizes.users)} users / ${fmt(sizes.orders)} orders; ` +
      `${CONNECTIONS} connections, ${warmup} s warm-up, medians of ${runs} × ${duration} s; ` +
      `${cpus().length} × ${cpuModel}, Node ${process.version}, PostgreSQL ${pgVersion}.`,
    '',
    ...table,
    '',
    ...ratios,
    '',
    `Row bytes per restaurant (Q1): gateway ${fmt(bytesPerRestaurant.gateway, 1)}, naive ${fmt(bytesPerRestaurant.naive, 1)}. ` +
      `Machine CPU busy during the load runs (gateway / naive): ${busy.join('; ')}.`,
    '',
    ...checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'} ${c.name}`),
  ].join('\n');
  process.stdout.write(`\n${summary}\n`);

  const result = {
    when,
    sizes,
    connections: CONNECTIONS,
    duration,
    runs,
    warmup,
    machine: { cpus: cpus().length, cpuModel, node: process.version, postgres: pgVersion },
    queries: QUERIES,
    cells,
    bytesPerRestaurant,
    checks,
  };
  const resultsDir = new URL('./results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(new URL(`${when.replace(/[:.]/g, '-')}.json`, resultsDir), json);
  await writeFile(new URL('latest.json', resultsDir), json);
  const docUrl = new URL('../docs/BENCHMARKS.md', import.meta.url);
  const doc = await readFile(docUrl, 'utf8').catch(() => '');
  // The markers on lines of their own (the doc's prose quotes them inline).
  const marked = /^<!-- bench:start -->$[\s\S]*?^<!-- bench:end -->$/m;
  if (marked.test(doc)) {
    await writeFile(
      docUrl,
      doc.replace(marked, () => `<!-- bench:start -->\n${summary}\n<!-- bench:end -->`),
    );
  } else {
    process.stderr.write('docs/BENCHMARKS.md has no <!-- bench:start --> / <!-- bench:end --> lines: not updated\n');
  }
  process.stderr.write(`done in ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (checks.some((c) => !c.pass)) process.exitCode = 1;
}

main()
  .catch((error: Error) => {
    if (!wasInterrupted()) process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
