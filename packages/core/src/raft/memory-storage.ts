import { assert } from '../assert.js';
import { StorageError, type Storage } from './storage.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { entryBytes } from './entry-size.js';

const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/**
 * Storage held in memory: what tests and the simulator run on, and the shape a durable storage
 * must follow. entries[0] is a dummy holding the snapshot's index and term, so that term() can
 * answer for the entry just before firstIndex().
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private ents: Entry[];

  constructor(conf: ConfState) {
    this.snap = { meta: { index: 0, term: 0, conf }, data: new Uint8Array(0) };
    this.ents = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.meta.conf };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  entries(lo: number, hi: number, bytesMax: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) throw new StorageError('COMPACTED', `entry ${lo} is compacted (first is ${offset + 1})`);
    if (hi > this.lastIndex() + 1) {
      throw new StorageError('UNAVAILABLE', `entries up to ${hi - 1} requested, last is ${this.lastIndex()}`);
    }
    return limitBytes(this.ents.slice(lo - offset, hi - offset), bytesMax);
  }

  term(index: number): number {
    const offset = this.ents[0]!.index;
    if (index < offset) throw new StorageError('COMPACTED', `term of ${index} is compacted (first is ${offset + 1})`);
    if (index - offset >= this.ents.length) {
      throw new StorageError('UNAVAILABLE', `term of ${index} requested, last is ${this.lastIndex()}`);
    }
    return this.ents[index - offset]!.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces everything with the snapshot; used when a follower installs one from its leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index <= this.snap.meta.index) {
      throw new StorageError('SNAPSHOT_OUT_OF_DATE', `snapshot ${snap.meta.index} is not newer than ${this.snap.meta.index}`);
    }
    this.snap = snap;
    this.ents = [{ term: snap.meta.term, index: snap.meta.index, type: 'normal', data: new Uint8Array(0) }];
  }

  /** Records a snapshot of the application state at `index` (which must be applied already). */
  createSnapshot(index: number, conf: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) {
      throw new StorageError('SNAPSHOT_OUT_OF_DATE', `snapshot ${index} is not newer than ${this.snap.meta.index}`);
    }
    assert(index <= this.lastIndex(), `snapshot index ${index} beyond last index ${this.lastIndex()}`);
    this.snap = { meta: { index, term: this.term(index), conf }, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`; they must be covered by a snapshot first. */
  compact(index: number): void {
    const offset = this.ents[0]!.index;
    if (index <= offset) throw new StorageError('COMPACTED', `already compacted up to ${offset}`);
    assert(index <= this.lastIndex(), `compact ${index} beyond last index ${this.lastIndex()}`);
    const kept = this.ents.slice(index - offset);
    const head = kept[0]!;
    kept[0] = { term: head.term, index: head.index, type: 'normal', data: new Uint8Array(0) };
    this.ents = kept;
  }

  /**
   * Appends entries, replacing any existing suffix they conflict with (a new leader's log wins).
   * In place, so that an append costs what it adds: every write of a node goes through here, and a
   * copy of the whole log per append made each one cost the log's length (up to `snapshotEntries`
   * entries, or all of them when a node never compacts). The array never leaves this class:
   * entries() hands out copies.
   */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return;
    const fromIndex = Math.max(first, entries[0]!.index);
    const offset = this.ents[0]!.index;
    const position = fromIndex - offset;
    assert(position <= this.ents.length, `append at ${fromIndex} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = position; // drops the suffix the new entries replace; nothing when they follow the last
    for (let i = fromIndex - entries[0]!.index; i < entries.length; i++) this.ents.push(entries[i]!);
  }
}

/** At least one entry, then as many as fit in bytesMax: a huge entry must still make progress. */
export function limitBytes(entries: Entry[], bytesMax: number): Entry[] {
  if (entries.length === 0) return entries;
  let size = entryBytes(entries[0]!);
  let count = 1;
  while (count < entries.length) {
    size += entryBytes(entries[count]!);
    if (size > bytesMax) break;
    count++;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}
