/** A request that may time out: settled ones are skipped when their deadline passes. */
export interface Expiring {
  readonly deadlineTick: number;
  settled: boolean;
}

/** Items kept at most, settled or not, before the queue compacts itself. */
const compactAfter = 1024;

/**
 * Deadlines of every waiting request, in admission order. Every request gets the same timeout,
 * so admission order is deadline order, and a sweep only pops expired items off the front:
 * no timer per request, and a sweep costs what expired.
 */
export class DeadlineQueue<T extends Expiring> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    if (this.items.length > 0) {
      // Invariant: deadlines never go backwards, or the sweep would miss an expired item.
      const last = this.items[this.items.length - 1]!;
      if (item.deadlineTick < last.deadlineTick) throw new RangeError('deadlines must not go backwards');
    }
    this.items.push(item);
  }

  /** Calls `expire` for each unsettled item whose deadline is at or before `tick`. */
  sweep(tick: number, expire: (item: T) => void): void {
    while (this.head < this.items.length && this.items[this.head]!.deadlineTick <= tick) {
      const item = this.items[this.head++]!;
      if (!item.settled) expire(item);
    }
    if (this.head >= compactAfter && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Every unsettled item, in admission order (for stop()). */
  unsettled(): T[] {
    return this.items.slice(this.head).filter((item) => !item.settled);
  }

  get size(): number {
    return this.items.length - this.head;
  }
}
