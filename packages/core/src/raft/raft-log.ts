import { assert } from '../assert.js';
import { limitBytes } from './memory-storage.js';
import { StorageError, type Storage } from './storage.js';
import { Unstable } from './unstable.js';
import type { Entry, Snapshot } from './types.js';

/**
 * The log as Raft sees it: durable entries in Storage followed by unstable ones in memory.
 * Invariants: applied <= committed <= lastIndex().
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(readonly storage: Storage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.firstIndexIfKnown() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndexIfKnown() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    assert(term !== undefined, 'the last entry always has a known term');
    return term;
  }

  /** The term at `index`, or undefined if compacted away or past the end. */
  term(index: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (index < dummy || index > this.lastIndex()) return undefined;
    const unstableTerm = this.unstable.termIfKnown(index);
    if (unstableTerm !== undefined) return unstableTerm;
    try {
      return this.storage.term(index);
    } catch (error) {
      if (error instanceof StorageError) return undefined;
      throw error;
    }
  }

  isCompacted(index: number): boolean {
    return index < this.firstIndex() - 1;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends a leader's entries after (index, logTerm) if that entry matches. Returns the index of
   * the last new entry, or undefined when the log does not match (the leader must back up).
   */
  maybeAppend(index: number, logTerm: number, commit: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      assert(conflict > this.committed, `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      this.append(entries.slice(conflict - (index + 1)));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** The first index among `entries` that is missing or has another term here; 0 if all match. */
  private findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * For fast backtracking on the follower: the first index of the run of entries that share the
   * term at `index`, not going below committed + 1 (entries up to committed match the leader's).
   */
  firstIndexOfTermAt(index: number): number {
    const term = this.term(index);
    assert(term !== undefined, `no term at ${index}`);
    const floor = Math.max(this.committed + 1, this.firstIndex());
    let first = index;
    while (first > floor && this.term(first - 1) === term) first--;
    return first;
  }

  /** For fast backtracking on the leader: the last index <= `from` whose term is `term`, or undefined. */
  lastIndexOfTerm(term: number, from: number): number | undefined {
    const floor = this.firstIndex() - 1;
    for (let index = Math.min(from, this.lastIndex()); index >= floor; index--) {
      const found = this.term(index);
      if (found === undefined || found < term) return undefined;
      if (found === term) return index;
    }
    return undefined;
  }

  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    assert(after >= this.committed, `append after ${after} would rewrite committed ${this.committed}`);
    assert(after <= this.lastIndex(), `append after ${after} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /** Entries in [lo, lastIndex], bounded by bytesMax (at least one). Undefined if lo is compacted. */
  entriesFrom(lo: number, bytesMax: number): Entry[] | undefined {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, bytesMax);
  }

  /** Entries in [lo, hi) bounded by bytesMax, undefined if lo is compacted. */
  slice(lo: number, hi: number, bytesMax: number): Entry[] | undefined {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return undefined;
    assert(hi <= this.lastIndex() + 1, `slice [${lo}, ${hi}) past last index ${this.lastIndex()}`);
    const unstableOffset = this.unstable.offset;
    let result: Entry[] = [];
    if (lo < unstableOffset) {
      try {
        result = this.storage.entries(lo, Math.min(hi, unstableOffset), bytesMax);
      } catch (error) {
        if (error instanceof StorageError && error.code === 'COMPACTED') return undefined;
        throw error;
      }
      if (result.length < Math.min(hi, unstableOffset) - lo) return result;
    }
    if (hi > unstableOffset) {
      const fromUnstable = this.unstable.slice(Math.max(lo, unstableOffset), hi);
      result = result.length > 0 ? result.concat(fromUnstable) : fromUnstable;
    }
    return limitBytes(result, bytesMax);
  }

  /** Unstable entries not yet handed to the caller for writing. */
  nextUnstableEntries(): Entry[] {
    return this.unstable.nextEntries();
  }

  /** The unstable snapshot, unless already handed to the caller for writing. */
  nextUnstableSnapshot(): Snapshot | null {
    return this.unstable.nextSnapshot();
  }

  /** The caller took everything unstable for writing (it stays readable until stable). */
  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  /**
   * The last index known durable and part of this log: everything before the unstable part.
   * With an unstable snapshot nothing of the current log is known durable yet.
   */
  persistedIndex(): number {
    if (this.unstable.snapshot !== null) return 0;
    return Math.min(this.unstable.offset - 1, this.lastIndex());
  }

  /** Committed entries not yet handed to the application. */
  nextCommittedEntries(bytesMax: number): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed < lo) return [];
    return this.slice(lo, this.committed + 1, bytesMax) ?? [];
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    assert(index <= this.lastIndex(), `commit ${index} is past the last index ${this.lastIndex()}; the log was lost or corrupted`);
    this.committed = index;
  }

  /** §5.4.2: commit by counting replicas only an entry of the current term. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    assert(index <= this.committed && index >= this.applied, `applied ${index} out of range [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** Replaces the log with a snapshot newer than the commit index (an older one would move commit back). */
  restore(snapshot: Snapshot): void {
    assert(snapshot.meta.index > this.committed, `snapshot at ${snapshot.meta.index} is not past committed ${this.committed}`);
    this.committed = snapshot.meta.index;
    this.unstable.restore(snapshot);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapshotTo(index: number): void {
    this.unstable.stableSnapshotTo(index);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }
}
