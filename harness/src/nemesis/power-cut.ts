import {
  closeSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Random } from './partitions.js';

/**
 * A power cut applied to one node's data dir after its process was killed -9: what the node's
 * disk journal (KVAPP_DISK_JOURNAL, docs/chaos-contract.md "Disk probe") says was made durable
 * stays, the rest goes, as if the machine had lost power instead of the process only.
 *
 * - A directory's durable names are its last `entries` line (none: nothing in it is durable); an
 *   entry whose name is not among them is removed, a directory with everything under it.
 * - An entry whose name is durable but now has another inode (renamed over without a directory
 *   fsync) stays as it is, counted `undetermined`: the file it replaced cannot be brought back.
 * - A kept regular file is cut to its inode's last `durable` bytes (0 without a line). Half the
 *   time a random-length prefix of the cut bytes stays (writes reach the platter in pieces), and
 *   half of those pieces end in 1–512 zeroed bytes (a torn sector).
 * - Then the journal declares what is now on disk durable, since after a reboot that is the disk.
 *
 * What it cannot model: a name removed (unlink, rename away) without a directory fsync stays
 * removed, though after a real power cut it could come back; a journaled inode number reused by a
 * later file lends that file the old file's durable size; the page cache of other processes.
 */

/** What the journal says is durable: each inode's durable bytes, each directory's durable names. */
export interface DiskJournal {
  readonly files: ReadonlyMap<number, number>;
  readonly dirs: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** What one cut did to a data dir. */
export interface PowerCutCounts {
  /** Regular files made shorter. */
  readonly filesTruncated: number;
  /** Bytes dropped from the ends of files (a torn piece left in place is not counted). */
  readonly bytesCut: number;
  /** Regular files removed: their names were never made durable (those under a removed directory too). */
  readonly filesRemoved: number;
  /** Directories removed, likewise. */
  readonly dirsRemoved: number;
  /** Files left with a piece of their unsynced bytes after the durable ones. */
  readonly tornPieces: number;
  /** Torn pieces that end in zeroed bytes. */
  readonly tornSectors: number;
  /** Durable names that now point at another inode (kept as they are). */
  readonly undetermined: number;
}

/** What one cut did to a data dir: the counts, and what it removed. */
export interface PowerCutResult extends PowerCutCounts {
  /** The entries removed, relative to the data dir, in walk order; at most removedListedMax. */
  readonly removed: readonly string[];
}

/** Removed entries listed in a result at most (the counts count them all). */
export const removedListedMax = 20;

/** A journal the cut cannot trust, or a data dir past the bounds: nothing was changed. */
export class PowerCutError extends Error {
  override readonly name = 'PowerCutError';
}

/** A journal larger than this is refused (the node rewrites it at 4096 lines). */
export const journalBytesMax = 64 * 1024 * 1024;
/** Entries walked in one data dir at most; a data dir holds a few dozen. */
export const dataDirEntriesMax = 100_000;
/** Directory depth walked at most below the data dir (it has two levels). */
const dataDirDepthMax = 16;
/** The longest run of zeroed bytes at the end of a torn piece: one sector. */
export const tornSectorBytesMax = 512;

/**
 * Parses a disk journal. A last line without its newline that begins like a record but does not
 * parse was torn by the kill and is ignored; any other line that is not a disk-probe record makes
 * the journal untrustworthy.
 */
export function parseDiskJournal(text: string, source: string): DiskJournal {
  const files = new Map<number, number>();
  const dirs = new Map<string, Map<string, number>>();
  const lines = text.split('\n');
  const complete = text.endsWith('\n') || text === '';
  lines.forEach((raw, i) => {
    if (raw === '') return;
    const last = i === lines.length - 1;
    const torn = last && !complete && tornRecord(raw);
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      if (torn) return;
      throw new PowerCutError(`disk journal ${source} line ${i + 1} is not JSON: ${excerpt(raw)}`);
    }
    const record = journalRecord(line);
    if (record === null) {
      if (torn) return;
      throw new PowerCutError(`disk journal ${source} line ${i + 1} is not a disk-probe record: ${excerpt(raw)}`);
    }
    if ('ino' in record) files.set(record.ino, record.durable);
    else dirs.set(resolve(record.dir), new Map(Object.entries(record.entries)));
  });
  return { files, dirs };
}

/** The journal at `path`; empty when the file does not exist (the node never synced anything). */
export function readDiskJournal(path: string): DiskJournal {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { files: new Map(), dirs: new Map() };
    throw new PowerCutError(`disk journal ${path} cannot be read: ${(error as Error).message}`);
  }
  if (size > journalBytesMax) throw new PowerCutError(`disk journal ${path} is ${size} bytes, above ${journalBytesMax}`);
  return parseDiskJournal(readFileSync(path, 'utf8'), path);
}

/** One planned change, found before anything is touched. */
type Action =
  | { readonly kind: 'remove'; readonly path: string }
  | { readonly kind: 'truncate'; readonly path: string; readonly size: number; readonly zeroFrom: number };

/**
 * Applies a power cut to `dataDir` (its node must be dead) from the journal at `journalPath`, with
 * every draw from `random`; then rewrites the journal to declare the result durable. Throws
 * PowerCutError, before changing anything, when the journal is not one.
 */
export function applyPowerCut(options: {
  readonly dataDir: string;
  readonly journalPath: string;
  readonly random: Random;
}): PowerCutResult {
  const dataDir = resolve(options.dataDir);
  const journal = readDiskJournal(options.journalPath);
  const counts = { filesTruncated: 0, bytesCut: 0, filesRemoved: 0, dirsRemoved: 0, tornPieces: 0, tornSectors: 0, undetermined: 0 };
  const actions: Action[] = [];
  if (isDirectory(dataDir)) {
    const walk = new Walk();
    plan(dataDir, 0, journal, options.random, walk, counts, actions);
  }
  for (const action of actions) {
    if (action.kind === 'remove') {
      rmSync(action.path, { recursive: true, force: true });
    } else {
      truncateSync(action.path, action.size);
      if (action.zeroFrom < action.size) zeroRange(action.path, action.zeroFrom, action.size);
    }
  }
  writeDurableJournal(dataDir, options.journalPath);
  const removed = actions.filter((a) => a.kind === 'remove').map((a) => relative(dataDir, a.path));
  return { ...counts, removed: removed.slice(0, removedListedMax) };
}

/**
 * Rewrites the journal at `journalPath` to declare every file under `dataDir` durable at its size
 * now and every directory's entries durable as they are now (temp file beside it, renamed over).
 */
export function writeDurableJournal(dataDir: string, journalPath: string): void {
  const lines: string[] = [];
  const root = resolve(dataDir);
  const walk = new Walk();
  const visit = (dir: string, depth: number): void => {
    const entries: Record<string, number> = {};
    const subdirs: string[] = [];
    for (const name of walk.list(dir, depth)) {
      const path = join(dir, name);
      const st = lstatSync(path);
      entries[name] = st.ino;
      if (st.isDirectory()) subdirs.push(path);
      else if (st.isFile()) lines.push(JSON.stringify({ ino: st.ino, durable: st.size, path }));
    }
    lines.push(JSON.stringify({ dir, entries }));
    for (const sub of subdirs) visit(sub, depth + 1);
  };
  if (isDirectory(root)) visit(root, 0);
  const tmp = join(dirname(journalPath), `.power-cut.${process.pid}.tmp`);
  writeFileSync(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  renameSync(tmp, journalPath);
}

/** Finds what the cut does under `dir`, in name order (so the draws follow from the seed). */
function plan(
  dir: string,
  depth: number,
  journal: DiskJournal,
  random: Random,
  walk: Walk,
  counts: { -readonly [K in keyof PowerCutCounts]: number },
  actions: Action[],
): void {
  const durable = journal.dirs.get(dir);
  for (const name of walk.list(dir, depth)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    const durableIno = durable?.get(name);
    if (durableIno === undefined) {
      const removed = countTree(path, st, depth + 1, walk);
      counts.filesRemoved += removed.files;
      counts.dirsRemoved += removed.dirs;
      actions.push({ kind: 'remove', path });
      continue;
    }
    if (durableIno !== st.ino) counts.undetermined++;
    if (st.isDirectory()) {
      plan(path, depth + 1, journal, random, walk, counts, actions);
    } else if (st.isFile()) {
      const keep = journal.files.get(st.ino) ?? 0;
      if (keep >= st.size) continue;
      const cut = st.size - keep;
      let piece = 0;
      let zeroed = 0;
      if (random() < 0.5) {
        piece = 1 + Math.floor(random() * cut);
        counts.tornPieces++;
        if (random() < 0.5) {
          zeroed = Math.min(piece, 1 + Math.floor(random() * tornSectorBytesMax));
          counts.tornSectors++;
        }
      }
      counts.filesTruncated++;
      counts.bytesCut += cut - piece;
      actions.push({ kind: 'truncate', path, size: keep + piece, zeroFrom: keep + piece - zeroed });
    }
  }
}

/** Regular files and directories in the tree at `path` (itself included). */
function countTree(path: string, st: Stats, depth: number, walk: Walk): { files: number; dirs: number } {
  if (st.isFile()) return { files: 1, dirs: 0 };
  if (!st.isDirectory()) return { files: 0, dirs: 0 };
  const total = { files: 0, dirs: 1 };
  for (const name of walk.list(path, depth)) {
    const sub = join(path, name);
    const inner = countTree(sub, lstatSync(sub), depth + 1, walk);
    total.files += inner.files;
    total.dirs += inner.dirs;
  }
  return total;
}

/** Lists directories in name order, within the bounds of a data dir. */
class Walk {
  private entries = 0;

  list(dir: string, depth: number): string[] {
    if (depth > dataDirDepthMax) throw new PowerCutError(`${dir} is more than ${dataDirDepthMax} directories deep: not a data dir`);
    const names = readdirSync(dir).sort();
    this.entries += names.length;
    if (this.entries > dataDirEntriesMax)
      throw new PowerCutError(`more than ${dataDirEntriesMax} entries under the data dir: not a data dir`);
    return names;
  }
}

function zeroRange(path: string, from: number, to: number): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.alloc(to - from), 0, to - from, from);
  } finally {
    closeSync(fd);
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

type JournalRecord =
  { readonly ino: number; readonly durable: number } | { readonly dir: string; readonly entries: Record<string, number> };

/** A line as the disk probe writes it, or null. */
function journalRecord(line: unknown): JournalRecord | null {
  if (typeof line !== 'object' || line === null || Array.isArray(line)) return null;
  const l = line as Record<string, unknown>;
  if ('ino' in l) {
    const { ino, durable, path } = l;
    return count(ino) && count(durable) && typeof path === 'string' ? { ino, durable } : null;
  }
  const { dir, entries } = l;
  if (typeof dir !== 'string' || dir === '' || typeof entries !== 'object' || entries === null || Array.isArray(entries)) return null;
  if (!Object.values(entries).every(count)) return null;
  return { dir, entries: entries as Record<string, number> };
}

/** Could `raw` be the start of a line the probe writes (`{"ino":...` or `{"dir":...`)? */
function tornRecord(raw: string): boolean {
  const heads = ['{"ino"', '{"dir"'];
  const printable = [...raw].every((c) => c >= ' ');
  return printable && heads.some((h) => raw.startsWith(h) || h.startsWith(raw));
}

function count(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function excerpt(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}
