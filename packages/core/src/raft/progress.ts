import { assert } from '../assert.js';
import { Inflights } from './inflights.js';

/**
 * How the leader replicates to one follower:
 * - probe: one append at a time until the follower's match is known (after a rejection or start);
 * - replicate: optimistic pipelining, bounded by the inflight window;
 * - snapshot: waiting for a snapshot to be installed; no appends.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one peer. Invariant: match < next. */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append is out, wait for its answer (or a heartbeat answer) before the next. */
  probeSent = false;
  /** In snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** In snapshot state: a whole election timeout has passed without the snapshot being acknowledged. */
  snapshotOverdue = false;
  /** The commit index this peer was last told (by an append, or a heartbeat that was not capped by `match`). */
  commitSent = 0;
  readonly inflights: Inflights;

  constructor(
    next: number,
    inflightAppendsMax: number,
    inflightBytesMax: number,
    public isLearner: boolean,
  ) {
    assert(next > this.match, `progress next ${next} must be above match ${this.match}`);
    this.next = next;
    this.inflights = new Inflights(inflightAppendsMax, inflightBytesMax);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.snapshotOverdue = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /** An acknowledgement up to `index`; false if it tells nothing new (stale or duplicate). */
  maybeUpdate(index: number): boolean {
    const updated = this.match < index;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append after `rejected`; `nextHint` is where the follower's hint says to
   * try next. False if the rejection is stale (answers an append we have moved past). In
   * replicate the caller then falls back to probe: the window still holds appends past the new `next`.
   */
  maybeDecrTo(rejected: number, nextHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, nextHint), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Entries up to `lastIndex` (totalling `bytes`) were just sent; they start at `next`. */
  sentEntries(lastIndex: number, bytes: number, entryCount: number): void {
    // Entries from anywhere else would leave a gap in the window or move `next` back to `match` or below.
    assert(lastIndex === this.next - 1 + entryCount, `sent ${entryCount} entries up to ${lastIndex}, but next is ${this.next}`);
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
