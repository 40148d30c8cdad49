/**
 * Log format: readable lines (pino-pretty) on a terminal in development, JSON lines otherwise
 * (production, or stdout not a TTY), and JSON when pino-pretty is not installed (a production
 * image without devDependencies). The terminal is a real pseudo-terminal (`script -qc`).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { logFormat } from '../../src/observability/logger.ts';
import { requireProgram } from '../helpers/programs.ts';

const root = new URL('../..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tastematch-logs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Logs one line the way src/server.ts decides its format. */
const program = (logger: string) => `
import { createLogger, logFormat } from ${JSON.stringify(logger)};
const production = process.env.NODE_ENV === 'production';
const log = createLogger('info', undefined, logFormat({ production, isTTY: process.stdout.isTTY === true }));
log.info({ answer: 42 }, 'hello from the logger');
`;

function writeProgram(dir: string, logger: string): string {
  const file = join(dir, `log-once-${Math.random().toString(36).slice(2)}.ts`);
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  writeFileSync(file, program(logger));
  return file;
}

/** Runs the program with stdout on a pseudo-terminal (tty) or a pipe. */
function run(file: string, env: Record<string, string>, tty: boolean): string {
  const node = `${process.execPath} --import tsx ${file}`;
  const r = tty
    ? spawnSync('script', ['-qec', node, '/dev/null'], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' })
    : spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: root,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const isJsonLine = (out: string) => {
  const line = out.trim().split(/\r?\n/).at(-1) ?? '';
  try {
    return (JSON.parse(line) as { msg?: string; answer?: number }).msg === 'hello from the logger';
  } catch {
    return false;
  }
};

describe('the decision', () => {
  it('pretty only for development on a TTY', () => {
    expect(logFormat({ production: false, isTTY: true })).toBe('pretty');
    expect(logFormat({ production: false, isTTY: false })).toBe('json');
    expect(logFormat({ production: true, isTTY: true })).toBe('json');
    expect(logFormat({ production: true, isTTY: false })).toBe('json');
  });
});

describe.runIf(requireProgram('script'))('a real process', () => {
  const file = writeProgram(tmp, join(root, 'src/observability/logger.ts'));

  it('development on a terminal: readable lines, not JSON', () => {
    // Colours off for matching (NO_COLOR, which pino-pretty's colours follow).
    const out = run(file, { NODE_ENV: 'development', NO_COLOR: '1' }, true);
    expect(out).toContain('hello from the logger');
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: hello from the logger/m);
    expect(out).toMatch(/answer: 42/);
    expect(isJsonLine(out)).toBe(false);
  });

  it('development into a pipe: JSON lines', () => {
    expect(isJsonLine(run(file, { NODE_ENV: 'development' }, false))).toBe(true);
  });

  it('production on a terminal: JSON lines', () => {
    expect(isJsonLine(run(file, { NODE_ENV: 'production' }, true))).toBe(true);
  });

  it('development on a terminal without pino-pretty installed: JSON lines', () => {
    // The logger in a directory whose node_modules has pino and not pino-pretty.
    const dir = join(tmp, 'no-dev-deps');
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    symlinkSync(join(root, 'node_modules/pino'), join(dir, 'node_modules/pino'));
    cpSync(join(root, 'src/observability/logger.ts'), join(dir, 'logger.ts'));
    const bare = writeProgram(dir, join(dir, 'logger.ts'));
    const out = run(bare, { NODE_ENV: 'development' }, true);
    expect(isJsonLine(out)).toBe(true);
  });
});
