import { closeSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The disk probe: how the chaos harness sees what a node made durable (so that it can apply a
 * power cut: cut every file back to its durable bytes, remove names never made durable) and how
 * it makes the node's disk slow. See docs/disk-faults.md for the contract with the harness.
 *
 * One per process, since it describes the process's disk: `installDiskProbe` sets it (startNode
 * from KVAPP_DISK_JOURNAL / KVAPP_DISK_STALL_FILE, tests directly). Every sync of the node goes
 * through file-sync.ts, which reads `activeDiskProbe` once: null (the default) costs one check.
 */
export interface DiskProbeSpec {
  /** Absolute path of the JSON Lines journal of durable bytes and names; null: none kept. */
  readonly journal: string | null;
  /** Absolute path of a file holding the stall before each sync, in ms; null: no stalls. */
  readonly stallFile: string | null;
}

/** Environment variables of the probe. */
export const DISK_JOURNAL_ENV = 'KVAPP_DISK_JOURNAL';
export const DISK_STALL_FILE_ENV = 'KVAPP_DISK_STALL_FILE';

/** The journal is rewritten whole (one line per live inode and directory) once it passes this many lines. */
export const JOURNAL_LINES_MAX = 4096;
/** The stall file is read again at most this often. */
export const STALL_REREAD_MS = 50;
/** A stall longer than this is taken as this: a slow disk, not a dead one. */
const STALL_MS_MAX = 60_000;

export class DiskProbeError extends Error {
  readonly code = 'DISK_PROBE_INVALID' as const;
  override readonly name = 'DiskProbeError';
}

/** What the journal says is durable, as the node carries it across a restart and a rewrite. */
interface FileLine {
  readonly durable: number;
  readonly path: string;
}

export class DiskProbe {
  /** The journal's append descriptor; null when no journal is kept. */
  private fd: number | null = null;
  private lines = 0;
  private readonly files = new Map<number, FileLine>();
  private readonly dirs = new Map<string, Record<string, number>>();
  private stallMs = 0;
  private stallReadAt = -Infinity;

  constructor(readonly spec: DiskProbeSpec) {
    for (const [name, path] of [
      [DISK_JOURNAL_ENV, spec.journal],
      [DISK_STALL_FILE_ENV, spec.stallFile],
    ] as const) {
      if (path !== null && !isAbsolute(path)) throw new DiskProbeError(`${name}: must be an absolute path, got "${path}"`);
    }
    if (spec.journal !== null) this.openJournal(spec.journal);
  }

  /**
   * The probe the environment asks for, or null when it sets neither variable. With `dataDir`, a
   * journal inside it is refused before anything is opened.
   */
  static fromEnv(env: NodeJS.ProcessEnv, dataDir?: string): DiskProbe | null {
    const journal = env[DISK_JOURNAL_ENV] || null;
    const stallFile = env[DISK_STALL_FILE_ENV] || null;
    if (journal === null && stallFile === null) return null;
    if (dataDir !== undefined) refuseJournalInside(journal, dataDir);
    return new DiskProbe({ journal, stallFile });
  }

  /** The slow disk: waits the stall file's milliseconds (an awaited timer; the event loop runs on). */
  async stall(): Promise<void> {
    if (this.spec.stallFile === null) return;
    const now = performance.now();
    if (now - this.stallReadAt >= STALL_REREAD_MS) {
      this.stallReadAt = now;
      this.stallMs = readStallMs(this.spec.stallFile);
    }
    if (this.stallMs > 0) await sleep(this.stallMs);
  }

  /**
   * Refuses a journal inside `dataDir`: a power cut applied from it would cut the journal itself
   * (its name is in no directory line the node wrote before creating it).
   */
  checkOutside(dataDir: string): void {
    refuseJournalInside(this.spec.journal, dataDir);
  }

  /** Records that the first `durable` bytes of inode `ino` (at `path` now) are durable. */
  fileDurable(ino: number, durable: number, path: string): void {
    if (this.fd === null) return;
    this.files.set(ino, { durable, path });
    this.append({ ino, durable, path });
  }

  /** Records that `dir`'s entries, as listed before its fsync, are durable. */
  dirDurable(dir: string, entries: Record<string, number>): void {
    if (this.fd === null) return;
    this.dirs.set(dir, entries);
    this.append({ dir, entries });
  }

  /** Whether a directory listing is wanted before a directory fsync. */
  get journaling(): boolean {
    return this.fd !== null;
  }

  /** Lines in the journal now (for tests of the rewrite bound). */
  get journalLines(): number {
    return this.lines;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** One line, one synchronous write: a kill -9 after it returns cannot lose it. */
  private append(line: object): void {
    if (this.lines >= JOURNAL_LINES_MAX) this.rewrite();
    writeSync(this.fd!, `${JSON.stringify(line)}\n`);
    this.lines++;
  }

  /** Reads what an earlier process journaled (a torn last line is dropped), then opens for appending. */
  private openJournal(path: string): void {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const whole = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    for (const raw of whole.split('\n')) {
      if (raw === '') continue;
      this.lines++;
      let line: unknown;
      try {
        line = JSON.parse(raw);
      } catch {
        continue; // not ours to judge: the harness reads the same file
      }
      const l = line as Record<string, unknown>;
      if (typeof l['ino'] === 'number' && typeof l['durable'] === 'number' && typeof l['path'] === 'string') {
        this.files.set(l['ino'], { durable: l['durable'], path: l['path'] });
      } else if (typeof l['dir'] === 'string' && typeof l['entries'] === 'object' && l['entries'] !== null) {
        this.dirs.set(l['dir'], l['entries'] as Record<string, number>);
      }
    }
    try {
      this.fd = openSync(path, 'a');
    } catch (error) {
      throw new DiskProbeError(`${DISK_JOURNAL_ENV}: cannot open ${path}: ${(error as Error).message}`);
    }
    // A torn last line would run into the next one: start from a whole file instead.
    if (whole.length !== text.length) this.rewrite();
  }

  /**
   * Rewrites the journal whole: one line per directory and per inode still found in one of
   * them (a file removed since is dropped), to a temp file beside it, renamed over it.
   */
  private rewrite(): void {
    const path = this.spec.journal!;
    const live = new Set<number>();
    for (const dir of this.dirs.keys()) for (const ino of Object.values(listEntries(dir))) live.add(ino);
    const out: string[] = [];
    for (const [dir, entries] of this.dirs) out.push(JSON.stringify({ dir, entries }));
    for (const [ino, f] of this.files) {
      if (live.has(ino)) out.push(JSON.stringify({ ino, durable: f.durable, path: f.path }));
      else this.files.delete(ino);
    }
    const tmp = join(dirname(path), `.${process.pid}.journal.tmp`);
    writeFileSync(tmp, out.length > 0 ? `${out.join('\n')}\n` : '');
    renameSync(tmp, path);
    closeSync(this.fd!);
    this.fd = openSync(path, 'a');
    this.lines = out.length;
  }
}

function refuseJournalInside(journal: string | null, dataDir: string): void {
  if (journal !== null && resolve(journal).startsWith(resolve(dataDir) + sep)) {
    throw new DiskProbeError(`${DISK_JOURNAL_ENV}: ${journal} is inside the data dir ${dataDir}; put it outside`);
  }
}

/** `dir`'s entries, name -> inode (lstat: a symlink is its own entry); {} if the directory is gone. */
export function listEntries(dir: string): Record<string, number> {
  const entries: Record<string, number> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return entries;
  }
  for (const name of names.sort()) {
    try {
      entries[name] = lstatSync(join(dir, name)).ino;
    } catch {
      // removed between readdir and lstat: not an entry any more
    }
  }
  return entries;
}

/** The stall file's integer; 0 when it is missing, empty or not a number. */
function readStallMs(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return 0; // missing: no stall
  }
  const ms = /^\d+$/.test(text) ? Number(text) : 0;
  return Math.min(ms, STALL_MS_MAX);
}

/** The process's probe; null unless installed. Read by every sync: keep it a plain module binding. */
export let activeDiskProbe: DiskProbe | null = null;

/** Installs `probe` for this process (null removes it). The previous one, if any, is closed. */
export function installDiskProbe(probe: DiskProbe | null): void {
  if (activeDiskProbe !== null && activeDiskProbe !== probe) activeDiskProbe.close();
  activeDiskProbe = probe;
}
