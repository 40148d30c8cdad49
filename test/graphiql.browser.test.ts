/**
 * GraphiQL in a real browser (Debian's chromium through playwright-core), against the real
 * `npm start` default (embedded PostgreSQL, demo data): the page loads with no request to any
 * other host (no CDN, fonts or telemetry), the default tab runs with the run button and shows
 * results. A screenshot goes to test/artifacts/ (ignored by git).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/db/embedded.ts';
import { requireProgram } from './helpers/programs.ts';

const CHROMIUM = '/usr/bin/chromium';
const root = new URL('..', import.meta.url).pathname;

describe.runIf(requireProgram('chromium'))('GraphiQL in Chromium, offline', () => {
  let dataDir: string;
  let server: ChildProcess;
  let base: string;
  let out = '';

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tastematch-graphiql-'));
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    };
    delete env.DATABASE_URL;
    delete env.NODE_ENV;
    server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env });
    server.stdout!.on('data', (d) => (out += d));
    server.stderr!.on('data', (d) => (out += d));
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 1200 && !/GraphiQL:/.test(out); i++) {
      if (server.exitCode !== null) throw new Error(`server exited early:\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!/GraphiQL:/.test(out)) throw new Error(`server did not start:\n${out}`);
  }, 150_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('loads from the gateway alone, runs the default tab and shows results', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--disable-background-networking', '--no-sandbox', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const requested: string[] = [];
      page.on('request', (r) => requested.push(r.url()));
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));

      const response = await page.goto(`${base}/graphql`, { waitUntil: 'load', timeout: 60_000 });
      expect(response?.status()).toBe(200);
      const run = page.locator('.graphiql-execute-button');
      await run.waitFor({ timeout: 60_000 });
      // The welcome tab explains the token.
      await page.waitForFunction(
        () => document.querySelector('.graphiql-editor')?.textContent?.includes('Authorization'),
        null,
        { timeout: 30_000 },
      );
      await run.click();
      await page.waitForFunction(
        () => document.querySelector('.graphiql-response')?.textContent?.includes('"totalCount"'),
        null,
        { timeout: 30_000 },
      );
      const text = (await page.locator('.graphiql-response').textContent()) ?? '';
      expect(text).toContain('"cuisineType"');
      expect(text).not.toContain('"errors"');

      mkdirSync(new URL('./artifacts/', import.meta.url), { recursive: true });
      await page.screenshot({ path: new URL('./artifacts/graphiql.png', import.meta.url).pathname, fullPage: true });

      const own = new URL(base).host;
      const foreign = requested.filter((u) => {
        const url = new URL(u);
        return !['blob:', 'data:'].includes(url.protocol) && url.host !== own;
      });
      expect(foreign).toEqual([]);
      expect(requested.some((u) => u.startsWith(`${base}/graphql`))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
