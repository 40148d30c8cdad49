/**
 * `npm run bench:profile`: where the production gateway spends its CPU under one query's load.
 *
 * 1. `npm run build`, a scratch database (tm_profile_<ms>, dropped at the end; bench/scratch-data.ts:
 *    dist/migrate.js, the seed, offline embeddings, VACUUM).
 * 2. The production gateway (bench/common.ts `startProductionGateway`: `node dist/server.js`, NODE_ENV=production,
 *    LOG_LEVEL info, METRICS_PORT, …) with `node --cpu-prof --cpu-prof-dir=<tmp>`, ready when /ready is 200.
 * 3. --warmup seconds of load, then --duration seconds of the chosen query (--query, Q1 by default) at
 *    --connections (10) with autocannon, then SIGTERM: the server drains and exits (process.exit(0)), and
 *    Node writes the .cpuprofile at exit (it does on process.exit too; a missing file fails the run).
 *    The warm-up is in the profile too: it cannot be cut out of a --cpu-prof profile; keep it short.
 * 4. Self time by layer, as % of the non-idle samples: packages (…/node_modules/<pkg> or @scope/pkg),
 *    Node's internals (node:*), V8 builtins and natives (no url), GC, (program), and our code by its top
 *    folder of dist/ (dist/http, dist/db, dist/schema, …; top-level files by name). (idle) is shown but is
 *    not in the denominator. A second column charges the runtime's samples (node:*, V8 builtins, GC,
 *    (program)) to the nearest calling package or dist/ folder, when the stack has one: who made the work.
 *    Also the functions with the most self time.
 *    Printed as tables and written to bench/results/profile-<label>.json (--label, default the query and
 *    the git commit), so docs can set a before and an after side by side.
 *
 * Flags: --query Q1|Q2|Q1_5|Q2_5, --duration S (20), --warmup S (2), --connections N (10), --label NAME,
 * --quick (1,000 / 1,000 / 20,000 rows), --restaurants/--users/--orders N, --keep-profile (print the path
 * of the .cpuprofile and leave it, e.g. for Chrome DevTools), --from FILE.cpuprofile (only aggregate a profile
 * saved earlier, e.g. one kept with --keep-profile from another commit: no build, database or load).
 * BENCH_DATABASE_URL: admin URL.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createTokenService } from '../src/auth/jwt.ts';
import { buildProduction, cleanup, startProductionGateway, wasInterrupted } from './common.ts';
import { BENCH_QUERIES, type BenchQueryName, gatewayRequest } from './queries.ts';
import { prepareScratchData, sizesFromFlags, wholeNumberFlag } from './scratch-data.ts';

const { values: flags } = parseArgs({
  options: {
    query: { type: 'string', default: 'Q1' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    label: { type: 'string' },
    quick: { type: 'boolean', default: false },
    restaurants: { type: 'string' },
    users: { type: 'string' },
    orders: { type: 'string' },
    'keep-profile': { type: 'boolean', default: false },
    from: { type: 'string' },
  },
});
if (!(flags.query! in BENCH_QUERIES)) {
  throw new Error(`--query: one of ${Object.keys(BENCH_QUERIES).join(', ')}, got ${flags.query}`);
}
const queryName = flags.query as BenchQueryName;
const sizes = sizesFromFlags(flags);
const duration = wholeNumberFlag('duration', flags.duration, 20, 1);
const warmup = wholeNumberFlag('warmup', flags.warmup, 2, 0);
const connections = wholeNumberFlag('connections', flags.connections, 10, 1);
const JWT_SECRET = 'bench-profile-secret-bench-profile-secret-0123';
const say = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------
// The profile

type CallFrame = { functionName: string; url: string; lineNumber: number; columnNumber: number };
type ProfileNode = { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

const IDLE = '(idle)';
/** Layers that do work for whoever calls them: charged to the nearest caller outside them in `charged`. */
const RUNTIME = new Set(['node:* (Node internals)', '(V8 builtins / native)', 'GC', '(program)']);

/** The layer a frame's self time belongs to (see the header). */
export function layerOf(frame: Pick<CallFrame, 'functionName' | 'url'>): string {
  const { functionName, url } = frame;
  if (functionName === '(idle)') return IDLE;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(program)') return '(program)';
  if (functionName === '(root)') return '(root)';
  if (url.startsWith('node:')) return 'node:* (Node internals)';
  if (!url) return '(V8 builtins / native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const dist = path.lastIndexOf('/dist/');
  if (dist >= 0) {
    const parts = path.slice(dist + '/dist/'.length).split('/');
    return parts.length > 1 ? `dist/${parts[0]}` : `dist/${parts[0]}`;
  }
  return 'other';
}

type Row = { name: string; samples: number; pct: number };

/**
 * Self samples by layer and by function; percentages of the non-idle samples. `charged`: the same samples
 * with the runtime's (Node internals, V8 builtins, GC, (program)) moved to the nearest caller frame of a
 * package or of dist/ (GC and (program) have no caller: they stay).
 */
export function aggregate(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const chargedLayer = (id: number): string => {
    const own = layerOf(byId.get(id)!.callFrame);
    if (!RUNTIME.has(own)) return own;
    for (let p = parent.get(id); p !== undefined; p = parent.get(p)) {
      const layer = layerOf(byId.get(p)!.callFrame);
      if (!RUNTIME.has(layer) && layer !== '(root)') return layer;
    }
    return own;
  };
  const charged = new Map<string, number>();
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const [id, n] of hits) {
    const frame = byId.get(id)!.callFrame;
    const layer = layerOf(frame);
    total += n;
    if (layer === IDLE) {
      idle += n;
      continue;
    }
    layers.set(layer, (layers.get(layer) ?? 0) + n);
    const to = chargedLayer(id);
    charged.set(to, (charged.get(to) ?? 0) + n);
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const fn = `${frame.functionName || '(anonymous)'} ${where}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + n);
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>): Row[] =>
    [...m]
      .map(([name, samples]) => ({ name, samples, pct: busy ? (100 * samples) / busy : 0 }))
      .sort((a, b) => b.samples - a.samples || a.name.localeCompare(b.name));
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return {
    samples: total,
    idleSamples: idle,
    busySamples: busy,
    profileSeconds: seconds,
    sampleIntervalUs: total ? (profile.endTime - profile.startTime) / total : 0,
    layers: rows(layers),
    charged: rows(charged),
    topFunctions: rows(functions).slice(0, 25),
  };
}

const pct = (n: number) => `${n.toFixed(1).padStart(5)} %`;

type LoadFigures = { reqPerSec: number | null; p99Ms: number | null; failures: number };

async function main() {
  if (flags.from) {
    const profile = JSON.parse(readFileSync(flags.from, 'utf8')) as CpuProfile;
    if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) {
      throw new Error(`--from: ${flags.from} is not a .cpuprofile (no nodes and samples)`);
    }
    await report(aggregate(profile), { reqPerSec: null, p99Ms: null, failures: 0 }, `from ${flags.from}`);
    return;
  }
  say('npm run build…');
  buildProduction();
  const data = await prepareScratchData('tm_profile', sizes);
  const dir = mkdtempSync(join(tmpdir(), 'tm-cpu-prof-'));
  const gateway = await startProductionGateway(data.scratch.url, JWT_SECRET, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  });
  const token = await createTokenService({ secret: JWT_SECRET, ttl: '2h', production: true }).sign(data.q2UserId);
  const request = gatewayRequest(gateway.url, queryName, token);
  const first = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
  const firstText = await first.text();
  if (first.status !== 200 || firstText.includes('"errors"')) {
    throw new Error(`${queryName}: HTTP ${first.status}: ${firstText.slice(0, 500)}`);
  }
  const load = async (seconds: number) =>
    autocannon({ ...request, method: 'POST', connections, duration: seconds, expectBody: firstText });
  if (warmup) {
    say(`warm-up: ${warmup} s…`);
    await load(warmup);
  }
  say(`${queryName}: ${duration} s at ${connections} connections under --cpu-prof…`);
  const r = await load(duration);
  const failures = r.non2xx + r.errors + r.timeouts + r.mismatches;
  say(`  ${r.requests.average.toFixed(0)} req/s, p99 ${r.latency.p99} ms${failures ? `, ${failures} FAILED` : ''}`);

  // SIGTERM: the server drains (nothing in flight now), closes, calls process.exit(0); Node then writes the
  // profile. 30 s before SIGKILL (which would lose it): SHUTDOWN_TIMEOUT_MS is 10 s.
  const { proc } = gateway;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the gateway wrote no .cpuprofile in ${dir} (exit ${proc.exitCode ?? proc.signalCode})`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const agg = aggregate(profile);
  if (flags['keep-profile']) say(`profile: ${join(dir, file)}`);
  else rmSync(dir, { recursive: true, force: true });
  await report(
    agg,
    { reqPerSec: r.requests.average, p99Ms: r.latency.p99, failures },
    `${connections} connections, ${warmup} s warm-up + ${duration} s; ${r.requests.average.toFixed(0)} req/s`,
  );
}

/** Prints the tables and writes bench/results/profile-<label>.json. */
async function report(agg: ReturnType<typeof aggregate>, load: LoadFigures, how: string) {
  let commit = '?';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const label = flags.label ?? `${queryName}-${commit}`;
  if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new Error(`--label: letters, digits, . _ - only, got ${label}`);
  const out = [
    `Profile ${label}: ${queryName}, ${how}; ${agg.busySamples} non-idle of ${agg.samples} samples ` +
      `(${(agg.sampleIntervalUs / 1000).toFixed(2)} ms each, ${agg.profileSeconds.toFixed(1)} s profiled).`,
    '',
    '| layer | self % of non-idle | samples | with the runtime it calls % |',
    '|---|---:|---:|---:|',
    ...[...new Set([...agg.layers, ...agg.charged].map((l) => l.name))]
      .map((name) => ({
        name,
        self: agg.layers.find((l) => l.name === name),
        charged: agg.charged.find((l) => l.name === name),
      }))
      .sort(
        (a, b) =>
          (b.charged?.samples ?? 0) - (a.charged?.samples ?? 0) || (b.self?.samples ?? 0) - (a.self?.samples ?? 0),
      )
      .map((l) => `| ${l.name} | ${pct(l.self?.pct ?? 0)} | ${l.self?.samples ?? 0} | ${pct(l.charged?.pct ?? 0)} |`),
    '',
    '| function (self) | % | samples |',
    '|---|---:|---:|',
    ...agg.topFunctions.map((f) => `| ${f.name.replaceAll('|', '\\|')} | ${pct(f.pct)} | ${f.samples} |`),
  ].join('\n');
  process.stdout.write(`\n${out}\n`);
  const result = {
    when: new Date().toISOString(),
    label,
    commit,
    query: queryName,
    sizes,
    connections,
    warmup,
    duration,
    ...load,
    source: flags.from ?? null,
    ...agg,
  };
  const resultsDir = new URL('./results/', import.meta.url);
  await mkdir(resultsDir, { recursive: true });
  const target = new URL(`profile-${label}.json`, resultsDir);
  await writeFile(target, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${target.pathname}`);
  if (load.failures) process.exitCode = 1;
}

main()
  .catch((error: Error) => {
    if (!wasInterrupted()) process.stderr.write(`bench:profile failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
