/**
 * `npm run pg:settings` on a private cluster: the 1 GB settings are applied with ALTER SYSTEM,
 * the two that need a restart say so, and after a restart SHOW reports every one.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_SETTINGS, readPostgresSettings } from '../src/db/pg-settings.ts';
import { type PrivateCluster, privateClusterAvailable, startPrivateCluster } from './helpers/private-cluster.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;

describe.runIf(privateClusterAvailable())('PostgreSQL settings for a 1 GB machine', () => {
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster({}); // nothing on the command line: ALTER SYSTEM decides
  }, 60_000);
  afterAll(() => cluster?.destroy());

  const script = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'scripts/pg-settings.ts', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: cluster.url },
    });

  it('--check fails on a fresh cluster', async () => {
    await expect(script('--check')).rejects.toMatchObject({ code: 1 });
  });

  it('applies them; reloadable ones at once, the rest after a restart', async () => {
    const { stdout } = await script();
    expect(stdout).toMatch(/shared_buffers and max_connections take effect after a restart/);
    const before = await readPostgresSettings(cluster.url);
    const byName = (name: string) => before.find((s) => s.name === name)!;
    expect(byName('work_mem')).toMatchObject({ current: '2MB', ok: true });
    expect(byName('shared_buffers')).toMatchObject({ ok: false, pendingRestart: true });

    await cluster.restart();
    const shown = Object.fromEntries(
      await Promise.all(
        POSTGRES_SETTINGS.map(async (s) => [
          s.name,
          (await cluster.sql<Record<string, string>>(`SHOW ${s.name}`))[0]![s.name],
        ]),
      ),
    );
    expect(shown).toEqual({
      shared_buffers: '256MB',
      effective_cache_size: '768MB',
      work_mem: '2MB',
      maintenance_work_mem: '64MB',
      max_connections: '20',
      log_min_duration_statement: '1s',
    });
    const { stdout: checked } = await script('--check');
    expect(checked.match(/ ok$/gm)).toHaveLength(POSTGRES_SETTINGS.length);
  }, 60_000);
});
