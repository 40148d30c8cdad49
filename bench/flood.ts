/**
 * `npm run bench:flood` (and the last part of `npm run bench`): the gateway under a flood of the most
 * expensive query its limits still allow, with a cheap query sent alongside. Not part of `npm test`.
 *
 * 1. A scratch database (tm_flood_<ms>; dropped at the end, also on failure and SIGINT/SIGTERM): migrated
 *    by `node dist/migrate.js` (bench/scratch-data.ts),
 *    seeded (10,000 restaurants / 1,000 users / 20,000 orders), every restaurant embedded with the built-in
 *    offline encoder (no MODEL_PATH: the gateway runs "without a loaded model"), VACUUM (ANALYZE).
 * 2. The flood query: candidates sized to MAX_COST (priced with src/http/cost.ts, each checked: price ≤
 *    MAX_COST, HTTP 200, no errors), each probed for --probe seconds at 10 connections on one production
 *    gateway; the one with the most server CPU per answered request wins.
 * 3. --runs times, on a fresh production gateway each (`node dist/server.js` as fly.toml runs it: bench/common.ts
 *    `startProductionGateway`, NODE_ENV=production, LOG_LEVEL info, METRICS_PORT, its defaults, then --env):
 *    - baseline: the cheap query alone at a steady 20 req/s for --baseline seconds (p50, p99); idle RSS;
 *    - flood: autocannon, --connections (50) for --duration (30) seconds, the flood query; alongside, the
 *      cheap query at a steady 10 req/s from its own keep-alive agent (open loop: each request is sent on
 *      schedule, whatever the previous ones are doing), every latency and status recorded; the server's RSS
 *      every 100 ms and VmHWM at the end; GET /health every second on the public port (Fly's check, timed) and
 *      on the metrics port (the `load` snapshot at the peak); the event-loop delay from its /metrics.
 * 4. Medians over the runs, a table, PASS/FAIL lines (peak RSS < 300 MB, cheap query success ≥ 99 %, every
 *    refusal OVERLOADED), bench/results/flood-<ISO date>.json and flood-latest.json, and the part of
 *    docs/BENCHMARKS.md between `<!-- bench-flood:start -->` and `<!-- bench-flood:end -->`.
 *
 * All traffic stays on 127.0.0.1; every loop, request and wait is bounded.
 *
 * Flags: --quick (1,000/100/2,000), --restaurants/--users/--orders N, --runs N (3), --duration S (30),
 * --connections N (50), --baseline S (10), --probe S (5), --env KEY=VALUE (repeatable: the gateway's
 * environment, e.g. --env MAX_QUEUED_REQUESTS=20). BENCH_DATABASE_URL: admin URL.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { loadConfig } from '../src/config.ts';
import { operationCost } from '../src/http/cost.ts';
import { schema } from '../src/schema/index.ts';
import {
  backendCpuMs,
  buildProduction,
  cleanup,
  type LoopDelay,
  machineCpu,
  median,
  memoryMB,
  percentile,
  processCpuMs,
  productionEnv,
  type ScratchDatabase,
  type Server,
  startProductionGateway,
  stopServer,
  wasInterrupted,
} from './common.ts';
import { prepareScratchData } from './scratch-data.ts';

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    restaurants: { type: 'string' },
    users: { type: 'string' },
    orders: { type: 'string' },
    runs: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    baseline: { type: 'string' },
    probe: { type: 'string' },
    env: { type: 'string', multiple: true, default: [] },
    // bench/run.ts's, accepted (unused) so that `npm run bench -- <flags>` can pass them to every part.
    warmup: { type: 'string' },
  },
  strict: true,
});
const num = (name: string, v: string | undefined, fallback: number, min: number, max = 1_000_000) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name}: expected a whole number ${min}–${max}, got ${v}`);
  return n;
};
const sizes = {
  restaurants: num('restaurants', flags.restaurants, flags.quick ? 1_000 : 10_000, 50),
  users: num('users', flags.users, flags.quick ? 100 : 1_000, 1),
  orders: num('orders', flags.orders, flags.quick ? 2_000 : 20_000, 0),
};
const RUNS = num('runs', flags.runs, 3, 1, 20);
const DURATION = num('duration', flags.duration, 30, 3, 600);
const CONNECTIONS = num('connections', flags.connections, 50, 1, 1_000);
const BASELINE_S = num('baseline', flags.baseline, 10, 1, 300);
const PROBE_S = num('probe', flags.probe, 5, 1, 120);
const PROBE_CONNECTIONS = 10;
const BASELINE_RATE = 20; // req/s of the cheap query alone
const CHEAP_RATE = 10; // req/s of the cheap query during the flood
const CHEAP_TIMEOUT_MS = 10_000;
/** Fly's health check gives /health 5 s (fly.toml); the polls wait up to 30 s to see when it does answer. */
const HEALTH_CHECK_MS = 5_000;
const HEALTH_TIMEOUT_MS = 30_000;
const RSS_TARGET_MB = 300;
const SUCCESS_TARGET_PCT = 99;
/** The resolvers' own bounds (src/schema/types): `similar` 1–20, `searchRestaurants` 1–50. */
const MAX_SIMILAR = 20;
const MAX_MATCHES = 50;

const gatewayOverrides: Record<string, string> = {};
for (const pair of flags.env) {
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
  if (!m) throw new Error(`--env: expected KEY=VALUE, got ${pair}`);
  gatewayOverrides[m[1]!] = m[2]!;
}
/** The production gateway's (bench/common.ts `productionEnv`: no MODEL_PATH, "without a loaded model"), then --env. */
const JWT_SECRET = 'bench-flood-secret-bench-flood-secret-0123';

const say = (s: string) => process.stderr.write(`${s}\n`);
let scratch: ScratchDatabase;

// ---------------------------------------------------------------------------------------------
// HTTP: a plain client with its own keep-alive agent (not autocannon's sockets), every request bounded.

type Answer = { status: number; body: string; ms: number; error?: string };

/** One request with a total deadline of `timeoutMs` from now (queueing in the agent included). */
function send(agent: Agent, url: string, method: 'GET' | 'POST', body: string | undefined, timeoutMs: number) {
  return new Promise<Answer>((resolve) => {
    const started = performance.now();
    let settled = false;
    const done = (a: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve({ ...a, ms: performance.now() - started });
    };
    const req = httpRequest(
      url,
      {
        method,
        agent,
        headers: body
          ? {
              'content-type': 'application/json',
              accept: 'application/json',
              'content-length': Buffer.byteLength(body),
            }
          : { accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => done({ status: 0, body: '', error: e.message }));
      },
    );
    const deadline = setTimeout(() => {
      done({ status: 0, body: '', error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => done({ status: 0, body: '', error: e.message }));
    req.end(body);
  });
}

type GraphQLBody = {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: string; reason?: string } }[];
};
const parseBody = (text: string): GraphQLBody | undefined => {
  try {
    return JSON.parse(text) as GraphQLBody;
  } catch {
    return undefined;
  }
};
const postBody = (query: string) => JSON.stringify({ query });

// ---------------------------------------------------------------------------------------------
// Queries

const CHEAP_QUERY = '{ restaurants(first: 1) { edges { node { name } } } }';
const CHEAP_BODY = postBody(CHEAP_QUERY);
const cheapOk = (a: Answer) => {
  if (a.status !== 200) return false;
  const b = parseBody(a.body);
  const edges = (b?.data?.restaurants as { edges?: unknown[] } | undefined)?.edges;
  return !b?.errors && edges?.length === 1;
};

/** The price the gateway computes (src/http/cost.ts), uncapped. */
function priceOf(query: string, maxPageSize: number): number {
  const doc = parse(query);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!op) throw new Error('no operation');
  return operationCost(schema, op, {}, {}, Number.MAX_SAFE_INTEGER, maxPageSize);
}

type Candidate = { name: string; query: string; cost: number; shape: string };

/** The largest n in [1, max] whose query still fits the budget (the price grows with n). */
function largest(max: number, build: (n: number) => string, fits: (q: string) => boolean): number | undefined {
  for (let n = max; n >= 1; n--) if (fits(build(n))) return n;
  return undefined;
}

function candidates(limits: { maxCost: number; maxPageSize: number; maxAliases: number }): Candidate[] {
  const { maxCost, maxPageSize, maxAliases } = limits;
  const fits = (q: string) => priceOf(q, maxPageSize) <= maxCost;
  const out: Candidate[] = [];
  const add = (name: string, shape: string, n: number | undefined, build: (n: number) => string) => {
    if (n === undefined) return;
    const query = build(n);
    out.push({ name, query, shape: shape.replace('N', String(n)), cost: priceOf(query, maxPageSize) });
  };
  const page = maxPageSize;
  const fields = 'id name description cuisineType rating priceRange';
  const list = (n: number) =>
    `{ restaurants(first: ${page}) { edges { node { ${fields} similar(first: ${n}) { id name cuisineType } } } } }`;
  add(
    'page+similar',
    `restaurants(first: ${page}) { edges { node { 6 fields, similar(first: N) { 3 fields } } } }`,
    largest(MAX_SIMILAR, list, fits),
    list,
  );
  const matches = Math.min(MAX_MATCHES, page);
  const search = (n: number) =>
    `{ searchRestaurants(text: "spicy noodles with a quiet terrace and friendly staff", first: ${matches}) ` +
    `{ score restaurant { ${fields} similar(first: ${n}) { id name cuisineType } } } }`;
  add(
    'search+similar',
    `searchRestaurants(text, first: ${matches}) { score restaurant { 6 fields, similar(first: N) { 3 fields } } }`,
    largest(MAX_SIMILAR, search, fits),
    search,
  );
  // Distinct filters, so every alias is its own count and page (ILIKE over name, cuisine and description).
  const terms = [...'abcdefghijklmnopqrstuvwxyz'.split(''), 'an', 'er', 'in', 'on', 'ar', 'en', 'or', 'al'];
  const aliases = Math.max(1, Math.min(maxAliases, terms.length));
  const counts = (n: number) =>
    `{ ${terms
      .slice(0, aliases)
      .map((t, i) => `c${i}: restaurants(first: ${n}, search: "${t}") { totalCount edges { node { name } } }`)
      .join(' ')} }`;
  add(
    'totalCount×aliases',
    `${aliases} aliases of restaurants(first: N, search: "<term>") { totalCount edges { node { name } } }`,
    largest(page, counts, fits),
    counts,
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Measurements

type CpuMark = { server: number; pg: Map<number, number>; machine: { busy: number; total: number }; at: number };
const mark = (pid: number): CpuMark => ({
  server: processCpuMs(pid),
  pg: backendCpuMs(scratch.name),
  machine: machineCpu(),
  at: performance.now(),
});
function cpuSince(pid: number, before: CpuMark) {
  const after = mark(pid);
  let pgMs = 0;
  for (const [p, ms] of after.pg) pgMs += ms - (before.pg.get(p) ?? 0);
  return {
    serverMs: after.server - before.server,
    pgMs,
    wallMs: after.at - before.at,
    machineBusyPct: (100 * (after.machine.busy - before.machine.busy)) / (after.machine.total - before.machine.total),
  };
}

/** One request of `query`, checked: HTTP 200, no errors, something in data. @returns the body's size */
async function checkAnswers(server: Server, name: string, query: string): Promise<number> {
  const agent = new Agent({ keepAlive: false });
  try {
    const a = await send(agent, server.url, 'POST', postBody(query), 60_000);
    const b = parseBody(a.body);
    const first = b?.data ? Object.values(b.data)[0] : undefined;
    if (a.status !== 200 || !b || b.errors || first == null || (Array.isArray(first) && first.length === 0)) {
      throw new Error(`${name}: HTTP ${a.status} ${a.error ?? ''}${a.body.slice(0, 600)}`);
    }
    return Buffer.byteLength(a.body);
  } finally {
    agent.destroy();
  }
}

type CandidateResult = Candidate & {
  /** why it cannot be the flood query: over MAX_COST, or not answered with 200 and no errors (one at a time) */
  excluded?: string;
  bytes?: number;
  answers?: number;
  ok?: number;
  failures?: Record<string, number>;
  okPerSec?: number;
  /** requests sent one at a time (the CPU figures' denominator), and how many were answered 200 without errors */
  sequential?: number;
  sequentialOk?: number;
  /** wall time per request, one at a time */
  sequentialMsPerReq?: number;
  /** server (PostgreSQL) CPU per request, one at a time */
  serverCpuMsPerReq?: number;
  pgCpuMsPerReq?: number;
  /** what happened at PROBE_CONNECTIONS connections (reported, not a criterion) */
  concurrency?: string;
};

/** "ok", or what went wrong: status and the first error's code (and reason). */
function answerKind(status: number, body: string): string {
  if (status === 200 && !body.includes('"errors"')) return 'ok';
  const e = parseBody(body)?.errors?.[0]?.extensions;
  return `${status} ${e?.code ?? ''}${e?.reason ? ` (${e.reason})` : ''}`.trim();
}

async function probeCandidates(list: Candidate[], maxCost: number): Promise<CandidateResult[]> {
  const server = await startProductionGateway(scratch.url, JWT_SECRET, { env: gatewayOverrides });
  const out: CandidateResult[] = [];
  try {
    for (const c of list) {
      const r: CandidateResult = { ...c };
      out.push(r);
      if (c.cost > maxCost) {
        r.excluded = `priced ${c.cost} > MAX_COST ${maxCost}`;
        continue;
      }
      try {
        r.bytes = await checkAnswers(server, c.name, c.query);
        await checkAnswers(server, c.name, c.query); // warm
      } catch (error) {
        r.excluded = (error as Error).message;
        say(`  ${c.name}: EXCLUDED: ${r.excluded}`);
        continue;
      }
      // CPU per request: one request at a time (nothing in flight when measured), for --probe seconds (3–200).
      await sleep(300);
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const before = mark(server.pid);
      let sequential = 0;
      let sequentialOk = 0;
      const deadline = performance.now() + PROBE_S * 1000;
      try {
        while (sequential < 200 && (sequential < 3 || performance.now() < deadline)) {
          const a = await send(agent, server.url, 'POST', postBody(c.query), 60_000);
          sequential++;
          if (answerKind(a.status, a.body) === 'ok') sequentialOk++;
        }
      } finally {
        agent.destroy();
      }
      const cpu = cpuSince(server.pid, before);
      // Then the same at 10 connections for --probe seconds: what goes wrong under concurrency (reported only).
      await sleep(300);
      const kinds: Record<string, number> = {};
      const res = await autocannon({
        url: server.url,
        connections: PROBE_CONNECTIONS,
        duration: PROBE_S,
        timeout: 30,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json' },
            body: postBody(c.query),
            onResponse: (status, body) => {
              const k = answerKind(status, body);
              kinds[k] = (kinds[k] ?? 0) + 1;
            },
          },
        ],
      });
      const { ok = 0, ...failures } = kinds;
      if (res.errors > res.timeouts) failures['socket errors'] = res.errors - res.timeouts;
      if (res.timeouts) failures.timeouts = res.timeouts;
      Object.assign(r, {
        sequential,
        sequentialOk,
        sequentialMsPerReq: cpu.wallMs / sequential,
        serverCpuMsPerReq: cpu.serverMs / sequential,
        pgCpuMsPerReq: cpu.pgMs / sequential,
        answers: res.requests.total,
        ok,
        failures,
        okPerSec: ok / PROBE_S,
      });
      if (sequentialOk < sequential) {
        r.excluded = `${sequential - sequentialOk} of ${sequential} requests (one at a time) not answered 200 without errors`;
      }
      const failed = Object.entries(failures);
      const concurrent = failed.length
        ? `${sum(failures)} of ${sum(failures) + ok} failed: ${failed.map(([k, v]) => `${v} × ${k}`).join(', ')}`
        : ok
          ? `${ok} answer${ok === 1 ? '' : 's'}, none failed`
          : `no answer within ${PROBE_S} s, none failed`;
      r.concurrency = `at ${PROBE_CONNECTIONS} connections for ${PROBE_S} s: ${concurrent}`;
      say(
        `  ${c.name} (cost ${c.cost}): one at a time ${fmt(r.sequentialMsPerReq)} ms/request, server ${fmt(r.serverCpuMsPerReq, 1)} + ` +
          `PostgreSQL ${fmt(r.pgCpuMsPerReq, 1)} CPU ms/request, ${fmt(r.bytes)} bytes; ${r.concurrency}${r.excluded ? `; EXCLUDED: ${r.excluded}` : ''}`,
      );
      await sleep(500); // the probe's last requests finish
    }
  } finally {
    await stopServer(server);
  }
  return out;
}

type CheapSample = { ms: number; status: number; ok: boolean; code?: string; reason?: string; error?: string };

/** The cheap query at a steady rate (open loop) for `seconds`; resolves when every answer is in (bounded). */
async function steadyCheap(agent: Agent, url: string, rate: number, seconds: number): Promise<CheapSample[]> {
  const n = Math.max(1, Math.round(rate * seconds));
  const period = 1000 / rate;
  const start = performance.now();
  const pending: Promise<CheapSample>[] = [];
  for (let i = 0; i < n; i++) {
    const wait = start + i * period - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      send(agent, url, 'POST', CHEAP_BODY, CHEAP_TIMEOUT_MS).then((a) => {
        const ok = cheapOk(a);
        const e = ok ? undefined : parseBody(a.body)?.errors?.[0]?.extensions;
        return { ms: a.ms, status: a.status, ok, code: e?.code, reason: e?.reason, error: a.error };
      }),
    );
  }
  return Promise.all(pending);
}

function latencyStats(samples: CheapSample[]) {
  const ms = samples.filter((s) => s.ok).map((s) => s.ms);
  const failures: Record<string, number> = {};
  for (const s of samples.filter((x) => !x.ok)) {
    const key =
      s.status === 0
        ? `no answer (${s.error ?? '?'})`
        : `${s.status} ${s.code ?? ''}${s.reason ? ` (${s.reason})` : ''}`;
    failures[key] = (failures[key] ?? 0) + 1;
  }
  return {
    sent: samples.length,
    ok: ms.length,
    successPct: (100 * ms.length) / Math.max(1, samples.length),
    p50Ms: ms.length ? percentile(ms, 0.5) : Number.NaN,
    p99Ms: ms.length ? percentile(ms, 0.99) : Number.NaN,
    maxMs: ms.length ? Math.max(...ms) : Number.NaN,
    /** p99 of every request sent, failures at the time they took (a timeout: CHEAP_TIMEOUT_MS) */
    p99AllMs: samples.length
      ? percentile(
          samples.map((x) => x.ms),
          0.99,
        )
      : Number.NaN,
    failures,
  };
}

type Health = {
  /** sent, s after the flood's start */
  atS: number;
  ms: number;
  /** 0: no answer within HEALTH_TIMEOUT_MS */
  status: number;
  /** answered before the flood's end */
  duringFlood: boolean;
  memoryMB?: { rss?: number; heapUsed?: number };
  load?: {
    state?: string;
    softLimitMB?: number;
    shedRequests?: number;
    memoryMB?: Record<string, number>;
    eventLoopDelayMs?: { p50?: number; p99?: number; max?: number };
    requests?: { active?: number; waiting?: number; size?: number };
  };
};

type FloodRun = {
  run: number;
  pid: number;
  idleRssMB: number;
  baseline: ReturnType<typeof latencyStats>;
  flood: {
    seconds: number;
    answers: number;
    reqPerSec: number;
    okPerSec: number;
    statuses: Record<string, number>;
    /** 503 OVERLOADED by reason (concurrency, memory) */
    shed: Record<string, number>;
    shedTotal: number;
    shedPct: number;
    /** non-200 answers that are not OVERLOADED, by status and code */
    otherFailures: Record<string, number>;
    okWithErrors: number;
    connectionErrors: number;
    timeouts: number;
    serverCpuPctOfCore: number;
    pgCpuPctOfCore: number;
    machineBusyPct: number;
    /** this process (autocannon, the cheap client, /health polls) */
    loadGeneratorCpuPctOfCore: number;
    /** the machine's 1-minute load average at the flood's end (other work on the shared machine shows here) */
    loadAverage: number;
  };
  cheap: ReturnType<typeof latencyStats> & { windowS: number };
  /** p99 of every cheap request during the flood (failures at the time they took) ÷ the same at baseline */
  cheapP99Ratio: number;
  peakRssMB: number;
  sampledPeakRssMB: number;
  vmHwmMB: number;
  /** the /health answer with the highest RSS among those that came during the flood */
  healthAtPeak?: Health;
  /** every /health poll (one a second from 1 s in to 1 s before the end; answers may come later) */
  health: Health[];
  /** the most requests running / waiting in the limiter that /health showed during the flood (NaN: none answered) */
  maxWaiting: number;
  maxActive: number;
  /** the server's event-loop delay over the whole flood (prom-client's nodejs_eventloop_lag_* on its metrics port) */
  loop: LoopDelay;
  healthPolls: number;
  /** answered 200 within HEALTH_CHECK_MS */
  healthWithinCheck: number;
  healthAnsweredDuringFlood: number;
  healthP50Ms: number;
  healthMaxMs: number;
  loadGeneratorEventLoopP99Ms: number;
  serverLog: Record<string, number>;
};

async function floodRun(run: number, flood: Candidate): Promise<FloodRun> {
  const server = await startProductionGateway(scratch.url, JWT_SECRET, { env: gatewayOverrides });
  const agent = new Agent({ keepAlive: true, maxSockets: (CHEAP_RATE * CHEAP_TIMEOUT_MS) / 1000 + 20 });
  // Enough sockets that no request ever waits in an agent for one (the cheap client has at most
  // CHEAP_RATE × CHEAP_TIMEOUT_MS / 1000 requests outstanding, the polls one a second for HEALTH_TIMEOUT_MS).
  const healthAgent = new Agent({ keepAlive: true, maxSockets: HEALTH_TIMEOUT_MS / 1000 + 5 });
  let sampler: NodeJS.Timeout | undefined;
  try {
    await checkAnswers(server, 'flood query', flood.query);
    await checkAnswers(server, 'cheap query', CHEAP_QUERY);
    await sleep(1_000);
    const idleRssMB = memoryMB(server.pid, 'VmRSS');

    say(`  run ${run}/${RUNS}: baseline, the cheap query alone at ${BASELINE_RATE} req/s for ${BASELINE_S} s…`);
    const baseline = latencyStats(await steadyCheap(agent, server.url, BASELINE_RATE, BASELINE_S));

    say(
      `  run ${run}/${RUNS}: flood, ${CONNECTIONS} connections for ${DURATION} s, cheap query at ${CHEAP_RATE} req/s…`,
    );
    let sampledPeak = 0;
    sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, memoryMB(server.pid, 'VmRSS'))), 100);
    const statuses: Record<string, number> = {};
    const shed: Record<string, number> = {};
    const otherFailures: Record<string, number> = {};
    let okWithErrors = 0;
    const onResponse = (status: number, body: string) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 200) {
        if (body.includes('"errors"')) okWithErrors++;
        return;
      }
      const e = parseBody(body)?.errors?.[0]?.extensions;
      if (status === 503 && e?.code === 'OVERLOADED') shed[e.reason ?? '?'] = (shed[e.reason ?? '?'] ?? 0) + 1;
      else {
        const k = answerKind(status, body);
        otherFailures[k] = (otherFailures[k] ?? 0) + 1;
      }
    };
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    await server.loopDelay!(); // a scrape resets prom-client's event-loop histogram: it starts afresh
    const before = mark(server.pid);
    const self = process.cpuUsage();
    const started = performance.now();
    const cannon = autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: DURATION,
      timeout: 30,
      requests: [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: postBody(flood.query),
          onResponse,
        },
      ],
    });
    // The cheap client and the health polls cover the flood's steady part: from 1 s in to 1 s before its end.
    const windowS = Math.max(1, DURATION - 2);
    const cheapDone = sleep(1_000).then(() => steadyCheap(agent, server.url, CHEAP_RATE, windowS));
    const health: Health[] = [];
    // GET /health once a second, open loop (a slow answer does not delay the next poll), each bounded.
    const healthDone = (async () => {
      await sleep(1_000);
      const polls: Promise<void>[] = [];
      for (let i = 0; i < Math.max(1, DURATION - 2); i++) {
        const wait = started + (1 + i) * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        const at = (performance.now() - started) / 1000;
        // Fly's check: the public port's /health ({"status":"ok"} in production), timed. The load figures at the
        // same moment: the detailed /health of the metrics port (the same process and event loop).
        polls.push(
          Promise.all([
            send(healthAgent, `${server.origin}/health`, 'GET', undefined, HEALTH_TIMEOUT_MS),
            send(healthAgent, `${server.metricsOrigin}/health`, 'GET', undefined, HEALTH_TIMEOUT_MS),
          ]).then(([a, detailed]) => {
            const ok = a.status === 200 && parseBody(a.body) !== undefined;
            const b = detailed.status === 200 ? (parseBody(detailed.body) as Partial<Health> | undefined) : undefined;
            const duringFlood = at + a.ms / 1000 < DURATION;
            health.push({ ...b, atS: at, ms: a.ms, status: ok ? a.status : 0, duringFlood });
          }),
        );
      }
      await Promise.all(polls);
    })();
    const result = await cannon;
    const serverLoop = await server.loopDelay!(60_000);
    const cpu = cpuSince(server.pid, before);
    const selfCpu = process.cpuUsage(self);
    const loadAverage = loadavg()[0]!;
    const cheapSamples = await cheapDone;
    await healthDone;
    loop.disable();
    clearInterval(sampler);
    sampler = undefined;
    const vmHwmMB = memoryMB(server.pid, 'VmHWM');
    const sampledPeakRssMB = Math.max(sampledPeak, memoryMB(server.pid, 'VmRSS'));

    const answers = Object.values(statuses).reduce((a, b) => a + b, 0);
    const shedTotal = Object.values(shed).reduce((a, b) => a + b, 0);
    const cheap = { ...latencyStats(cheapSamples), windowS };
    health.sort((a, b) => a.atS - b.atS);
    const seen = health.filter((h) => h.status === 200 && h.duringFlood);
    const atPeak = seen.reduce<Health | undefined>(
      (best, h) => ((h.memoryMB?.rss ?? 0) > (best?.memoryMB?.rss ?? -1) ? h : best),
      undefined,
    );
    const healthMs = health.map((h) => (h.status === 200 ? h.ms : HEALTH_TIMEOUT_MS));
    const r: FloodRun = {
      run,
      pid: server.pid,
      idleRssMB,
      baseline,
      flood: {
        seconds: DURATION,
        answers,
        reqPerSec: result.requests.average,
        okPerSec: (statuses[200] ?? 0) / DURATION,
        statuses,
        shed,
        shedTotal,
        shedPct: (100 * shedTotal) / Math.max(1, answers),
        otherFailures,
        okWithErrors,
        connectionErrors: result.errors - result.timeouts, // autocannon counts a timeout as an error too
        timeouts: result.timeouts,
        serverCpuPctOfCore: (100 * cpu.serverMs) / cpu.wallMs,
        pgCpuPctOfCore: (100 * cpu.pgMs) / cpu.wallMs,
        machineBusyPct: cpu.machineBusyPct,
        loadGeneratorCpuPctOfCore: (100 * (selfCpu.user + selfCpu.system)) / 1000 / cpu.wallMs,
        loadAverage,
      },
      cheap,
      cheapP99Ratio: cheap.p99AllMs / baseline.p99AllMs,
      peakRssMB: Math.max(vmHwmMB, sampledPeakRssMB),
      sampledPeakRssMB,
      vmHwmMB,
      healthAtPeak: atPeak,
      health,
      maxWaiting: seen.length ? Math.max(...seen.map((h) => h.load?.requests?.waiting ?? 0)) : Number.NaN,
      maxActive: seen.length ? Math.max(...seen.map((h) => h.load?.requests?.active ?? 0)) : Number.NaN,
      loop: serverLoop,
      healthPolls: health.length,
      healthWithinCheck: health.filter((h) => h.status === 200 && h.ms <= HEALTH_CHECK_MS).length,
      healthAnsweredDuringFlood: seen.length,
      healthP50Ms: healthMs.length ? percentile(healthMs, 0.5) : Number.NaN,
      healthMaxMs: healthMs.length ? Math.max(...healthMs) : Number.NaN,
      loadGeneratorEventLoopP99Ms: loop.percentile(99) / 1e6,
      serverLog: server.warnings!(),
    };
    say(
      `  run ${run}/${RUNS}: flood ${fmt(r.flood.reqPerSec, 1)} answers/s (${fmt(r.flood.okPerSec, 1)} 200/s), ` +
        `shed ${shedTotal} (${fmt(r.flood.shedPct, 1)} %) ${JSON.stringify(shed)}, other ${JSON.stringify(otherFailures)}; ` +
        `cheap ${fmt(cheap.successPct, 1)} % ok, p50 ${fmt(cheap.p50Ms)} / p99 ${fmt(cheap.p99Ms)} ms ` +
        `(baseline ${fmt(baseline.p50Ms, 1)} / ${fmt(baseline.p99Ms, 1)} ms)${Object.keys(cheap.failures).length ? ` failures ${JSON.stringify(cheap.failures)}` : ''}; ` +
        `RSS idle ${fmt(idleRssMB)} → peak ${fmt(r.peakRssMB, 1)} MB; server event loop delay p99 ${fmt(serverLoop.p99)} / max ${fmt(serverLoop.max)} ms; ` +
        `/health: ${r.healthWithinCheck}/${r.healthPolls} within ${HEALTH_CHECK_MS / 1000} s, p50 ${fmt(r.healthP50Ms)} ms, at the peak ${JSON.stringify(atPeak?.load ?? null)}`,
    );
    return r;
  } finally {
    if (sampler) clearInterval(sampler);
    agent.destroy();
    healthAgent.destroy();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(n: number | undefined, digits = 0) {
  return n === undefined || !Number.isFinite(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
/** Flood answers that are neither 200 without errors nor 503 OVERLOADED, with socket errors and timeouts. */
const otherOf = (r: FloodRun) =>
  sum(r.flood.otherFailures) + r.flood.okWithErrors + r.flood.connectionErrors + r.flood.timeouts;

type Config = ReturnType<typeof loadConfig>;

/** The data the flood reads: step 1 of the header. */
type Prepared = { embedded: number; model: string; embeddingType: string; pgVersion: string };

/** A scratch database, migrated, seeded, embedded with the offline encoder, vacuumed (bench/scratch-data.ts). */
async function prepareDatabase(): Promise<Prepared> {
  const data = await prepareScratchData('tm_flood', sizes);
  scratch = data.scratch;
  return { embedded: data.embedded, model: data.model, embeddingType: data.embeddingType, pgVersion: data.pgVersion };
}

/** Step 2: the candidate that costs the server the most CPU per answered request. */
async function chooseFloodQuery(queryLimits: Config['queryLimits']) {
  say(
    `flood query candidates (sized to MAX_COST; CPU measured one request at a time, then ${PROBE_CONNECTIONS} connections):`,
  );
  const probed = await probeCandidates(candidates(queryLimits), queryLimits.maxCost);
  const usable = probed.filter((p) => !p.excluded);
  if (usable.length === 0) throw new Error('no candidate flood query was answered with 200 and no errors');
  const chosen = usable.reduce((a, b) => ((b.serverCpuMsPerReq ?? 0) > (a.serverCpuMsPerReq ?? 0) ? b : a));
  say(`  → ${chosen.name}, cost ${chosen.cost}: ${chosen.query}`);
  return { probed, chosen };
}

/** Step 4: medians over the runs, the worst run, the refusals by kind and the PASS/FAIL checks. */
function summariseRuns(runs: FloodRun[]) {
  const med = (f: (r: FloodRun) => number) => {
    const xs = runs.map(f).filter(Number.isFinite);
    return xs.length ? median(xs) : Number.NaN;
  };
  const m = {
    idleRssMB: med((r) => r.idleRssMB),
    peakRssMB: med((r) => r.peakRssMB),
    baselineP50Ms: med((r) => r.baseline.p50Ms),
    baselineP99Ms: med((r) => r.baseline.p99Ms),
    baselineSuccessPct: med((r) => r.baseline.successPct),
    floodReqPerSec: med((r) => r.flood.reqPerSec),
    floodOkPerSec: med((r) => r.flood.okPerSec),
    shedPct: med((r) => r.flood.shedPct),
    shedTotal: med((r) => r.flood.shedTotal),
    otherFailures: med((r) => otherOf(r)),
    cheapSuccessPct: med((r) => r.cheap.successPct),
    cheapP50Ms: med((r) => r.cheap.p50Ms),
    cheapP99Ms: med((r) => r.cheap.p99Ms),
    cheapP99AllMs: med((r) => r.cheap.p99AllMs),
    baselineP99AllMs: med((r) => r.baseline.p99AllMs),
    cheapMaxMs: med((r) => r.cheap.maxMs),
    cheapP99Ratio: med((r) => r.cheapP99Ratio),
    serverCpuPct: med((r) => r.flood.serverCpuPctOfCore),
    pgCpuPct: med((r) => r.flood.pgCpuPctOfCore),
    machineBusyPct: med((r) => r.flood.machineBusyPct),
    loadGeneratorCpuPct: med((r) => r.flood.loadGeneratorCpuPctOfCore),
    loadAverage: med((r) => r.flood.loadAverage),
    maxWaiting: med((r) => r.maxWaiting),
    healthP50Ms: med((r) => r.healthP50Ms),
    healthMaxMs: med((r) => r.healthMaxMs),
    healthWithinCheckPct: med((r) => (100 * r.healthWithinCheck) / Math.max(1, r.healthPolls)),
    eventLoopP50Ms: med((r) => r.loop.p50),
    eventLoopP99Ms: med((r) => r.loop.p99),
    eventLoopMaxMs: med((r) => r.loop.max),
    maxActive: med((r) => r.maxActive),
  };
  const worstRss = Math.max(...runs.map((r) => r.peakRssMB));
  const worstCheap = Math.min(...runs.map((r) => r.cheap.successPct));
  const notOverloaded = runs.reduce((n, r) => n + otherOf(r), 0);
  const otherKinds: Record<string, number> = {};
  for (const r of runs) {
    for (const [k, v] of Object.entries(r.flood.otherFailures)) otherKinds[k] = (otherKinds[k] ?? 0) + v;
    if (r.flood.okWithErrors)
      otherKinds['200 with errors'] = (otherKinds['200 with errors'] ?? 0) + r.flood.okWithErrors;
    if (r.flood.connectionErrors)
      otherKinds['socket errors'] = (otherKinds['socket errors'] ?? 0) + r.flood.connectionErrors;
    if (r.flood.timeouts) otherKinds['timeouts (30 s)'] = (otherKinds['timeouts (30 s)'] ?? 0) + r.flood.timeouts;
  }
  const shedReasons: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.flood.shed)) shedReasons[k] = (shedReasons[k] ?? 0) + v;
  const cheapFailures: Record<string, number> = {};
  for (const r of runs)
    for (const [k, v] of Object.entries(r.cheap.failures)) cheapFailures[k] = (cheapFailures[k] ?? 0) + v;
  const checks = [
    {
      name:
        `peak RSS < ${RSS_TARGET_MB} MB without a loaded model (worst of ${RUNS} run${RUNS > 1 ? 's' : ''}: ` +
        `${fmt(worstRss, 1)} MB; median ${fmt(m.peakRssMB, 1)} MB; idle ${fmt(m.idleRssMB)} MB)`,
      pass: worstRss < RSS_TARGET_MB,
    },
    {
      name:
        `cheap query answered (200 with data) ≥ ${SUCCESS_TARGET_PCT} % during the flood (worst run: ${fmt(worstCheap, 1)} %, ` +
        `median ${fmt(m.cheapSuccessPct, 1)} %` +
        (Object.keys(cheapFailures).length
          ? `; failures over all runs: ${Object.entries(cheapFailures)
              .map(([k, v]) => `${v} × ${k}`)
              .join(', ')})`
          : ')'),
      pass: worstCheap >= SUCCESS_TARGET_PCT,
    },
    {
      name:
        `every flood request is answered 200 without errors or refused with 503 OVERLOADED (anything else over all runs: ${notOverloaded}` +
        (notOverloaded
          ? `: ${Object.entries(otherKinds)
              .map(([k, v]) => `${v} × ${k}`)
              .join(', ')})`
          : ')'),
      pass: notOverloaded === 0,
    },
  ];
  return { m, worstRss, worstCheap, shedReasons, cheapFailures, checks };
}
type Figures = ReturnType<typeof summariseRuns>;

/** The figures table: medians and each run. */
function figuresTable(runs: FloodRun[], m: Figures['m']): string[] {
  const perRun = (f: (r: FloodRun) => string) => runs.map(f).join(' | ');
  const runCols = runs.map((r) => `run ${r.run}`);
  const row = (label: string, mid: string, each: (r: FloodRun) => string) => `| ${label} | ${mid} | ${perRun(each)} |`;
  return [
    `| figure | median | ${runCols.join(' | ')} |`,
    `|---|---:|${runs.map(() => '---:').join('|')}|`,
    row('idle RSS MB', fmt(m.idleRssMB), (r) => fmt(r.idleRssMB)),
    row('**peak RSS MB** (VmHWM, RSS sampled every 100 ms)', `**${fmt(m.peakRssMB, 1)}**`, (r) => fmt(r.peakRssMB, 1)),
    row(
      `baseline: cheap query alone at ${BASELINE_RATE} req/s, p50 / p99 ms`,
      `${fmt(m.baselineP50Ms, 1)} / ${fmt(m.baselineP99Ms, 1)}`,
      (r) => `${fmt(r.baseline.p50Ms, 1)} / ${fmt(r.baseline.p99Ms, 1)}`,
    ),
    row('flood: answers/s (all statuses)', fmt(m.floodReqPerSec, 1), (r) => fmt(r.flood.reqPerSec, 1)),
    row('flood: 200/s', fmt(m.floodOkPerSec, 1), (r) => fmt(r.flood.okPerSec, 1)),
    row(
      'flood: shed (503 OVERLOADED), % of answers',
      `${fmt(m.shedTotal)} (${fmt(m.shedPct, 1)} %)`,
      (r) => `${fmt(r.flood.shedTotal)} (${fmt(r.flood.shedPct, 1)} %)`,
    ),
    row('flood: anything else (other statuses, 200 with errors, socket errors, timeouts)', fmt(m.otherFailures), (r) =>
      fmt(otherOf(r)),
    ),
    row(
      `**cheap query at ${CHEAP_RATE} req/s during the flood: answered**`,
      `**${fmt(m.cheapSuccessPct, 1)} %**`,
      (r) => `${fmt(r.cheap.successPct, 1)} % of ${r.cheap.sent}`,
    ),
    row(
      'cheap query during the flood, answered ones: p50 / p99 / max ms',
      `${fmt(m.cheapP50Ms)} / ${fmt(m.cheapP99Ms)} / ${fmt(m.cheapMaxMs)}`,
      (r) => `${fmt(r.cheap.p50Ms)} / ${fmt(r.cheap.p99Ms)} / ${fmt(r.cheap.maxMs)}`,
    ),
    row(
      `cheap query p99, every request (a timeout counts ${CHEAP_TIMEOUT_MS / 1000} s): during the flood / baseline ms`,
      `${fmt(m.cheapP99AllMs)} / ${fmt(m.baselineP99AllMs, 1)}`,
      (r) => `${fmt(r.cheap.p99AllMs)} / ${fmt(r.baseline.p99AllMs, 1)}`,
    ),
    row(
      '**cheap p99 ÷ baseline p99** (every request)',
      `**${fmt(m.cheapP99Ratio, 1)}×**`,
      (r) => `${fmt(r.cheapP99Ratio, 1)}×`,
    ),
    row(
      'CPU during the flood, % of one core: server / PostgreSQL / load generator',
      `${fmt(m.serverCpuPct)} / ${fmt(m.pgCpuPct)} / ${fmt(m.loadGeneratorCpuPct)}`,
      (r) =>
        `${fmt(r.flood.serverCpuPctOfCore)} / ${fmt(r.flood.pgCpuPctOfCore)} / ${fmt(r.flood.loadGeneratorCpuPctOfCore)}`,
    ),
    row(
      'machine: CPU busy % (2 cores) / load average',
      `${fmt(m.machineBusyPct)} / ${fmt(m.loadAverage, 1)}`,
      (r) => `${fmt(r.flood.machineBusyPct)} / ${fmt(r.flood.loadAverage, 1)}`,
    ),
    row(
      "server's event-loop delay during the flood, p50 / p99 / max ms (measured inside it)",
      `${fmt(m.eventLoopP50Ms)} / ${fmt(m.eventLoopP99Ms)} / ${fmt(m.eventLoopMaxMs)}`,
      (r) => `${fmt(r.loop.p50)} / ${fmt(r.loop.p99)} / ${fmt(r.loop.max)}`,
    ),
    row(
      `GET /health once a second: answered within ${HEALTH_CHECK_MS / 1000} s (Fly's check timeout); p50 / max ms`,
      `${fmt(m.healthWithinCheckPct)} %; ${fmt(m.healthP50Ms)} / ${fmt(m.healthMaxMs)}`,
      (r) => `${r.healthWithinCheck}/${r.healthPolls}; ${fmt(r.healthP50Ms)} / ${fmt(r.healthMaxMs)}`,
    ),
    row(
      '/health answers during the flood: most requests active / waiting seen',
      `${fmt(m.maxActive)} / ${fmt(m.maxWaiting)}`,
      (r) =>
        r.healthAnsweredDuringFlood
          ? `${r.maxActive} / ${r.maxWaiting} (${r.healthAnsweredDuringFlood} answers)`
          : 'no answer during the flood',
    ),
    row('/health at the peak RSS: its RSS MB, requests active / waiting, state', '', (r) => {
      const h = r.healthAtPeak;
      return h
        ? `${fmt(h.memoryMB?.rss)}, ${h.load?.requests?.active ?? '–'} / ${h.load?.requests?.waiting ?? '–'}, ${h.load?.state ?? '–'}`
        : 'no answer during the flood';
    }),
  ];
}

/** The reading, generated from the figures so it stays true when they change. */
function reading(
  runs: FloodRun[],
  figures: Figures,
  chosen: Candidate,
  vectorIndex: string,
  { queryLimits, backpressure }: Pick<Config, 'queryLimits' | 'backpressure'>,
): string[] {
  const { m, worstRss, shedReasons, cheapFailures } = figures;
  const memoryShed = shedReasons.memory ?? 0;
  const seenRuns = runs.filter((r) => r.healthAnsweredDuringFlood > 0);
  const maxWaitingAll = seenRuns.length ? Math.max(...seenRuns.map((r) => r.maxWaiting)) : Number.NaN;
  const maxActiveAll = seenRuns.length ? Math.max(...seenRuns.map((r) => r.maxActive)) : Number.NaN;
  /** What each refusal reason means, with the limits this run had. */
  const reasonLimit: Record<string, string> = {
    concurrency:
      `${backpressure.maxQueued} already waiting (MAX_QUEUED_REQUESTS) or QUEUE_TIMEOUT_MS (${backpressure.queueTimeoutMs} ms) ` +
      `without one of the ${backpressure.maxConcurrent} request slots (MAX_CONCURRENT_REQUESTS)`,
    heavy:
      `cost ≥ HEAVY_COST (${queryLimits.heavyCost}) with ${queryLimits.maxHeavy} heavy operations running ` +
      `(MAX_HEAVY_REQUESTS) and ${queryLimits.maxHeavy * 2} waiting, or QUEUE_TIMEOUT_MS of waiting`,
    memory: `RSS over MEMORY_SOFT_LIMIT_MB (${backpressure.memorySoftLimitMB})`,
  };
  const reasons = Object.entries(shedReasons).sort((a, b) => b[1] - a[1]);
  const loopExhausted = m.eventLoopMaxMs >= 1_000;
  return [
    '- **What sheds the load**: ' +
      (reasons.length
        ? `${reasons.map(([k, v]) => `${fmt(v)} flood requests refused with reason \`${k}\` (${reasonLimit[k] ?? 'see README, Backpressure'})`).join('; ')} ` +
          `over ${RUNS} run${RUNS > 1 ? 's' : ''}, ${fmt(m.shedPct, 1)} % of the flood's answers (median).`
        : `nothing was refused over ${RUNS} run${RUNS > 1 ? 's' : ''}.`) +
      (seenRuns.length
        ? ` /health, when it answered during the flood, showed at most ${maxActiveAll} requests running and ${maxWaitingAll} waiting for a request slot.`
        : ' /health never answered during the flood, so the limiter itself was not seen.') +
      (memoryShed ? '' : ` The memory watchdog never shed (peak RSS ${fmt(worstRss, 1)} MB).`),
    `- **Memory**: ${fmt(m.idleRssMB)} MB idle, ${fmt(m.peakRssMB, 1)} MB at the peak (worst run ${fmt(worstRss, 1)} MB), ` +
      (worstRss < RSS_TARGET_MB
        ? `under the ${RSS_TARGET_MB} MB target`
        : `over the ${RSS_TARGET_MB} MB target by ${fmt(worstRss - RSS_TARGET_MB, 1)} MB in the worst run`) +
      `. At most ${backpressure.maxConcurrent} requests run at once, ${queryLimits.maxHeavy} of them heavy, whatever the number of connections.`,
    `- **The cheap query** shares the request slots and the event loop with the flood: ${fmt(m.cheapSuccessPct, 1)} % answered (median; those in ${fmt(m.cheapP50Ms)} ms at p50), ` +
      `p99 ${fmt(m.cheapP99AllMs)} ms counting every request (a timeout at ${CHEAP_TIMEOUT_MS / 1000} s) against ${fmt(m.baselineP99AllMs, 1)} ms alone (${fmt(m.cheapP99Ratio, 1)}×)` +
      (Object.keys(cheapFailures).length
        ? `; the others got ${Object.entries(cheapFailures)
            .map(([k, v]) => `${v} × ${k}`)
            .join(', ')}.`
        : '.'),
    `- **CPU and the event loop**: the server used ${fmt(m.serverCpuPct)} % of a core and PostgreSQL ${fmt(m.pgCpuPct)} % ` +
      `(the load generator ${fmt(m.loadGeneratorCpuPct)} %), for ${fmt(m.floodOkPerSec, 1)} flood queries answered per second and ` +
      `${fmt(m.floodReqPerSec - m.floodOkPerSec)} refused per second. The loop's delay reached ${fmt(m.eventLoopMaxMs)} ms (p99 ${fmt(m.eventLoopP99Ms)} ms), ` +
      `and /health answered within ${HEALTH_CHECK_MS / 1000} s in ${fmt(m.healthWithinCheckPct)} % of the polls (median ${fmt(m.healthP50Ms)} ms)` +
      (loopExhausted
        ? ': the loop is what the flood exhausts' +
          (chosen.query.includes('similar') && vectorIndex === 'memory'
            ? ' (`similar` is an exact scan of every vector, in process, on that loop).'
            : '.')
        : '.'),
  ];
}

/** Writes the JSON results and the flood section of docs/BENCHMARKS.md. */
async function writeResults(when: string, result: object, summary: string): Promise<void> {
  const resultsDir = new URL('./results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(new URL(`flood-${when.replace(/[:.]/g, '-')}.json`, resultsDir), json);
  await writeFile(new URL('flood-latest.json', resultsDir), json);
  const docUrl = new URL('../docs/BENCHMARKS.md', import.meta.url);
  const doc = await readFile(docUrl, 'utf8');
  const marked = /^<!-- bench-flood:start -->$[\s\S]*?^<!-- bench-flood:end -->$/m;
  const section = `<!-- bench-flood:start -->\n${summary}\n<!-- bench-flood:end -->`;
  await writeFile(
    docUrl,
    marked.test(doc)
      ? doc.replace(marked, () => section)
      : `${doc.trimEnd()}\n\n## Flood (backpressure)\n\n${section}\n`,
  );
}

async function main() {
  const started = Date.now();
  say('npm run build (dist/)…');
  buildProduction();
  const { embedded, model, embeddingType, pgVersion } = await prepareDatabase();

  // What the gateway will run with: the same loadConfig() on the same environment.
  const config = loadConfig({
    ...productionEnv(scratch.url, JWT_SECRET, { port: 8080, metricsPort: 9091 }),
    ...gatewayOverrides,
  });
  if (config.ml.modelPath) throw new Error('MODEL_PATH must be unset for this benchmark');
  const { queryLimits, backpressure } = config;
  const vectorIndex =
    config.ml.vectorIndex === 'memory' || (config.ml.vectorIndex === 'auto' && embeddingType !== 'vector')
      ? 'memory'
      : 'pgvector';

  const { probed, chosen } = await chooseFloodQuery(queryLimits);
  const runs: FloodRun[] = [];
  for (let i = 1; i <= RUNS; i++) runs.push(await floodRun(i, chosen));

  const figures = summariseRuns(runs);
  const { m, worstRss, worstCheap, shedReasons, cheapFailures, checks } = figures;
  const ratioLine =
    `cheap query p99 during the flood ${fmt(m.cheapP99AllMs)} ms = ${fmt(m.cheapP99Ratio, 1)}× its baseline p99 ` +
    `(${fmt(m.baselineP99AllMs, 1)} ms alone at ${BASELINE_RATE} req/s); every request counted, a failure at the time it took, ` +
    `a timeout at ${CHEAP_TIMEOUT_MS / 1000} s; medians of ${RUNS}`;

  const when = new Date().toISOString();
  const cpuModel = cpus()[0]?.model.trim() ?? '?';
  const table = figuresTable(runs, m);
  const summary = [
    '`npm run bench:flood` (bench/flood.ts; `-- --quick`, `--runs N`, `--duration S`, `--connections N`, ' +
      '`--env KEY=VALUE` for the gateway) rewrites this part; the JSON is in `bench/results/flood-latest.json`.',
    '',
    `Run ${when}${flags.quick ? ' (--quick)' : ''}: ${fmt(sizes.restaurants)} restaurants / ${fmt(sizes.users)} users / ${fmt(sizes.orders)} orders, ` +
      `embedded with the offline encoder (no model loaded; ${vectorIndex === 'memory' ? 'in-process vector index' : 'pgvector index'}); ${RUNS} run${RUNS > 1 ? 's' : ''}, each on a fresh compiled gateway (NODE_ENV=production): ` +
      `${BASELINE_S} s of baseline, then ${CONNECTIONS} connections for ${DURATION} s with the cheap query at ${CHEAP_RATE} req/s alongside ` +
      `(from 1 s in to 1 s before the end; each given ${CHEAP_TIMEOUT_MS / 1000} s); ${cpus().length} × ${cpuModel}, Node ${process.version}, PostgreSQL ${pgVersion}.`,
    '',
    `Limits: MAX_CONCURRENT_REQUESTS ${backpressure.maxConcurrent}, MAX_QUEUED_REQUESTS ${backpressure.maxQueued}, ` +
      `QUEUE_TIMEOUT_MS ${backpressure.queueTimeoutMs}, MEMORY_SOFT_LIMIT_MB ${backpressure.memorySoftLimitMB}, ` +
      `MAX_COST ${queryLimits.maxCost}, HEAVY_COST ${queryLimits.heavyCost}, MAX_HEAVY_REQUESTS ${queryLimits.maxHeavy}, ` +
      `DB_POOL_MAX ${config.db.poolMax}` +
      (Object.keys(gatewayOverrides).length ? ` (--env ${JSON.stringify(gatewayOverrides)})` : '') +
      '.',
    '',
    `Flood query: the candidate with the most server CPU per request (sent one at a time, ${PROBE_S} s or 3 requests at least; ` +
      `each priced by src/http/cost.ts and checked: 200, no errors): **${chosen.name}**, cost ${chosen.cost} of MAX_COST ${queryLimits.maxCost}:`,
    '',
    '```graphql',
    chosen.query,
    '```',
    '',
    `| candidate | shape | cost | ms/request, one at a time | server CPU ms/request | PostgreSQL CPU ms/request | response bytes | at ${PROBE_CONNECTIONS} connections for ${PROBE_S} s |`,
    '|---|---|---:|---:|---:|---:|---:|---|',
    ...probed.map(
      (p) =>
        `| ${p.name}${p === chosen ? ' (chosen)' : ''} | \`${p.shape}\` | ${p.cost} | ` +
        `${fmt(p.sequentialMsPerReq)}${p.excluded ? ` (excluded: ${p.excluded.slice(0, 160)})` : ''} | ` +
        `${fmt(p.serverCpuMsPerReq, 1)} | ${fmt(p.pgCpuMsPerReq, 1)} | ${fmt(p.bytes)} | ` +
        `${p.concurrency?.replace(/^at \d+ connections for \d+ s: /, '') ?? '–'} |`,
    ),
    '',
    `Cheap query: \`${CHEAP_QUERY}\`.`,
    '',
    ...table,
    '',
    ...reading(runs, figures, chosen, vectorIndex, config),
    '',
    ...checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'} ${c.name}`),
    `- ${ratioLine}`,
  ].join('\n');
  process.stdout.write(`\n${summary}\n`);

  const result = {
    when,
    quick: flags.quick,
    sizes,
    embedded,
    model,
    vectorIndex,
    options: {
      runs: RUNS,
      duration: DURATION,
      connections: CONNECTIONS,
      baselineSeconds: BASELINE_S,
      baselineRate: BASELINE_RATE,
      cheapRate: CHEAP_RATE,
      probeSeconds: PROBE_S,
      gatewayOverrides,
    },
    machine: { cpus: cpus().length, cpuModel, node: process.version, postgres: pgVersion },
    config: { queryLimits, backpressure, db: config.db, http: config.http, production: config.production },
    cheapQuery: CHEAP_QUERY,
    candidates: probed,
    chosen: { name: chosen.name, cost: chosen.cost, query: chosen.query },
    medians: m,
    worst: { peakRssMB: worstRss, cheapSuccessPct: worstCheap },
    shedReasons,
    cheapFailures,
    runs,
    checks,
    cheapP99Ratio: m.cheapP99Ratio,
  };
  await writeResults(when, result, summary);
  say(`done in ${Math.round((Date.now() - started) / 1000)} s`);
  if (checks.some((c) => !c.pass)) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  if (!wasInterrupted()) say(`flood bench failed: ${(error as Error).stack ?? (error as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
