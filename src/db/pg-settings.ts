/**
 * PostgreSQL settings for a 1 GB database machine (docs/contract.md, "Sizing figures"; the
 * reasons are in docs/postgres.md), applied with ALTER SYSTEM (postgresql.auto.conf) by
 * `npm run pg:settings`. Two of them take effect only after a restart.
 */
import pg from 'pg';

export const POSTGRES_SETTINGS = [
  { name: 'shared_buffers', value: '256MB', restart: true },
  { name: 'effective_cache_size', value: '768MB', restart: false },
  { name: 'work_mem', value: '2MB', restart: false },
  { name: 'maintenance_work_mem', value: '64MB', restart: false },
  { name: 'max_connections', value: '20', restart: true },
  { name: 'log_min_duration_statement', value: '1000', restart: false },
] as const;

export type SettingState = { name: string; wanted: string; current: string; pendingRestart: boolean; ok: boolean };

const connect = async (url: string) => {
  const client = new pg.Client({ connectionString: url, application_name: 'tastematch-pg-settings' });
  await client.connect();
  return client;
};

/** What the server runs with now, against what we want (SHOW's own formatting, e.g. "256MB", "1s"). */
export async function readPostgresSettings(url: string): Promise<SettingState[]> {
  const client = await connect(url);
  try {
    const states: SettingState[] = [];
    for (const s of POSTGRES_SETTINGS) {
      const current = (await client.query<Record<string, string>>(`SHOW ${s.name}`)).rows[0]?.[s.name] ?? '';
      const { rows } = await client.query<{ pending: boolean }>(
        'SELECT pending_restart AS pending FROM pg_settings WHERE name = $1',
        [s.name],
      );
      const pendingRestart = rows[0]?.pending ?? false;
      states.push({ name: s.name, wanted: s.value, current, pendingRestart, ok: same(s.name, current, s.value) });
    }
    return states;
  } finally {
    await client.end();
  }
}

/** SHOW prints log_min_duration_statement as "1s" for 1000 (ms); compare in a common form. */
function same(name: string, shown: string, wanted: string): boolean {
  if (name === 'log_min_duration_statement') {
    const ms = /^(\d+)(ms|s|min)?$/.exec(shown);
    if (!ms) return false;
    const factor = ms[2] === 's' ? 1000 : ms[2] === 'min' ? 60_000 : 1;
    return Number(ms[1]) * factor === Number(wanted);
  }
  return shown.toLowerCase() === wanted.toLowerCase();
}

/**
 * ALTER SYSTEM SET each setting and reload. Needs a superuser (or pg_write_server_files on
 * PostgreSQL 15+: ALTER SYSTEM is granted separately). @returns the settings that wait for a restart
 */
export async function applyPostgresSettings(url: string): Promise<string[]> {
  const client = await connect(url);
  try {
    for (const s of POSTGRES_SETTINGS) {
      // ALTER SYSTEM takes no parameters; the names and values are our constants.
      await client.query(`ALTER SYSTEM SET ${s.name} = '${s.value}'`);
    }
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
  return POSTGRES_SETTINGS.filter((s) => s.restart).map((s) => s.name);
}
