import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { activeDiskProbe, listEntries } from './disk-probe.js';

/**
 * Every fsync, fdatasync and directory fsync of the node goes through here, so that an installed
 * disk probe (disk-probe.ts) stalls before each one and journals what it made durable after it,
 * before the caller goes on. Without a probe each is the bare system call.
 */

/**
 * fsync (`how` = 'fsync') or fdatasync of the open file at `path`. With a journal: the size from
 * fstat just before the sync is what the line declares durable.
 */
export async function syncFile(fh: FileHandle, path: string, how: 'fsync' | 'fdatasync'): Promise<void> {
  const probe = activeDiskProbe;
  if (probe === null) return how === 'fsync' ? fh.sync() : fh.datasync();
  await probe.stall();
  const before = probe.journaling ? await fh.stat() : null;
  await (how === 'fsync' ? fh.sync() : fh.datasync());
  if (before !== null) probe.fileDurable(before.ino, before.size, resolve(path));
}

/** Makes a directory's entries (created, renamed, removed files) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    const probe = activeDiskProbe;
    if (probe === null) return await fh.sync();
    await probe.stall();
    const abs = resolve(dir);
    const entries = probe.journaling ? listEntries(abs) : null;
    await fh.sync();
    if (entries !== null) probe.dirDurable(abs, entries);
  } finally {
    await fh.close();
  }
}

/** Opens `path` and fdatasyncs it whole (a file another process may have left unsynced bytes in). */
export async function datasyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await syncFile(fh, path, 'fdatasync');
  } finally {
    await fh.close();
  }
}

/**
 * `mkdir -p` that makes every directory it creates durable: the parent of each is fsynced after
 * the mkdir, top down. Without it a power cut could take a new directory and all in it, even
 * files fsynced inside it.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const top = resolve(first);
  const created: string[] = [];
  // From `dir` up to the first directory mkdir created: bounded by the path's depth.
  for (let d = resolve(dir); ; d = dirname(d)) {
    created.unshift(d);
    if (d === top || d === dirname(d)) break;
  }
  for (const d of created) await fsyncDir(dirname(d));
}
