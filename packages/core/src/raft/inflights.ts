import { assert } from '../assert.js';

/**
 * Appends sent to one follower and not yet acknowledged: a bounded window, by count and by
 * bytes, so that a slow follower cannot make the leader buffer without end.
 * Invariant: `lastIndexes` is increasing (appends are sent in log order).
 */
export class Inflights {
  private lastIndexes: number[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;

  constructor(
    readonly countMax: number,
    readonly bytesMax: number,
  ) {
    assert(countMax > 0, 'inflight count limit must be positive');
  }

  get count(): number {
    return this.lastIndexes.length - this.head;
  }

  get inflightBytes(): number {
    return this.bytes;
  }

  add(lastIndex: number, bytes: number): void {
    assert(!this.full(), 'cannot add to a full inflight window');
    const count = this.count;
    if (count > 0) {
      assert(lastIndex > this.lastIndexes[this.lastIndexes.length - 1]!, 'inflight appends must be sent in log order');
    }
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every append whose entries end at or before `index`: the follower has them. */
  freeLE(index: number): void {
    while (this.head < this.lastIndexes.length && this.lastIndexes[this.head]! <= index) {
      this.bytes -= this.sizes[this.head]!;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.lastIndexes.length) {
      this.lastIndexes = this.lastIndexes.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }

  /** Frees the oldest append (a heartbeat answer says the follower is alive while the window is stuck). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.lastIndexes[this.head]!);
  }

  full(): boolean {
    return this.count >= this.countMax || (this.bytesMax > 0 && this.bytes >= this.bytesMax);
  }

  reset(): void {
    this.lastIndexes = [];
    this.sizes = [];
    this.head = 0;
    this.bytes = 0;
  }
}
