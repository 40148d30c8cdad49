import { spawnSync } from 'node:child_process';

/**
 * Whether an external program needed by a test is installed. Absent: the test skips
 * with a printed reason, except under CI=true where absence fails the run (.ci/run
 * installs every program the tests need).
 */
export function requireProgram(program: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).status === 0;
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${program} is required under CI=true but is not installed`);
  console.warn(`[skip] ${program} is not installed: its tests are skipped`);
  return false;
}
