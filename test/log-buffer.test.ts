/**
 * LOG_BUFFER_BYTES: the process logger's JSON lines on stdout go out in chunks. A real child
 * process logs and its stdout is read: nothing is lost at exit, a warning writes what came before
 * it at once and in order, an idle process's lines still go out (the periodic flush), and no write
 * splits a line.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** Runs `script` (ESM, with `createLogger` imported) in a child and collects its stdout writes. */
function run(script: string, until: (out: string) => boolean): Promise<{ out: string; chunks: string[] }> {
  const source = `import { createLogger } from './src/observability/logger.ts';\n${script}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const chunks: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no expected output in time: ${JSON.stringify(chunks)}`));
    }, 20_000);
    const done = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ out: chunks.join(''), chunks });
    };
    child.stdout!.on('data', (d: Buffer) => {
      chunks.push(d.toString());
      if (until(chunks.join(''))) done();
    });
    child.once('exit', () => setImmediate(() => (until(chunks.join('')) ? done() : undefined)));
  });
}

const messages = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { msg: string }).msg);

describe('buffered log lines (LOG_BUFFER_BYTES)', () => {
  it('writes the buffered lines when the process exits', async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\n" +
        "for (let i = 0; i < 3; i++) log.info('line ' + i);\nprocess.exit(0);",
      (o) => o.includes('line 2'),
    );
    expect(messages(out)).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('writes everything before a warning at once, in order, while the process stays up', async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\n" +
        // Then the event loop never turns again: no timer can flush, only the warning's own write.
        "log.info('before');\nlog.warn('the warning');\nfor (;;) {}",
      (o) => o.includes('the warning'),
    );
    expect(messages(out)).toEqual(['before', 'the warning']);
  });

  it('writes an idle process’s lines without a warning or an exit (the periodic flush)', async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\nlog.info('alone');\nsetInterval(() => {}, 1000);",
      (o) => o.includes('alone'),
    );
    expect(messages(out)).toEqual(['alone']);
  });

  it('writes whole lines in chunks of several under load', async () => {
    const { out, chunks } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\n" +
        "for (let i = 0; i < 500; i++) log.info({ i, pad: 'x'.repeat(100) }, 'request');\nlog.warn('end');\nfor (;;) {}",
      (o) => o.includes('"end"'),
    );
    expect(messages(out)).toHaveLength(501);
    // Every chunk ends at a line's end, and they are fewer than the lines.
    for (const c of chunks) expect(c.endsWith('\n')).toBe(true);
    expect(chunks.length).toBeLessThan(100);
  });

  it("0: pino's own stdout destination, every line written", async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 0);\n" +
        "for (let i = 0; i < 5; i++) log.info('line ' + i);\nsetInterval(() => {}, 1000);",
      (o) => o.includes('line 4'),
    );
    expect(messages(out)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });
});
