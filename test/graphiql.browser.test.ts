/**
 * GraphiQL in a real browser (Debian's chromium through playwright-core), against the real
 * `npm start` default (embedded PostgreSQL, demo data): the page loads with no request to any
 * other host (no CDN, fonts or telemetry), the default tab runs with the run button and shows
 * results. A screenshot goes to test/artifacts/ (ignored by git).
 */
import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProcess, startGateway } from './helpers/gateway-process.ts';
import { requireProgram } from './helpers/programs.ts';

const CHROMIUM = '/usr/bin/chromium';

describe.runIf(requireProgram('chromium'))('GraphiQL in Chromium, offline', () => {
  let dataDir: string;
  let server: GatewayProcess;
  let base: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tastematch-graphiql-'));
    // No DATABASE_URL: the embedded default, seeded with demo data before it listens.
    server = await startGateway({ DATA_DIR: dataDir }, { timeoutMs: 150_000 });
    base = server.base;
  }, 160_000);

  afterAll(async () => {
    await server?.stop();
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
      // The signed-in tabs start with the demo token the banner printed.
      const token = /Demo token: (\S+)/.exec(server.output())?.[1];
      expect(token).toBeTruthy();
      expect(await response!.text()).toContain(`Bearer ${token}`);
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
