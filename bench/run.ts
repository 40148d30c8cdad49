/**
 * `npm run bench`: the gateway against a deliberately naive resolver set, in one run,
 * on the machine's PostgreSQL. Not part of `npm test`.
 *
 * Seeds a scratch database (10,000 restaurants / 10,000 users / 200,000 orders), starts
 * each server as its own process behind a wire counter, and for each query measures
 * statements and row bytes per request (at the wire), requests/s and p99 at 10
 * connections (autocannon; medians of --runs), and peak RSS (VmHWM). Prints a table,
 * writes bench/results/<date>.json and latest.json, and refreshes docs/BENCHMARKS.md.
 *
 * The servers run as compiled JavaScript (tsconfig.bench.json → dist-bench/).
 *
 * Flags: --quick (1,000/1,000/20,000), --restaurants/--users/--orders N, --duration S (10),
 * --runs N (3), --warmup S (2). BENCH_DATABASE_URL: admin URL (default postgres@127.0.0.1:5432).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createTokenService } from '../src/auth/jwt.ts';
import { migrate } from '../src/db/migrate.ts';
import { DEMO_EMAIL, seedDatabase } from '../src/db/seed.ts';
import { startWireCounter, type WireCounter } from '../test/helpers/wire-counter.ts';

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
const num = (v: string | undefined, fallback: number) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${v}`);
  return n;
};
const sizes = {
  restaurants: num(flags.restaurants, flags.quick ? 1_000 : 10_000),
  users: num(flags.users, flags.quick ? 1_000 : 10_000),
  orders: num(flags.orders, flags.quick ? 20_000 : 200_000),
};
const duration = num(flags.duration, 10);
const runs = Math.max(1, num(flags.runs, 3));
const warmup = num(flags.warmup, 2);

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `tm_bench_${Date.now()}`;
const dbUrl = (() => {
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  return u.toString();
})();
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-0123';

const QUERIES = {
  Q1: { levels: 1, auth: false, query: '{ restaurants(first: 50) { edges { node { id name cuisineType rating } } } }' },
  Q2: {
    levels: 3,
    auth: true,
    query:
      '{ me { orders(first: 50) { edges { node { id orderDate totalAmount restaurant { name cuisineType } } } } } }',
  },
  Q2_5: {
    levels: 3,
    auth: true,
    query:
      '{ me { orders(first: 5) { edges { node { id orderDate totalAmount restaurant { name cuisineType } } } } } }',
  },
} as const;
type QueryName = keyof typeof QUERIES;
const LOADED: QueryName[] = ['Q1', 'Q2'];

const children = new Set<ChildProcess>();
const counters = new Set<WireCounter>();

async function admin(sql: string) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) c.kill('SIGKILL');
  for (const w of counters) await w.close().catch(() => {});
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
}
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

function readStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function startServer(kind: 'gateway' | 'naive', databaseUrl: string) {
  // Compiled JavaScript, as in production: tsx's loader thread alone adds ~50 MB of RSS.
  const child = spawn(process.execPath, ['dist-bench/bench/server-process.js', kind], {
    env: { ...process.env, BENCH_DB_URL: databaseUrl, JWT_SECRET, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind} did not start`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`${kind} exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

type Row = {
  server: 'gateway' | 'naive';
  query: QueryName;
  statements: number;
  rowBytes: number;
  rows: number;
  reqPerSec?: number;
  p99Ms?: number;
  non2xx?: number;
};

async function request(url: string, name: QueryName, token: string) {
  const q = QUERIES[name];
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (q.auth) headers.authorization = `Bearer ${token}`;
  return { url, method: 'POST' as const, headers, body: JSON.stringify({ query: q.query }) };
}

/**
 * Two processes per server: one behind the wire counter for statements and bytes, then
 * one connected directly for the load runs, so the counter's own CPU (it parses every
 * message, which costs the naive set's 52 round trips the most) is not in the timings.
 */
async function measure(kind: 'gateway' | 'naive', token: string) {
  const rows: Row[] = [];
  const wire = await startWireCounter(dbUrl);
  counters.add(wire);
  const counted = await startServer(kind, wire.url);
  try {
    for (const name of Object.keys(QUERIES) as QueryName[]) {
      const r = await request(counted.url, name, token);
      await fetch(r.url, r); // warm: connections open, plans cached
      await wire.settle();
      wire.reset();
      const response = (await (await fetch(r.url, r)).json()) as { errors?: unknown };
      await wire.settle();
      if (response.errors) throw new Error(`${kind} ${name}: ${JSON.stringify(response.errors)}`);
      rows.push({
        server: kind,
        query: name,
        statements: wire.statements.length,
        rowBytes: wire.rowBytes,
        rows: wire.rows,
      });
    }
  } finally {
    stopServer(counted.child);
    await wire.close();
    counters.delete(wire);
  }

  const loaded = await startServer(kind, dbUrl);
  let rssPeakSampled = 0;
  const sampler = setInterval(() => {
    rssPeakSampled = Math.max(rssPeakSampled, readStatus(loaded.child.pid!, 'VmRSS'));
  }, 100);
  try {
    for (const name of LOADED) {
      const row = rows.find((r) => r.query === name)!;
      const opts = { ...(await request(loaded.url, name, token)), connections: 10 };
      if (warmup) await autocannon({ ...opts, duration: warmup });
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await autocannon({ ...opts, duration }));
      row.reqPerSec = median(results.map((r) => r.requests.average));
      row.p99Ms = median(results.map((r) => r.latency.p99));
      row.non2xx = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
      process.stderr.write(`  ${kind} ${name}: ${row.reqPerSec.toFixed(0)} req/s, p99 ${row.p99Ms} ms\n`);
    }
    return { rows, peakRssMB: Math.max(readStatus(loaded.child.pid!, 'VmHWM'), rssPeakSampled) };
  } finally {
    clearInterval(sampler);
    stopServer(loaded.child);
  }
}

function stopServer(child: ChildProcess) {
  child.kill('SIGTERM');
  children.delete(child);
}

function fmt(n: number | undefined, digits = 0) {
  return n === undefined
    ? ''
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const started = Date.now();
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bench.json'], {
    stdio: 'inherit',
  });
  cpSync('src/db/migrations', 'dist-bench/src/db/migrations', { recursive: true });
  await admin(`CREATE DATABASE ${dbName}`);
  await migrate(dbUrl);
  process.stderr.write(`seeding ${sizes.restaurants} restaurants, ${sizes.users} users, ${sizes.orders} orders…\n`);
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
  const demo = (await c.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [DEMO_EMAIL])).rows[0];
  await c.end();
  if (!demo) throw new Error('seed has no demo user');
  const token = await createTokenService({ secret: JWT_SECRET, ttl: '2h', production: false }).sign(String(demo.id));

  process.stderr.write('gateway…\n');
  const gateway = await measure('gateway', token);
  process.stderr.write('naive…\n');
  const naive = await measure('naive', token);

  const table: string[] = [
    '| query | server | statements/request | row bytes/request | req/s (median) | p99 ms (median) |',
    '|---|---|---:|---:|---:|---:|',
  ];
  const ratios: string[] = [];
  const checks: { name: string; pass: boolean }[] = [];
  for (const name of Object.keys(QUERIES) as QueryName[]) {
    const g = gateway.rows.find((r) => r.query === name)!;
    const n = naive.rows.find((r) => r.query === name)!;
    for (const r of [g, n]) {
      table.push(
        `| ${name} | ${r.server} | ${r.statements} | ${fmt(r.rowBytes)} | ${fmt(r.reqPerSec)} | ${fmt(r.p99Ms, 1)} |`,
      );
    }
    const line = [
      `${name}: naive/gateway statements ${fmt(n.statements / g.statements, 1)}x, bytes ${fmt(n.rowBytes / g.rowBytes, 1)}x`,
    ];
    if (g.reqPerSec && n.reqPerSec) line.push(`gateway/naive req/s ${fmt(g.reqPerSec / n.reqPerSec, 1)}x`);
    ratios.push(line.join(', '));
    checks.push({
      name: `${name}: gateway statements per request = ${QUERIES[name].levels} levels (got ${g.statements})`,
      pass: g.statements === QUERIES[name].levels,
    });
    if (g.non2xx || n.non2xx) checks.push({ name: `${name}: no failed requests under load`, pass: false });
  }
  const q1 = gateway.rows.find((r) => r.query === 'Q1')!;
  const bytesPerRestaurant = q1.rowBytes / q1.rows;
  checks.push({
    name: `Q1: row bytes per restaurant < 100 (got ${fmt(bytesPerRestaurant, 1)})`,
    pass: bytesPerRestaurant < 100,
  });
  const g2 = gateway.rows.find((r) => r.query === 'Q2')!;
  const n2 = naive.rows.find((r) => r.query === 'Q2')!;
  const speedup = (g2.reqPerSec ?? 0) / (n2.reqPerSec ?? 1);
  checks.push({ name: `Q2: gateway >= 10x naive req/s (got ${fmt(speedup, 1)}x)`, pass: speedup >= 10 });
  table.push(
    '',
    `| peak RSS (MB) | gateway ${fmt(gateway.peakRssMB)} | naive ${fmt(naive.peakRssMB)} |`,
    '|---|---|---|',
  );

  const when = new Date().toISOString();
  const summary = [
    `Run ${when}: ${sizes.restaurants} restaurants / ${sizes.users} users / ${sizes.orders} orders, 10 connections, ${runs} × ${duration} s (medians), Node ${process.version}.`,
    '',
    ...table,
    '',
    ...ratios.map((r) => `- ${r}`),
    '',
    ...checks.map((c) => `- ${c.pass ? 'PASS' : 'FAIL'} ${c.name}`),
  ].join('\n');
  process.stdout.write(`\n${summary}\n`);

  const result = { when, sizes, duration, runs, gateway, naive, checks, bytesPerRestaurant };
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  await writeFile(new URL(`./results/${when.replace(/[:.]/g, '-')}.json`, import.meta.url), json);
  await writeFile(new URL('./results/latest.json', import.meta.url), json);
  const docUrl = new URL('../docs/BENCHMARKS.md', import.meta.url);
  const doc = await readFile(docUrl, 'utf8').catch(() => '');
  const marked = /<!-- bench:start -->[\s\S]*<!-- bench:end -->/;
  if (marked.test(doc)) {
    await writeFile(docUrl, doc.replace(marked, `<!-- bench:start -->\n${summary}\n<!-- bench:end -->`));
  }
  process.stderr.write(`done in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

main()
  .catch((error: Error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
