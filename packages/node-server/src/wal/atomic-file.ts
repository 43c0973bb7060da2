import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, syncFile } from './file-sync.js';

export interface AtomicWriteOptions {
  /**
   * TEST ONLY (the planted bug --unsafe-skip-dir-fsync): rename without the directory fsync, so
   * a power cut may lose the new name. Returns 1 fsync then.
   */
  readonly unsafeSkipDirFsync?: boolean;
}

/**
 * Creates `dir/name` with exactly `bytes`, all or nothing across a crash: write a temp file,
 * fsync it, rename it over the name, fsync the directory. A crash leaves either no file, the
 * whole file, or a `.tmp` that the next start removes. Returns the number of fsyncs done.
 */
export async function writeFileAtomic(dir: string, name: string, bytes: Uint8Array, options: AtomicWriteOptions = {}): Promise<number> {
  const tmp = join(dir, `${name}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await writeAll(fh, bytes, 0);
    await syncFile(fh, tmp, 'fsync');
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, name));
  if (options.unsafeSkipDirFsync === true) return 1;
  await fsyncDir(dir);
  return 2;
}

/** fs write may write less than asked; loop until it is all down. */
export async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/**
 * Writes `parts` back to back from `position` in one positional writev (one thread-pool job);
 * loops like writeAll if the system writes less than asked.
 */
export async function writevAll(fh: FileHandle, parts: readonly Uint8Array[], position: number): Promise<void> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  let done = 0;
  while (done < total) {
    const { bytesWritten } = await fh.writev(remainder(parts, done), position + done);
    done += bytesWritten;
  }
}

/** The bytes of `parts` from `skip` on, as views (no copy). */
function remainder(parts: readonly Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return [...parts];
  const out: Uint8Array[] = [];
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
