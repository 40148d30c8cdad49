/**
 * PostgreSQL data exceptions that only a value sent by the client causes: invalid byte
 * sequence (a NUL), unsupported Unicode escape, value too long, out of range, bad
 * datetime, number or json syntax (a lone surrogate inside jsonb).
 */
const INPUT_SQLSTATES = new Set(['22001', '22003', '22007', '22008', '22021', '22P02', '22P05']);

/** The SQLSTATE when `error` (or its cause) is PostgreSQL refusing a value, else undefined. */
export function inputSqlState(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && INPUT_SQLSTATES.has(code)) return code;
  }
  return undefined;
}
