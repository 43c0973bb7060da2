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
 *
 * A settled item is dropped as soon as the queue can see it is settled, not at its deadline: an
 * item holds its request's reply, and through it the request's promise, command and result, so
 * keeping answered requests for the whole timeout held throughput × timeout of them (tens of
 * thousands, ~100 MB on a busy leader) and pushed them all into the old generation. Settled items
 * at the front go on every push; when the queue reaches twice the size it had after the last
 * cleaning, the settled items behind an old unsettled one go too. So the queue stays within about
 * twice the requests waiting, at an amortized constant cost per push.
 */
export class DeadlineQueue<T extends Expiring> {
  private items: T[] = [];
  private head = 0;
  /** The size at which the settled items anywhere in the queue are dropped. */
  private cleanAt = compactAfter;

  push(item: T): void {
    if (this.items.length > 0) {
      // Invariant: deadlines never go backwards, or the sweep would miss an expired item.
      const last = this.items[this.items.length - 1]!;
      if (item.deadlineTick < last.deadlineTick) throw new RangeError('deadlines must not go backwards');
    }
    while (this.head < this.items.length && this.items[this.head]!.settled) this.head++;
    this.items.push(item);
    if (this.size >= this.cleanAt) this.dropSettled();
    else this.compact();
  }

  /** Calls `expire` for each unsettled item whose deadline is at or before `tick`. */
  sweep(tick: number, expire: (item: T) => void): void {
    while (this.head < this.items.length && (this.items[this.head]!.settled || this.items[this.head]!.deadlineTick <= tick)) {
      const item = this.items[this.head++]!;
      if (!item.settled) expire(item);
    }
    this.compact();
  }

  /** Every unsettled item, in admission order (for stop()). */
  unsettled(): T[] {
    return this.items.slice(this.head).filter((item) => !item.settled);
  }

  /** Items kept: every unsettled one, and settled ones not dropped yet. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Drops the popped front of the array once it is most of it. */
  private compact(): void {
    if (this.head >= compactAfter && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Keeps only the unsettled items (in order), and cleans again at twice as many. */
  private dropSettled(): void {
    this.items = this.items.slice(this.head).filter((item) => !item.settled);
    this.head = 0;
    this.cleanAt = Math.max(compactAfter, 2 * this.items.length);
  }
}
