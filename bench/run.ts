/**
 * `npm run bench`: the gateway, as production runs it, beside five peers on the same data, in one run on the
 * machine's PostgreSQL. Not part of `npm test`. docs/BENCHMARKS.md explains the servers and the columns.
 *
 * The servers (one process each, so RSS and CPU time are each one's own):
 * - gateway: `npm run build`, then `node dist/server.js` as fly.toml and the Dockerfile run it (bench/common.ts
 *   `startProductionGateway`: NODE_ENV=production, LOG_LEVEL info with its log drained, METRICS_PORT, the
 *   limits, cost, PERSISTED_OPERATIONS=allow); ready when /ready answers 200;
 * - postgraphile: PostGraphile 5, Amber preset, production mode, pool of 4 (bench/postgraphile-server.ts);
 * - yoga: Yoga's floor, graphql-yoga's defaults and graphql-jit over one SQL statement per list, no feature
 *   of the gateway, pool of 4 (bench/yoga-floor-server.ts);
 * - envelop: the envelop floor, Yoga's floor without graphql-yoga (envelop and graphql-jit from node:http, the
 *   same schema; bench/envelop-floor-server.ts);
 * - floor: node:http + pg, one SQL statement per request whose JSON PostgreSQL builds, pool of 10
 *   (bench/sql-floor-server.ts);
 * - naive: the Python original's data access, SELECT * and N+1 (bench/naive-server.ts, bench/naive-app.ts).
 *
 * 1. A scratch database (tm_bench_<ms>; dropped at the end, also on failure and SIGINT/SIGTERM), migrated by
 *    `node dist/migrate.js`, seeded with 10,000 restaurants / 10,000 users / 200,000 orders, embedded with the
 *    offline encoder, vacuumed (bench/scratch-data.ts).
 * 2. Per server, one process behind a wire counter (test/helpers/wire-counter.ts): statements, rows and row
 *    bytes of one request per query, after a warm one. Every server's answers are compared, normalised
 *    (bench/queries.ts): a difference stops the run.
 * 3. Per loaded query (Q1, Q2), a fresh process per server connected straight to PostgreSQL: RSS once ready
 *    (before any request; the gateway's also after one `similar` request, which loads its in-process vector
 *    index), a check and --warmup seconds, then --runs rounds of --duration seconds at 10
 *    connections (autocannon), the servers in alternating order (ABCD, DCBA, …) so drift on the shared machine
 *    hits all; medians of req/s, p99, CPU per request (server process and PostgreSQL backends, from /proc);
 *    peak RSS under load (sampled every 100 ms from the warm-up to the last round) and VmHWM.
 * 4. Prints the tables, the ratios and PASS/FAIL lines, writes bench/results/<ISO date>.json and latest.json,
 *    and replaces the part of docs/BENCHMARKS.md between `<!-- bench:start -->` and `<!-- bench:end -->`.
 *
 * All traffic stays on 127.0.0.1; every loop and wait is bounded.
 *
 * Flags: --quick (1,000/1,000/20,000), --restaurants/--users/--orders N, --duration S (15), --runs N (3),
 * --warmup S (2). BENCH_DATABASE_URL: admin URL (default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createTokenService } from '../src/auth/jwt.ts';
import { startWireCounter } from '../test/helpers/wire-counter.ts';
import {
  backendCpuMs,
  buildProduction,
  cleanup,
  compileServers,
  machineCpu,
  median,
  memoryMB,
  onCleanup,
  processCpuMs,
  type ScratchDatabase,
  type Server,
  type ServerKind,
  startProductionGateway,
  startServer,
  stopServer,
  wasInterrupted,
} from './common.ts';
import { BENCH_QUERIES, type BenchQueryName, edgesPath, normalisedAnswer, requestFor } from './queries.ts';
import { prepareScratchData, sizesFromFlags, wholeNumberFlag } from './scratch-data.ts';

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    restaurants: { type: 'string' },
    users: { type: 'string' },
    orders: { type: 'string' },
    duration: { type: 'string', default: '15' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
  },
});
const sizes = sizesFromFlags(flags);
const duration = wholeNumberFlag('duration', flags.duration, 15, 1);
const runs = wholeNumberFlag('runs', flags.runs, 3, 1);
const warmup = wholeNumberFlag('warmup', flags.warmup, 2, 0);
const CONNECTIONS = 10;

/** The scratch database (tm_bench_<ms>), created by main(). */
let scratch: ScratchDatabase;
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

// ---------------------------------------------------------------------------------------------
// Queries (bench/queries.ts) and servers

const QUERIES = BENCH_QUERIES;
type QueryName = BenchQueryName;
const QUERY_NAMES = Object.keys(QUERIES) as QueryName[];
const LOADED = QUERY_NAMES.filter((n) => QUERIES[n].load);

type Kind = ServerKind;
const KINDS: readonly Kind[] = ['gateway', 'postgraphile', 'yoga', 'envelop', 'floor', 'naive'];

/** Targets against PostGraphile (the issue's): gateway req/s ≥ 1.2×, server CPU/request and peak RSS ≤ 0.8×. */
const TARGET = { reqPerSec: 1.2, cpu: 0.8, rss: 0.8, readyRssMB: 100 };

/** The Q2 user's token (Q2 on the gateway and the naive set) and row id (Q2 on PostGraphile and the floor). */
let auth: { token: string; userId: string };

function start(kind: Kind, dbUrl: string): Promise<Server> {
  return kind === 'gateway'
    ? startProductionGateway(dbUrl, JWT_SECRET)
    : startServer(kind, dbUrl, { JWT_SECRET }, { timeoutMs: 60_000 });
}

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
// Requests

/** One request, checked: HTTP 200, no errors, the expected number of edges. @returns the response body. */
async function checkedRequest(server: Server, name: QueryName): Promise<string> {
  const { url, ...init } = requestFor(server.kind, server.url, name, auth);
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  const text = await response.text();
  const what = `${server.kind} ${name}`;
  if (response.status !== 200) throw new Error(`${what}: HTTP ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(`${what}: ${JSON.stringify(body.errors).slice(0, 500)}`);
  let node: unknown = body.data;
  for (const key of edgesPath(server.kind, name)) node = (node as Record<string, unknown> | null | undefined)?.[key];
  const edges = (node as { edges?: unknown[] } | null | undefined)?.edges;
  if (edges?.length !== QUERIES[name].edges) {
    throw new Error(`${what}: expected ${QUERIES[name].edges} edges, got ${edges?.length ?? 'none'}`);
  }
  return text;
}

/**
 * The server fills its in-process vector index before it listens (src/server.ts); one `similar` request
 * makes sure it is in (a gateway built otherwise loads it on first use). @returns the gateway's VmRSS then.
 */
async function loadVectorIndex(server: Server): Promise<number> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ restaurants(first: 1) { edges { node { similar(first: 1) { id } } } } }' }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  if (response.status !== 200 || text.includes('"errors"')) {
    throw new Error(`gateway: the vector index request failed: HTTP ${response.status}: ${text.slice(0, 500)}`);
  }
  return memoryMB(server.pid, 'VmRSS');
}

/** Every server's answer to `name` equals the gateway's once normalised (bench/queries.ts), or the run stops. */
function compareAnswers(name: QueryName, bodies: Map<Kind, string>) {
  const answers = new Map([...bodies].map(([k, text]) => [k, normalisedAnswer(k, name, JSON.parse(text))]));
  const reference = answers.get('gateway')!;
  for (const [kind, answer] of answers) {
    if (isDeepStrictEqual(answer, reference)) continue;
    const i = answer.findIndex((node, j) => !isDeepStrictEqual(node, reference[j]));
    throw new Error(
      `${name}: ${kind}'s answer differs from the gateway's (normalised) at edge ${i} of ${reference.length}/${answer.length}:\n` +
        `  gateway: ${JSON.stringify(reference[i])}\n  ${kind}: ${JSON.stringify(answer[i])}`,
    );
  }
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
  /** VmRSS once ready (gateway: /ready 200; the peers: READY printed), before any request */
  readyRssMB: number;
  /** the gateway's VmRSS after one `similar` request (its in-process vector index surely loaded) */
  indexLoadedRssMB?: number;
  /** the highest VmRSS sampled every 100 ms from the warm-up to the end of the last round */
  loadPeakRssMB: number;
  /** VmHWM at the end: the process's peak over its whole life, start-up included */
  peakRssMB: number;
};
type Cell = { server: Kind; query: QueryName; wire: WireStats; load?: LoadStats };

/**
 * Statements and bytes at the wire: one process behind a wire counter, one request per query after a warm
 * one. @returns them and each query's answer.
 */
async function measureWire(kind: Kind): Promise<{ wire: Map<QueryName, WireStats>; bodies: Map<QueryName, string> }> {
  const out = new Map<QueryName, WireStats>();
  const bodies = new Map<QueryName, string>();
  const wire = await startWireCounter(scratch.url);
  const unregister = onCleanup(() => wire.close());
  let server: Server | undefined;
  try {
    server = await start(kind, wire.url);
    for (const name of QUERY_NAMES) {
      await checkedRequest(server, name); // warm: connections open, type oids read, statements prepared
      await wire.settle();
      wire.reset();
      bodies.set(name, await checkedRequest(server, name));
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
  return { wire: out, bodies };
}

async function loadRun(server: Server, name: QueryName, expectBody: string, seconds: number) {
  // A pause first: the previous run's last requests (still being answered when autocannon returns) finish.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const before = snapshot(server.pid);
  const r = await autocannon({
    ...requestFor(server.kind, server.url, name, auth),
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
 * One query under load: a fresh process per server (so VmHWM is this scenario's), its RSS once ready, each
 * checked and warmed, then the rounds in alternating order (ABCD, DCBA, …).
 */
async function measureLoad(name: QueryName): Promise<Record<Kind, LoadStats>> {
  const servers: Server[] = [];
  const readyRss = new Map<Kind, number>();
  let indexRss: number | undefined;
  const sampled = new Map<Kind, number>();
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (const kind of KINDS) {
      const s = await start(kind, scratch.url);
      servers.push(s);
      readyRss.set(kind, memoryMB(s.pid, 'VmRSS'));
      if (kind === 'gateway') indexRss = await loadVectorIndex(s);
    }
    sampler = setInterval(() => {
      for (const s of servers) sampled.set(s.kind, Math.max(sampled.get(s.kind) ?? 0, memoryMB(s.pid, 'VmRSS')));
    }, 100);
    const bodies = new Map<Kind, string>();
    const warmupFailures = new Map<Kind, number>();
    for (const s of servers) {
      bodies.set(s.kind, await checkedRequest(s, name));
      if (warmup) warmupFailures.set(s.kind, failuresOf(await loadRun(s, name, bodies.get(s.kind)!, warmup)));
    }
    const results = new Map<Kind, RunStats[]>(KINDS.map((k) => [k, []]));
    for (let i = 0; i < runs; i++) {
      for (const s of i % 2 === 0 ? servers : [...servers].reverse()) {
        const r = await loadRun(s, name, bodies.get(s.kind)!, duration);
        results.get(s.kind)!.push(r);
        process.stderr.write(
          `  ${name} ${s.kind.padEnd(12)} round ${i + 1}/${runs}: ${r.reqPerSec.toFixed(0)} req/s, p99 ${r.p99Ms} ms, ` +
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
        readyRssMB: readyRss.get(s.kind) ?? 0,
        ...(s.kind === 'gateway' ? { indexLoadedRssMB: indexRss } : {}),
        loadPeakRssMB: Math.max(sampled.get(s.kind) ?? 0, memoryMB(s.pid, 'VmRSS')),
        peakRssMB: memoryMB(s.pid, 'VmHWM'),
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
/** The gateway's RSS with its vector index loaded, after its RSS at ready. */
const indexed = (load: LoadStats | undefined) =>
  load?.indexLoadedRssMB === undefined ? '' : ` (${fmt(load.indexLoadedRssMB)} with the vector index)`;
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? '–' : `${fmt(a / b, 2)}×`;

/** The previous latest.json's gateway row bytes per query, when it was run on the same data sizes. */
async function previousRowBytes(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const prev = JSON.parse(await readFile(new URL('./results/latest.json', import.meta.url), 'utf8')) as {
      sizes?: typeof sizes;
      cells?: { server: string; query: string; wire?: { rowBytes?: number } }[];
    };
    if (!isDeepStrictEqual(prev.sizes, sizes)) return out;
    for (const c of prev.cells ?? []) {
      if (c.server === 'gateway' && c.wire?.rowBytes !== undefined) out.set(c.query, c.wire.rowBytes);
    }
  } catch {
    // no previous run
  }
  return out;
}

async function main() {
  const started = Date.now();
  process.stderr.write('npm run build (dist/), compiling the peers (tsconfig.bench.json → dist-bench/)…\n');
  buildProduction();
  compileServers();
  const previous = await previousRowBytes();

  const data = await prepareScratchData('tm_bench', sizes);
  scratch = data.scratch;
  const token = await createTokenService({ secret: JWT_SECRET, ttl: '2h', production: true }).sign(data.q2UserId);
  auth = { token, userId: data.q2UserId };

  const cells: Cell[] = [];
  const answers = new Map<QueryName, Map<Kind, string>>(QUERY_NAMES.map((n) => [n, new Map()]));
  for (const kind of KINDS) {
    process.stderr.write(`${kind}: statements and bytes at the wire…\n`);
    const { wire, bodies } = await measureWire(kind);
    for (const [query, w] of wire) cells.push({ server: kind, query, wire: w });
    for (const [query, body] of bodies) answers.get(query)!.set(kind, body);
  }
  for (const name of QUERY_NAMES) compareAnswers(name, answers.get(name)!);
  process.stderr.write(`every server's answers to ${QUERY_NAMES.join(', ')} are the gateway's (normalised)\n`);
  for (const name of LOADED) {
    process.stderr.write(
      `${name} under load: ${warmup} s warm-up, then ${runs} × ${duration} s per server at ${CONNECTIONS} connections…\n`,
    );
    const load = await measureLoad(name);
    for (const kind of KINDS) cells.find((c) => c.server === kind && c.query === name)!.load = load[kind];
  }
  const cell = (server: Kind, query: QueryName) => cells.find((c) => c.server === server && c.query === query)!;

  // Tables
  const table = [
    '| query | server | statements/request | row bytes/request | req/s | p99 ms | server CPU ms/request | PostgreSQL CPU ms/request | RSS at ready MB | peak RSS under load MB | load |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const name of QUERY_NAMES) {
    for (const kind of KINDS) {
      const { wire, load } = cell(kind, name);
      const status = !load ? '' : load.failed ? `**FAILED** (${load.failures} bad responses)` : 'ok';
      table.push(
        `| ${name} | ${kind} | ${wire.statements} | ${fmt(wire.rowBytes)} | ${fmt(load?.reqPerSec)} | ${fmt(load?.p99Ms)} | ` +
          `${fmt(load?.serverCpuMsPerReq, 2)} | ${fmt(load?.pgCpuMsPerReq, 2)} | ${fmt(load?.readyRssMB)}${indexed(load)} | ` +
          `${fmt(load?.loadPeakRssMB)} | ${status} |`,
      );
    }
  }
  const ratios = [
    '| query | req/s gateway/PostGraphile | server CPU/request gateway/PostGraphile | peak RSS gateway/PostGraphile | server CPU/request Yoga floor/PostGraphile | server CPU/request envelop floor/PostGraphile | req/s gateway/floor | server CPU/request gateway/floor | req/s gateway/naive | statements naive/gateway |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const name of LOADED) {
    const g = cell('gateway', name);
    const p = cell('postgraphile', name);
    const y = cell('yoga', name);
    const e = cell('envelop', name);
    const f = cell('floor', name);
    const n = cell('naive', name);
    ratios.push(
      `| ${name} | ${ratio(g.load?.reqPerSec, p.load?.reqPerSec)} | ${ratio(g.load?.serverCpuMsPerReq, p.load?.serverCpuMsPerReq)} | ` +
        `${ratio(g.load?.loadPeakRssMB, p.load?.loadPeakRssMB)} | ${ratio(y.load?.serverCpuMsPerReq, p.load?.serverCpuMsPerReq)} | ` +
        `${ratio(e.load?.serverCpuMsPerReq, p.load?.serverCpuMsPerReq)} | ` +
        `${ratio(g.load?.reqPerSec, f.load?.reqPerSec)} | ` +
        `${ratio(g.load?.serverCpuMsPerReq, f.load?.serverCpuMsPerReq)} | ${ratio(g.load?.reqPerSec, n.load?.reqPerSec)} | ` +
        `${ratio(n.wire.statements, g.wire.statements)} |`,
    );
  }
  const perRestaurant = (k: Kind) => cell(k, 'Q1').wire.rowBytes / cell(k, 'Q1').wire.rows;
  const bytesPerRestaurant = Object.fromEntries(KINDS.map((k) => [k, perRestaurant(k)])) as Record<Kind, number>;

  // Checks
  const checks: { name: string; pass: boolean }[] = [];
  for (const name of LOADED) {
    const g = cell('gateway', name).load!;
    const p = cell('postgraphile', name).load!;
    const rps = g.reqPerSec / p.reqPerSec;
    const cpu = g.serverCpuMsPerReq / p.serverCpuMsPerReq;
    const rss = g.loadPeakRssMB / p.loadPeakRssMB;
    checks.push(
      {
        name: `${name}: gateway req/s ≥ ${TARGET.reqPerSec}× PostGraphile's (got ${fmt(rps, 2)}×: ${fmt(g.reqPerSec)} vs ${fmt(p.reqPerSec)})`,
        pass: rps >= TARGET.reqPerSec,
      },
      {
        name: `${name}: gateway server CPU/request ≤ ${TARGET.cpu}× PostGraphile's (got ${fmt(cpu, 2)}×: ${fmt(g.serverCpuMsPerReq, 2)} vs ${fmt(p.serverCpuMsPerReq, 2)} ms)`,
        pass: cpu <= TARGET.cpu,
      },
      {
        name: `${name}: gateway peak RSS under load ≤ ${TARGET.rss}× PostGraphile's (got ${fmt(rss, 2)}×: ${fmt(g.loadPeakRssMB)} vs ${fmt(p.loadPeakRssMB)} MB)`,
        pass: rss <= TARGET.rss,
      },
    );
  }
  const readyRss = Math.max(...LOADED.map((n) => cell('gateway', n).load!.indexLoadedRssMB ?? Number.NaN));
  checks.push({
    name:
      `gateway RSS at ready with its vector index loaded ≤ ${TARGET.readyRssMB} MB (${fmt(sizes.restaurants)} restaurants, offline encoder; ` +
      `largest of the fresh starts: ${fmt(readyRss)} MB; before the index: ${fmt(Math.max(...LOADED.map((n) => cell('gateway', n).load!.readyRssMB)))} MB)`,
    pass: readyRss <= TARGET.readyRssMB,
  });
  for (const name of QUERY_NAMES) {
    const got = cell('gateway', name).wire.statements;
    const { levels, edges } = QUERIES[name];
    checks.push(
      levels === 1
        ? { name: `${name} (${edges} edges): gateway statements/request = 1 (got ${got})`, pass: got === 1 }
        : {
            name: `${name} (${edges} edges): gateway statements/request ≤ ${levels} (got ${got})`,
            pass: got <= levels,
          },
    );
  }
  checks.push({
    name: `Q1: gateway row bytes per restaurant < 100 (got ${fmt(bytesPerRestaurant.gateway, 1)})`,
    pass: bytesPerRestaurant.gateway < 100,
  });
  for (const [query, before] of previous) {
    const now = cells.find((c) => c.server === 'gateway' && c.query === query)?.wire.rowBytes;
    if (now === undefined) continue;
    checks.push({
      name: `${query}: gateway row bytes/request no more than the previous run's (${fmt(now)} vs ${fmt(before)})`,
      pass: now <= before,
    });
  }
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
    (name) => `${name} ${KINDS.map((k) => `${fmt(cell(k, name).load?.machineBusyPct)}%`).join(' / ')}`,
  );
  const summary = [
    `Run ${when}: ${fmt(sizes.restaurants)} restaurants / ${fmt(sizes.users)} users / ${fmt(sizes.orders)} orders; ` +
      `${CONNECTIONS} connections, ${warmup} s warm-up, medians of ${runs} × ${duration} s; ` +
      `${cpus().length} × ${cpuModel}, Node ${process.version}, PostgreSQL ${data.pgVersion}.`,
    '',
    ...table,
    '',
    ...ratios,
    '',
    `Row bytes per restaurant (Q1): ${KINDS.map((k) => `${k} ${fmt(bytesPerRestaurant[k], 1)}`).join(', ')}. ` +
      `Machine CPU busy during the load runs (${KINDS.join(' / ')}): ${busy.join('; ')}.`,
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
    machine: { cpus: cpus().length, cpuModel, node: process.version, postgres: data.pgVersion },
    servers: KINDS,
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
