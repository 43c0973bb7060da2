import { assert } from '../assert.js';
import type { Entry, Snapshot } from './types.js';

/**
 * Entries and a snapshot that the core has accepted but the caller has not yet made durable.
 * Invariant: entries[i].index === offset + i; a snapshot, if any, has index offset - 1.
 *
 * With asynchronous writes some of them are already handed to the caller ("in progress"):
 * entries before `offsetInProgress` and the snapshot when `snapshotInProgress`. They stay here,
 * readable, until the caller says they are durable (stableTo, stableSnapshotTo); only the rest
 * goes into the next Ready. `generation` changes whenever in-progress data is replaced (a
 * conflicting append or a snapshot), so a write that completes afterwards is known to describe
 * a log that no longer exists.
 */
export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  offsetInProgress: number;
  snapshotInProgress = false;
  generation = 0;

  constructor(public offset: number) {
    this.offsetInProgress = offset;
  }

  firstIndexIfKnown(): number | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  lastIndexIfKnown(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.meta.index : undefined;
  }

  termIfKnown(index: number): number | undefined {
    if (index < this.offset) {
      return this.snapshot && this.snapshot.meta.index === index ? this.snapshot.meta.term : undefined;
    }
    const last = this.lastIndexIfKnown();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]!.term;
  }

  /** Entries not yet handed to the caller. */
  nextEntries(): Entry[] {
    return this.entries.slice(this.offsetInProgress - this.offset);
  }

  /** The snapshot, unless already handed to the caller. */
  nextSnapshot(): Snapshot | null {
    return this.snapshotInProgress ? null : this.snapshot;
  }

  /** Everything here is now being written by the caller. */
  acceptInProgress(): void {
    this.offsetInProgress = this.offset + this.entries.length;
    this.snapshotInProgress = this.snapshot !== null;
  }

  /** The caller made entries up to `index` (of `term`) durable. A mismatch means they were replaced meanwhile. */
  stableTo(index: number, term: number): void {
    if (this.termIfKnown(index) !== term || index < this.offset) return;
    assert(this.snapshot === null, `entries up to ${index} made durable before the snapshot at ${this.snapshot?.meta.index} they follow`);
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot && this.snapshot.meta.index === index) {
      this.snapshot = null;
      this.snapshotInProgress = false;
    }
  }

  restore(snapshot: Snapshot): void {
    this.generation++;
    this.offset = snapshot.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = snapshot;
    this.snapshotInProgress = false;
  }

  truncateAndAppend(entries: readonly Entry[]): void {
    assert(entries.length > 0, 'nothing to append');
    const first = entries[0]!.index;
    assert(
      first <= this.offset + this.entries.length,
      `unstable append at ${first} leaves a gap after ${this.offset + this.entries.length - 1}`,
    );
    assert(
      this.snapshot === null || first > this.snapshot.meta.index,
      `unstable append at ${first} would rewrite the pending snapshot at ${this.snapshot?.meta.index}`,
    );
    // Replacing an entry already handed to the caller makes its pending write describe a dead log.
    if (first < this.offsetInProgress) this.generation++;
    if (first === this.offset + this.entries.length) {
      this.entries = this.entries.concat(entries);
    } else if (first <= this.offset) {
      // Replaces everything unstable; the stable log from `first` on is shadowed by these.
      this.offset = first;
      this.entries = entries.slice();
    } else {
      this.entries = this.entries.slice(0, first - this.offset).concat(entries);
    }
    this.offsetInProgress = Math.min(this.offsetInProgress, first);
  }

  slice(lo: number, hi: number): Entry[] {
    assert(lo <= hi && lo >= this.offset && hi <= this.offset + this.entries.length, `unstable slice [${lo}, ${hi}) out of bounds`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
