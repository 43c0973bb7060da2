import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** A new folder `<storeDir>/<scenario>/<ISO timestamp>[-i]/`; never one an earlier run wrote. */
export function makeRunDir(storeDir: string, scenario: string): string {
  const base = join(storeDir, scenario, timestamp());
  let dir = base;
  for (let i = 1; existsSync(dir); i++) dir = `${base}-${i}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Re-points `<storeDir>/latest` at `dir` in one rename, so the link is never missing. */
export function pointLatest(storeDir: string, dir: string): void {
  const link = join(storeDir, 'latest');
  const tmp = join(storeDir, `.latest-${process.pid}`);
  rmSync(tmp, { force: true });
  symlinkSync(relative(storeDir, dir), tmp);
  renameSync(tmp, link);
}

/** Every line of a JSON Lines file; none when the file is missing. */
export function readJsonl<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
