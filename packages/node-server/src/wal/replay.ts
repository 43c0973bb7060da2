import type { Entry, HardState } from '@kvapp/core';
import { WalError } from './errors.js';
import type { SnapshotMarker } from './payload.js';

/**
 * Rebuilds the log from WAL records in the order they were written. The rules mirror what Raft
 * did when it wrote them:
 * - An entry at or below the last index overwrites that suffix (a follower truncating a
 *   conflicting tail): the later record wins.
 * - An entry beyond last+1 starts afresh. That is only legitimate where released segments took
 *   the earlier entries away, and `finish` checks that a snapshot marker covers the hole.
 * - A snapshot marker drops the entries it covers; if the log disagrees with it at its index (or
 *   does not reach it), the whole log is dropped, as Raft does when installing a snapshot.
 * - The last hard state and the highest marker win.
 */
export class Replay {
  private log: Entry[] = [];
  private hard: HardState | null = null;
  private snap: SnapshotMarker | null = null;

  entry(e: Entry): void {
    const first = this.log[0]?.index;
    if (first === undefined || e.index < first || e.index > first + this.log.length) {
      this.log = [e];
      return;
    }
    this.log.length = e.index - first;
    this.log.push(e);
  }

  hardState(h: HardState): void {
    this.hard = h;
  }

  marker(m: SnapshotMarker): void {
    if (this.snap !== null && m.index < this.snap.index) return;
    this.snap = m;
    const first = this.log[0]?.index;
    if (first === undefined || m.index < first) return;
    const at = this.log[m.index - first];
    this.log = at !== undefined && at.term === m.term ? this.log.slice(m.index - first + 1) : [];
  }

  finish(dir: string): { hardState: HardState | null; entries: Entry[]; snapshotMarker: SnapshotMarker | null } {
    const base = this.snap?.index ?? 0;
    const first = this.log[0]?.index;
    if (first !== undefined && first !== base + 1) {
      throw new WalError(
        'WAL_INCONSISTENT',
        `WAL in ${dir} holds entries from index ${first}, but the snapshot marker covers only up to ${base}: entries are missing`,
      );
    }
    return { hardState: this.hard, entries: this.log, snapshotMarker: this.snap };
  }
}
