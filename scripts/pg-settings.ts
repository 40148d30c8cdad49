/**
 * `npm run pg:settings [-- --check]`: applies the 1 GB PostgreSQL settings (src/db/pg-settings.ts,
 * docs/postgres.md) to DATABASE_URL with ALTER SYSTEM and reloads; says which wait for a restart.
 * `--check` changes nothing and exits 1 unless the server already runs with all of them.
 */
import { applyPostgresSettings, readPostgresSettings } from '../src/db/pg-settings.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  process.stderr.write('pg:settings: set DATABASE_URL to the database (a superuser connection)\n');
  process.exit(2);
}
const check = process.argv.includes('--check');

try {
  if (!check) {
    const restart = await applyPostgresSettings(url);
    process.stdout.write(
      `applied with ALTER SYSTEM and reloaded; ${restart.join(' and ')} take effect after a restart\n`,
    );
  }
  const states = await readPostgresSettings(url);
  for (const s of states) {
    const note = s.ok ? 'ok' : s.pendingRestart ? 'set, waits for a restart' : 'differs';
    process.stdout.write(`${s.name.padEnd(28)} ${s.current.padEnd(8)} wanted ${s.wanted.padEnd(8)} ${note}\n`);
  }
  if (check && states.some((s) => !s.ok)) process.exit(1);
} catch (error) {
  process.stderr.write(`pg:settings: ${(error as Error).message}\n`);
  process.exit(1);
}
