import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir, removed when the test ends. */
export function tmpDir(t: { teardown(fn: () => void): unknown }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-wal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
