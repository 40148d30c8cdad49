/**
 * The deployment files (Dockerfile, .dockerignore, fly.toml) checked against each other and
 * against the repository, with no Docker engine and no network: stages and their bases, the
 * user, the health check, the heap limit, the model's pinned checksums, every COPY source
 * present and not ignored, ports, Fly's concurrency, checks, swap, VM size and release command.
 * What only a real build and deploy can show is listed in docs/deploying.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml, type TomlTableWithoutBigInt, type TomlValueWithoutBigInt } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/db/migrate.ts';
import { MANIFEST_PATH, RETIRED_MANIFEST_PATH } from '../src/http/persisted.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------------------------------------
// Dockerfile: instructions (continuations joined, comments dropped) grouped into stages.
// ---------------------------------------------------------------------------------------------

type Instruction = { keyword: string; args: string; line: number };
type Stage = { base: string; name: string | undefined; instructions: Instruction[] };

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    // Comment lines are dropped, also inside a continuation (as Docker does); so are parser directives.
    if (/^\s*#/.test(raw)) return;
    if (!pending) start = i + 1;
    if (raw.endsWith('\\')) {
      pending += `${raw.slice(0, -1)} `;
      return;
    }
    const whole = (pending + raw).trim();
    pending = '';
    if (!whole) return;
    const match = /^(\S+)\s*(.*)$/s.exec(whole)!;
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start });
  });
  expect(pending, 'the Dockerfile ends inside a continuation').toBe('');
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ base: words[0]!, name: as > 0 ? words[as + 1] : undefined, instructions: [] });
    } else {
      expect(stages.length, `line ${instruction.line}: ${instruction.keyword} before any FROM`).toBeGreaterThan(0);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

/** ENV/ARG `NAME=value …` pairs (the `ENV NAME value` legacy form is not used). */
function assignments(args: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const word of shellWords(args)) {
    const eq = word.indexOf('=');
    expect(eq, `"${word}" is not NAME=value`).toBeGreaterThan(0);
    pairs[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return pairs;
}
const envOf = (stage: Stage): Record<string, string> =>
  Object.assign({}, ...all(stage, 'ENV').map((i) => assignments(i.args)));
const argsOf = (stage: Stage): Record<string, string> =>
  Object.assign({}, ...all(stage, 'ARG').map((i) => assignments(i.args)));

/** The exec (JSON array) form; Docker silently falls back to a shell command when the JSON is invalid. */
function execForm(args: string): string[] {
  expect(args.startsWith('['), `not the exec form: ${args}`).toBe(true);
  const parsed: unknown = JSON.parse(args);
  expect(Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')).toBe(true);
  return parsed as string[];
}

type Copy = { from: string | undefined; sources: string[]; dest: string; stage: Stage; instruction: Instruction };
function copies(stage: Stage): Copy[] {
  return all(stage, 'COPY').map((instruction) => {
    const words = shellWords(instruction.args);
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((w) => !w.startsWith('--'));
    return { from, sources: paths.slice(0, -1), dest: paths.at(-1)!, stage, instruction };
  });
}

/** Where a COPY destination lands: relative ones under the stage's WORKDIR at that point. */
function workdirOf(stage: Stage, before?: Instruction): string {
  let dir = '/';
  for (const i of stage.instructions) {
    if (i === before) break;
    if (i.keyword === 'WORKDIR') dir = posix.resolve(dir, i.args);
  }
  return dir;
}
function destinationOf(copy: Copy, source: string): string {
  const dest = posix.resolve(workdirOf(copy.stage, copy.instruction), copy.dest);
  return copy.dest.endsWith('/') ? posix.join(dest, posix.basename(source)) : dest;
}

// ---------------------------------------------------------------------------------------------
// Shell-like word splitting: what Docker does to JSON-less COPY/ENV and flyctl (google/shlex)
// to release_command. Quotes, backslash escapes and whitespace; no expansion.
// ---------------------------------------------------------------------------------------------

function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      expect(end, `unterminated ' in ${text}`).toBeGreaterThan(i);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; text[i] !== '"'; i++) {
        expect(i < text.length, `unterminated " in ${text}`).toBe(true);
        if (text[i] === '\\' && i + 1 < text.length) i++;
        word += text[i];
      }
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

// ---------------------------------------------------------------------------------------------
// TOML: read with smol-toml; integers come as numbers (its default), as the assertions compare.
// ---------------------------------------------------------------------------------------------

type TomlValue = TomlValueWithoutBigInt;
type TomlTable = TomlTableWithoutBigInt;

/** Fly durations: "15s", "1m30s", "500ms", or a bare number of seconds (kill_timeout). */
function seconds(value: TomlValue | undefined): number {
  if (typeof value === 'number') return value;
  expect(typeof value, 'a duration').toBe('string');
  const parts = [...(value as string).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  expect(parts.map((p) => p[0]).join(''), `duration "${value}"`).toBe(value);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2]!]!, 0);
}

const table = (value: TomlValue | undefined, name: string): TomlTable => {
  expect(typeof value === 'object' && value !== null && !Array.isArray(value), `${name} is a table`).toBe(true);
  return value as TomlTable;
};
const tables = (value: TomlValue | undefined, name: string): TomlTable[] => {
  expect(Array.isArray(value), `${name} is an array of tables`).toBe(true);
  return (value as TomlValue[]).map((v, i) => table(v, `${name}[${i}]`));
};

// ---------------------------------------------------------------------------------------------
// .dockerignore: Docker's patterns (filepath.Match plus **), later lines win, `!` re-includes,
// a matched directory hides everything under it.
// ---------------------------------------------------------------------------------------------

function ignoredBy(dockerignore: string): (path: string) => boolean {
  const rules = dockerignore
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = posix.normalize((include ? l.slice(1) : l).trim()).replace(/^\/+/, '');
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) =>
          part === '**/' || part === '**'
            ? '(?:.*/)?'
            : part === '*'
              ? '[^/]*'
              : part === '?'
                ? '[^/]'
                : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'),
        )
        .join('');
      return { include, regex: new RegExp(`^${source}$`) };
    });
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (prefixes.some((p) => rule.regex.test(p))) ignored = !rule.include;
    return ignored;
  };
}

function filesUnder(path: string): string[] {
  if (!statSync(join(ROOT, path)).isDirectory()) return [path];
  return readdirSync(join(ROOT, path)).flatMap((entry) => filesUnder(posix.join(path, entry)));
}

// ---------------------------------------------------------------------------------------------

const stages = parseDockerfile(read('Dockerfile'));
const runtime = stages.at(-1)!;
const runtimeEnv = envOf(runtime);
const stageNamed = (name: string | undefined) => stages.find((s) => s.name === name);
const fly = parseToml(read('fly.toml'), { unsafeKeyBehaviour: 'throw' });
const flyEnv = table(fly.env, '[env]') as Record<string, string>;
const http = table(fly.http_service, '[http_service]');
const defaults = loadConfig({});

describe('Dockerfile', () => {
  it('is multi-stage, each stage named once, the runtime stage last', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const names = stages.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect(runtime.name).toBe('runtime');
  });

  it('runs on Node 26 (Active LTS), Debian slim: glibc for onnxruntime-node, no alpine', () => {
    const image = /^node:26-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/;
    expect(runtime.base).toMatch(image);
    for (const stage of stages.filter((s) => s.base.startsWith('node:'))) expect(stage.base).toBe(runtime.base);
    for (const stage of stages) expect(stage.base).not.toMatch(/alpine/);
  });

  it('runs as a non-root user', () => {
    const users = all(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.split(':')[0];
    expect(['root', '0']).not.toContain(user);
    const cmd = all(runtime, 'CMD').at(-1)!;
    expect(runtime.instructions.indexOf(users.at(-1)!)).toBeLessThan(runtime.instructions.indexOf(cmd));
  });

  it('starts dist/server.js, which the build compiles from src/server.ts', () => {
    expect(all(runtime, 'ENTRYPOINT')).toEqual([]); // the node image's entrypoint execs the command
    const argv = execForm(all(runtime, 'CMD').at(-1)!.args);
    // node, V8's heap flags that NODE_OPTIONS does not take (--initial-old-space-size), the server.
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe('dist/server.js');
    expect(argv.slice(1, -1)).toEqual(['--initial-old-space-size=64']);
    expect(existsSync(join(ROOT, 'src/server.ts'))).toBe(true);
    expect(JSON.parse(read('tsconfig.build.json')).compilerOptions.rootDir).toBe('src');
    const dist = copies(runtime).find((c) => c.sources.includes('/app/dist'))!;
    const build = stageNamed(dist.from)!;
    expect(all(build, 'RUN').some((r) => /\bnpm run build\b/.test(r.args))).toBe(true);
    expect(destinationOf(dist, '/app/dist')).toBe(posix.join(workdirOf(runtime), 'dist'));
  });

  it('installs production dependencies with npm ci --omit=dev, and those are what the runtime gets', () => {
    const modules = copies(runtime).find((c) => c.sources.includes('/app/node_modules'))!;
    const deps = stageNamed(modules.from)!;
    const install = all(deps, 'RUN').find((r) => /\bnpm ci\b/.test(r.args))!;
    expect(install.args).toMatch(/--omit=dev\b/);
    expect(destinationOf(modules, '/app/node_modules')).toBe(posix.join(workdirOf(runtime), 'node_modules'));
    // …and keeps this platform's onnxruntime binding when it drops the others.
    expect(install.args).toMatch(/test -f "\$ort\/linux\/\$arch\/onnxruntime_binding\.node"/);
  });

  it('checks its health with Node (the slim image has no curl) on GET /health', () => {
    const checks = all(runtime, 'HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const [options, command] = checks[0]!.args.split(/\bCMD\b/);
    expect(options).toMatch(/--interval=30s/);
    const argv = execForm(command!.trim());
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toMatch(/fetch\(.*['"`]\/health['"`]/);
    expect(argv.join(' ')).not.toMatch(/curl|wget/);
  });

  it('limits the V8 heap for a 1 GB machine: --max-old-space-size between 256 and 600 MB', () => {
    const heap = /--max-old-space-size=(\d+)/.exec(runtimeEnv.NODE_OPTIONS ?? '');
    expect(heap, 'NODE_OPTIONS=--max-old-space-size=…').not.toBeNull();
    expect(Number(heap![1])).toBeGreaterThanOrEqual(256);
    expect(Number(heap![1])).toBeLessThanOrEqual(600);
  });

  it('sets production, the port it exposes, and the watchdog of the memory budget', () => {
    expect(runtimeEnv).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0' });
    expect(all(runtime, 'EXPOSE').map((e) => e.args)).toEqual([runtimeEnv.PORT]);
    expect(Number(runtimeEnv.MEMORY_SOFT_LIMIT_MB)).toBe(defaults.backpressure.memorySoftLimitMB);
    expect(all(runtime, 'STOPSIGNAL').map((s) => s.args)).toEqual(['SIGTERM']);
  });

  it('fetches all-MiniLM-L6-v2 at a pinned revision and verifies it with sha256sum -c', () => {
    const modelCopy = copies(runtime).find((c) => c.sources.some((s) => s.startsWith('/models/')))!;
    const model = stageNamed(modelCopy.from)!;
    const args = argsOf(model);
    expect(args.MODEL_REVISION).toMatch(/^[0-9a-f]{40}$/);
    expect(args.MODEL_SHA256).toMatch(/^[0-9a-f]{64}$/);
    // The vocabulary is the one src/ml/assets/vocab.txt holds, copied unchanged.
    const vocab = createHash('sha256')
      .update(readFileSync(join(ROOT, 'src/ml/assets/vocab.txt')))
      .digest('hex');
    expect(args.VOCAB_SHA256).toBe(vocab);
    const fetch = all(model, 'RUN').find((r) => r.args.includes('huggingface.co'))!;
    expect(fetch.args).toMatch(/\/resolve\/\$\{MODEL_REVISION\}["/]/);
    expect(fetch.args).not.toMatch(/\/resolve\/main\b/);
    expect(fetch.args).toMatch(/onnx\/model\.onnx/);
    expect(fetch.args).toMatch(/vocab\.txt/);
    expect(fetch.args).toMatch(/sha256sum -c\b/);
    for (const name of ['MODEL_SHA256', 'VOCAB_SHA256']) expect(fetch.args).toContain(`$${name}`);
    // The runtime's MODEL_PATH is the directory the model stage filled (model.onnx + vocab.txt).
    expect(destinationOf(modelCopy, modelCopy.sources[0]!)).toBe(runtimeEnv.MODEL_PATH);
    expect(workdirOf(model)).toBe(modelCopy.sources[0]);
  });

  it.each([
    ['clients/persisted-operations.json', MANIFEST_PATH],
    ['clients/persisted-operations.retired.json', RETIRED_MANIFEST_PATH],
  ])('puts %s where src/http/persisted.ts resolves it from dist/http/', (file, path) => {
    // The path is resolved from src/http/; compiled, the same relative path starts at dist/http/.
    const fromSrc = relative(join(ROOT, 'src'), path).split('\\').join('/');
    const inImage = posix.join(workdirOf(runtime), 'dist', fromSrc);
    const copy = copies(runtime).find((c) => c.sources.includes(file))!;
    expect(destinationOf(copy, file)).toBe(inImage);
  });

  it('builds the vocabulary and the migrator into dist (npm run build copies src/ml/assets)', () => {
    const build = stages.find((s) => all(s, 'RUN').some((r) => /\bnpm run build\b/.test(r.args)))!;
    const run = all(build, 'RUN').find((r) => /\bnpm run build\b/.test(r.args))!.args;
    expect(run).toMatch(/test -f dist\/ml\/assets\/vocab\.txt/);
    expect(run).toMatch(/test -f dist\/migrate\.js/);
    expect(read('scripts/copy-migrations.mjs')).toMatch(/'ml\/assets'/);
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = ignoredBy(read('.dockerignore'));
    const sources = stages.flatMap((s) => copies(s).filter((c) => !c.from)).flatMap((c) => c.sources);
    expect(sources).toEqual(
      expect.arrayContaining([
        'package-lock.json',
        '.npmrc',
        'src',
        'clients/persisted-operations.json',
        'clients/persisted-operations.retired.json',
      ]),
    );
    for (const source of sources) {
      expect(existsSync(join(ROOT, source)), `${source} exists`).toBe(true);
      for (const file of filesUnder(source)) expect(ignored(file), `${file} is .dockerignored`).toBe(false);
    }
  });
});

describe('.dockerignore', () => {
  it('keeps local installs, state, results, artefacts and secrets out of the context', () => {
    const ignored = ignoredBy(read('.dockerignore'));
    for (const path of [
      'node_modules/graphql/package.json',
      '.data/pg/PG_VERSION',
      'dist/server.js',
      'dist-bench/run.js',
      'bench/results/latest.json',
      'tmp/ci-embedded.json',
      'test/artifacts/graphiql.png',
      '.git/HEAD',
      '.env',
      '.env.production',
    ])
      expect(ignored(path), path).toBe(true);
    expect(ignored('src/ml/assets/vocab.txt')).toBe(false);
  });
});

describe('fly.toml', () => {
  it('names the app and the original region', () => {
    expect(fly.app).toBe('tastematch-gateway');
    expect(fly.primary_region).toBe('gru');
    expect(table(fly.build, '[build]').dockerfile).toBe('Dockerfile');
  });

  it('limits concurrency by requests: soft 10, hard 15 = the gateway’s MAX_CONCURRENT_REQUESTS', () => {
    expect(table(http.concurrency, '[http_service.concurrency]')).toEqual({
      type: 'requests',
      soft_limit: 10,
      hard_limit: 15,
    });
    expect(defaults.backpressure.maxConcurrent).toBe(15);
  });

  it('gives the 1 GB shared-cpu-1x machine 512 MB of swap', () => {
    expect(fly.swap_size_mb).toBe(512);
    expect(tables(fly.vm, '[[vm]]')).toEqual([{ memory: '1gb', cpu_kind: 'shared', cpus: 1 }]);
  });

  it('routes on GET /health every 30 s; checks readiness on /ready', () => {
    const checks = tables(http.checks, '[[http_service.checks]]');
    const health = checks.find((c) => c.path === '/health')!;
    expect(health).toMatchObject({ method: 'GET' });
    expect(seconds(health.interval)).toBe(30);
    expect(seconds(health.timeout)).toBeLessThan(seconds(health.interval));
    expect(seconds(health.grace_period)).toBeGreaterThan(0);
    const ready = Object.values(table(fly.checks, '[checks]'))
      .map((c, i) => table(c, `[checks] #${i}`))
      .find((c) => c.path === '/ready')!;
    expect(ready).toMatchObject({ type: 'http', method: 'GET', port: http.internal_port });
  });

  it('stops with SIGTERM and waits longer than the gateway’s drain (SHUTDOWN_TIMEOUT_MS)', () => {
    expect(fly.kill_signal).toBe('SIGTERM');
    expect(seconds(fly.kill_timeout)).toBeGreaterThanOrEqual(10);
    expect(seconds(fly.kill_timeout) * 1000).toBeGreaterThan(defaults.shutdownTimeoutMs);
  });

  it('agrees with the image on ports: internal_port = PORT = EXPOSE; metrics on METRICS_PORT', () => {
    const port = Number(runtimeEnv.PORT);
    expect(http.internal_port).toBe(port);
    expect(Number(flyEnv.PORT)).toBe(port);
    expect(http.force_https).toBe(true);
    // Metrics on a port of their own (METRICS_PORT), not the public one.
    const metricsPort = Number(table(fly.env, '[env]').METRICS_PORT);
    expect(metricsPort).not.toBe(port);
    expect(table(fly.metrics, '[metrics]')).toEqual({ port: metricsPort, path: '/metrics' });
  });

  it('sets an environment the gateway accepts, behind Fly’s proxy', () => {
    expect(Object.values(flyEnv).every((v) => typeof v === 'string')).toBe(true);
    const config = loadConfig({
      ...runtimeEnv,
      ...flyEnv,
      DATABASE_URL: 'postgres://gateway@db.internal:5432/tastematch',
      JWT_SECRET: 'x'.repeat(32),
    });
    expect(config.production).toBe(true);
    expect(config.clientIpHeader).toBe('Fly-Client-IP');
    expect(['allow', 'only']).toContain(config.persistedOperations);
    expect(config.backpressure.memorySoftLimitMB).toBe(700);
    expect(flyEnv.MEMORY_SOFT_LIMIT_MB).toBe(runtimeEnv.MEMORY_SOFT_LIMIT_MB);
    for (const secret of ['DATABASE_URL', 'JWT_SECRET', 'REDIS_URL']) expect(flyEnv).not.toHaveProperty(secret);
  });

  it('migrates in the release command with the compiled migrator, no tsx and no shell', () => {
    const deploy = table(fly.deploy, '[deploy]');
    expect(typeof deploy.release_command).toBe('string');
    const argv = shellWords(deploy.release_command as string);
    expect(argv).toEqual(['node', 'dist/migrate.js']);
    // tsconfig.build.json compiles src/ into dist/: dist/migrate.js is src/migrate.ts.
    const source = readFileSync(join(ROOT, 'src/migrate.ts'), 'utf8');
    expect(source).toMatch(/DATABASE_URL is not set/);
    expect(typeof migrate).toBe('function');
    expect(deploy.release_command).not.toMatch(/\btsx\b|npm run/);
  });
});
