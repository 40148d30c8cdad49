/**
 * The real gateway as a child process (`node --import tsx src/server.ts`) on a free port of
 * 127.0.0.1, for tests that need a real process: replicas, outages, PgBouncer, adoption.
 * Variables of this test process that would change its behaviour (REDIS_URL, MODEL_PATH,
 * OTLP endpoints, NODE_ENV) are not inherited unless given. Killed if the test process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../src/db/embedded.ts';

const root = new URL('../..', import.meta.url).pathname;

export type GatewayProcess = {
  base: string;
  child: ChildProcess;
  /** stdout and stderr so far */
  output(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves when it has exited */
  stop(): Promise<void>;
};

export async function startGateway(
  env: NodeJS.ProcessEnv,
  opts: {
    readyPath?: '/ready' | '/health';
    timeoutMs?: number;
    /** node options before the entry, e.g. the Dockerfile's `--max-old-space-size=448` */
    nodeArgs?: string[];
  } = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const k of [
    'REDIS_URL',
    'MODEL_PATH',
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'NODE_ENV',
    'DATABASE_URL',
  ]) {
    delete inherited[k];
  }
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...inherited, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  const base = `http://127.0.0.1:${port}`;
  const path = opts.readyPath ?? '/ready';
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the gateway exited at start-up (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(1_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the gateway did not answer ${path} in time:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
