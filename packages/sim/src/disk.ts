import { AssertionError, MemoryStorage, type ConfState, type Entry, type HardState, type Snapshot } from '@kvapp/core';
import type { WriteJob } from '@kvapp/kernel';
import type { SimRng } from './rng.js';

/** One write the node asked for; it reaches the platter only at the next sync. */
export type DiskWrite =
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot }
  | { readonly kind: 'entries'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hard-state'; readonly hardState: HardState };

export interface CrashOutcome {
  /** Unsynced writes lost whole. */
  readonly lost: number;
  /** Whether the last write that reached the disk was torn (only a prefix of its entries kept). */
  readonly torn: boolean;
}

/**
 * A node's disk. `live` is what the node reads: every write it made, synced or not (the page
 * cache). `durable` is what survives a crash. Writes are an append-only stream (a WAL), so a
 * crash keeps a prefix of the unsynced writes and may tear the last write of that prefix: a
 * torn entries write keeps a prefix of its entries, a torn hard state or snapshot is dropped
 * (its checksum fails). Never does a later write survive an earlier lost one.
 */
export class VirtualDisk {
  private durable: MemoryStorage;
  private liveStorage: MemoryStorage;
  private unsynced: DiskWrite[] = [];
  /** Write jobs submitted and not yet done, in submission order (the kernel's write queue). */
  private queue: { readonly job: WriteJob; readonly doneAtMs: number }[] = [];
  syncs = 0;

  constructor(readonly conf: ConfState) {
    this.durable = new MemoryStorage(conf);
    this.liveStorage = new MemoryStorage(conf);
  }

  /** The storage the node runs on (reads see unsynced writes). Replaced on crash. */
  get live(): MemoryStorage {
    return this.liveStorage;
  }

  get unsyncedWrites(): number {
    return this.unsynced.length;
  }

  get jobsInFlight(): number {
    return this.queue.length;
  }

  /**
   * Starts a write job that completes at `doneAtMs` (never before an earlier job: the queue is
   * in order). Until then nothing of it is visible; a crash meanwhile keeps whatever prefix of
   * it reached the platter, like any unsynced write.
   */
  submit(job: WriteJob, doneAtMs: number): void {
    const last = this.queue[this.queue.length - 1];
    this.queue.push({ job, doneAtMs: last === undefined ? doneAtMs : Math.max(doneAtMs, last.doneAtMs) });
  }

  /** The oldest job if it is done by `nowMs`, still queued: `finish()` carries it out. */
  nextDone(nowMs: number): WriteJob | null {
    const head = this.queue[0];
    return head !== undefined && head.doneAtMs <= nowMs ? head.job : null;
  }

  /** Carries out the oldest job: its writes reach the page cache, and the platter when it syncs. */
  finish(): WriteJob {
    const { job } = this.queue.shift()!;
    if (job.kind === 'compact') {
      this.compact(job.index, job.conf, job.data);
      return job;
    }
    for (const w of writesOf(job)) this.write(w);
    if (job.mustSync) this.sync();
    return job;
  }

  write(w: DiskWrite): void {
    applyWrite(this.liveStorage, w);
    this.unsynced.push(w);
  }

  sync(): void {
    for (const w of this.unsynced) applyWrite(this.durable, w);
    this.unsynced = [];
    this.syncs++;
  }

  /**
   * The process dies: unsynced writes are lost, except a prefix that happened to reach the
   * disk, whose last write may be torn. `rng` decides how much survived.
   */
  crash(rng: SimRng, tearAllowed: boolean): CrashOutcome {
    const pending = [...this.unsynced, ...this.queue.flatMap(({ job }) => (job.kind === 'persist' ? writesOf(job) : []))];
    this.unsynced = [];
    this.queue = [];
    const kept = pending.length === 0 ? 0 : rng.between(0, pending.length);
    for (const w of pending.slice(0, kept)) applyWrite(this.durable, w);
    let torn = false;
    const next = pending[kept];
    if (tearAllowed && next !== undefined && next.kind === 'entries' && next.entries.length > 1 && rng.chance(50)) {
      applyWrite(this.durable, { kind: 'entries', entries: next.entries.slice(0, rng.between(1, next.entries.length - 1)) });
      torn = true;
    }
    this.liveStorage = copyStorage(this.durable, this.conf);
    return { lost: pending.length - kept - (torn ? 1 : 0), torn };
  }

  /** The planted "forget the vote on restart" bug: the durable hard state loses its vote. */
  forgetVote(): void {
    const { hardState } = this.durable.initialState();
    this.durable.setHardState({ ...hardState, vote: 0 });
    this.liveStorage.setHardState({ ...this.liveStorage.initialState().hardState, vote: 0 });
  }

  durableState(): { hardState: HardState; snapshot: Snapshot; firstIndex: number; lastIndex: number } {
    return {
      hardState: this.durable.initialState().hardState,
      snapshot: this.durable.snapshot(),
      firstIndex: this.durable.firstIndex(),
      lastIndex: this.durable.lastIndex(),
    };
  }

  /**
   * Log compaction: the WAL is synced, the snapshot file is written and synced, then the WAL is
   * trimmed, so it takes effect on both views at once. `index` must be applied and durable.
   */
  compact(index: number, conf: ConfState, data: Uint8Array): boolean {
    // Like etcd saving a snapshot, this fsyncs the WAL first: a durable snapshot must never be
    // newer than the durable commit index (the core refuses to start from such a disk).
    this.sync();
    if (index <= this.durable.snapshot().meta.index) return false; // a snapshot already covers it
    // The kernel compacts only what it applied, after the write of it completed: a compaction past
    // the written log is a kernel bug, which must fail the run, not pass unseen.
    assert(index <= this.durable.lastIndex(), `compaction at ${index} past the written log (last ${this.durable.lastIndex()})`);
    assert(this.durable.term(index) === this.liveStorage.term(index), `compaction at ${index} of an entry the disk holds in another term`);
    for (const storage of [this.durable, this.liveStorage]) {
      storage.createSnapshot(index, conf, data);
      storage.compact(index);
    }
    return true;
  }
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** A persist job as the WAL writes it: snapshot, then entries, then hard state. */
function writesOf(job: Extract<WriteJob, { kind: 'persist' }>): DiskWrite[] {
  const writes: DiskWrite[] = [];
  if (job.snapshot) writes.push({ kind: 'snapshot', snapshot: job.snapshot });
  if (job.entries.length > 0) writes.push({ kind: 'entries', entries: job.entries });
  if (job.hardState) writes.push({ kind: 'hard-state', hardState: job.hardState });
  return writes;
}

function applyWrite(storage: MemoryStorage, w: DiskWrite): void {
  switch (w.kind) {
    case 'snapshot':
      storage.applySnapshot(w.snapshot);
      break;
    case 'entries':
      storage.append(w.entries);
      break;
    case 'hard-state':
      storage.setHardState(w.hardState);
      break;
  }
}

function copyStorage(from: MemoryStorage, conf: ConfState): MemoryStorage {
  const to = new MemoryStorage(conf);
  const snapshot = from.snapshot();
  if (snapshot.meta.index > 0) to.applySnapshot(snapshot);
  const first = from.firstIndex();
  const last = from.lastIndex();
  if (last >= first) to.append(from.entries(first, last + 1, Number.MAX_SAFE_INTEGER));
  to.setHardState(from.initialState().hardState);
  return to;
}
