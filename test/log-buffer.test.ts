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
function run(
  script: string,
  until: (out: string, err: string) => boolean,
): Promise<{ out: string; err: string; chunks: string[] }> {
  const source = `import { createLogger } from './src/observability/logger.ts';\n${script}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no expected output in time: ${JSON.stringify(chunks)} ${err}`));
    }, 20_000);
    const done = () => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ out: chunks.join(''), err, chunks });
    };
    const check = () => until(chunks.join(''), err) && done();
    child.stdout!.on('data', (d: Buffer) => {
      chunks.push(d.toString());
      check();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      check();
    });
    child.once('exit', () => setImmediate(check));
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
      (o: string) => o.includes('line 2'),
    );
    expect(messages(out)).toEqual(['line 0', 'line 1', 'line 2']);
  });

  it('writes everything before a warning at once, in order, while the process stays up', async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\n" +
        // Then the event loop never turns again: no timer can flush, only the warning's own write.
        "log.info('before');\nlog.warn('the warning');\nfor (;;) {}",
      (o: string) => o.includes('the warning'),
    );
    expect(messages(out)).toEqual(['before', 'the warning']);
  });

  it('writes an idle process’s lines without a warning or an exit (the periodic flush)', async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 4096);\nlog.info('alone');\nsetInterval(() => {}, 1000);",
      (o: string) => o.includes('alone'),
    );
    expect(messages(out)).toEqual(['alone']);
  });

  it('writes whole lines, many to a write(2), under load', async () => {
    // The child counts its own writes to fd 1 (sonic-boom calls fs.write for each; the periodic flush's empty ones left out) and reports them on stderr.
    const { out, err } = await run(
      "import fs from 'node:fs';\n" +
        'let writes = 0; let whole = true; const write = fs.write;\n' +
        "fs.write = function (fd, data, ...rest) { if (fd === 1 && String(data).length > 0) { writes++; if (!String(data).endsWith('\\n')) whole = false; } return write.call(this, fd, data, ...rest); };\n" +
        "const log = createLogger('info', undefined, 'json', 4096);\n" +
        "for (let i = 0; i < 500; i++) log.info({ i, pad: 'x'.repeat(100) }, 'request');\nlog.warn('end');\n" +
        "setTimeout(() => process.stderr.write(JSON.stringify({ writes, whole }) + '\\n'), 1000);\nsetInterval(() => {}, 1000);",
      (o, e) => o.includes('"end"') && e.includes('writes'),
    );
    expect(messages(out)).toHaveLength(501);
    const { writes, whole } = JSON.parse(err.trim().split('\n').at(-1)!) as { writes: number; whole: boolean };
    expect(whole).toBe(true);
    // ~190-byte lines, 4 KB at a time: a write per ~20 lines, not one each.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(60);
  });

  it("0: pino's own stdout destination, every line written", async () => {
    const { out } = await run(
      "const log = createLogger('info', undefined, 'json', 0);\n" +
        "for (let i = 0; i < 5; i++) log.info('line ' + i);\nsetInterval(() => {}, 1000);",
      (o: string) => o.includes('line 4'),
    );
    expect(messages(out)).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
  });
});
