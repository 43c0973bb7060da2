import { assert } from '../assert.js';
import { contextKey } from './message.js';
import type { NodeId } from './types.js';

export interface ReadRequest {
  /** The commit index when the request arrived: serve after applying it. */
  readonly index: number;
  readonly context: Uint8Array;
  /** Who asked: the leader itself, or a follower that forwarded the request. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

/**
 * ReadIndex requests waiting for a quorum to confirm that the leader is still the leader.
 * Requests are confirmed in arrival order: an ack of a later request's heartbeat proves
 * leadership at a time after every earlier request arrived too.
 */
export class ReadOnly {
  private readonly byKey = new Map<string, ReadRequest>();
  private queue: string[] = [];

  constructor(readonly pendingMax: number) {}

  get size(): number {
    return this.queue.length;
  }

  full(): boolean {
    return this.queue.length >= this.pendingMax;
  }

  add(index: number, context: Uint8Array, from: NodeId): void {
    const key = contextKey(context);
    if (this.byKey.has(key)) return;
    assert(!this.full(), `${this.queue.length} reads already wait; the caller checks full() first`);
    this.byKey.set(key, { index, context, from, acks: new Set() });
    this.queue.push(key);
  }

  /** Records that `from` answered the heartbeat carrying `context`; the request's acks, or undefined. */
  recvAck(from: NodeId, context: Uint8Array): ReadonlySet<NodeId> | undefined {
    const request = this.byKey.get(contextKey(context));
    if (!request) return undefined;
    request.acks.add(from);
    return request.acks;
  }

  /** Releases every request up to and including the one with `context`. */
  advance(context: Uint8Array): ReadRequest[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.slice(0, at + 1).map((k) => this.byKey.get(k)!);
    for (const k of this.queue.slice(0, at + 1)) this.byKey.delete(k);
    this.queue = this.queue.slice(at + 1);
    return released;
  }

  /** The newest request's context: heartbeats carry it so one round confirms them all. */
  lastContext(): Uint8Array | null {
    const key = this.queue[this.queue.length - 1];
    return key === undefined ? null : this.byKey.get(key)!.context;
  }

  clear(): void {
    this.byKey.clear();
    this.queue = [];
  }
}
