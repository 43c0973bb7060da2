import { readFileSync } from 'node:fs';
import { DiskProbe, installDiskProbe, type DiskProbeSpec } from '../../src/wal/disk-probe.js';

export interface FileLine {
  readonly ino: number;
  readonly durable: number;
  readonly path: string;
}
export interface DirLine {
  readonly dir: string;
  readonly entries: Record<string, number>;
}
export type JournalLine = FileLine | DirLine;

/** Installs a probe for this test file's process; removed (and its journal closed) at teardown. */
export function installProbe(t: { teardown(fn: () => unknown): unknown }, spec: Partial<DiskProbeSpec>): DiskProbe {
  const probe = new DiskProbe({ journal: spec.journal ?? null, stallFile: spec.stallFile ?? null });
  installDiskProbe(probe);
  t.teardown(() => installDiskProbe(null));
  return probe;
}

/** Every whole line of the journal, parsed. */
export function readJournal(path: string): JournalLine[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JournalLine);
}

export const fileLines = (lines: JournalLine[]): FileLine[] => lines.filter((l): l is FileLine => 'ino' in l);
export const dirLines = (lines: JournalLine[], dir: string): DirLine[] => lines.filter((l): l is DirLine => 'dir' in l && l.dir === dir);

/** The last `durable` journaled for inode `ino`, or null if it has none. */
export function lastDurable(lines: JournalLine[], ino: number): number | null {
  const mine = fileLines(lines).filter((l) => l.ino === ino);
  return mine.at(-1)?.durable ?? null;
}
