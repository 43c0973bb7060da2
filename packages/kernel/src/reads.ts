import { type NodeId, type RaftNode, type ReadState } from '@kvapp/core';
import { answerError, answerOk, type Reply } from './answer.js';
import type { Expiring } from './deadlines.js';
import { RequestError, requestErrorOf } from './request-error.js';
import type { StateMachine } from './io.js';

export interface PendingRead extends Expiring {
  readonly key: string;
  /** The ReadIndex request this read rides on; null until its batch is asked. */
  batch: string | null;
  /** The confirmed read index; null until the leader confirmed the batch. */
  index: number | null;
  readonly reply: Reply<string | null>;
}

interface Batch {
  readonly reads: PendingRead[];
  waiting: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Linearizable reads by ReadIndex, batched: every read that arrived since the last ReadIndex
 * request shares the next one, since each request costs a heartbeat round to every peer. Still
 * linearizable: a batch's index is the commit index when it is asked, which is no earlier than
 * when any read in it arrived. A read is served once the state machine has applied its index.
 */
export class ReadBatcher {
  private unbatched: PendingRead[] = [];
  private readonly confirmedOrWaiting = new Set<PendingRead>();
  private readonly batches = new Map<string, Batch>();
  private batchSeq = 0;

  /** `contextPrefix` makes contexts unique across this node's restarts. */
  constructor(private readonly contextPrefix: string) {}

  get size(): number {
    return this.confirmedOrWaiting.size;
  }

  add(read: PendingRead): void {
    this.confirmedOrWaiting.add(read);
    this.unbatched.push(read);
  }

  /** Asks one ReadIndex for every read that arrived since the last ask. */
  ask(raft: RaftNode): void {
    if (this.unbatched.length === 0) return;
    const reads = this.unbatched.filter((r) => !r.settled);
    this.unbatched = [];
    if (reads.length === 0) return;
    const context = `${this.contextPrefix}${++this.batchSeq}`;
    try {
      raft.readIndex(encoder.encode(context));
    } catch (error) {
      const e = requestErrorOf(error);
      for (const read of reads) this.settle(read, e);
      return;
    }
    this.batches.set(context, { reads, waiting: reads.length });
    for (const read of reads) read.batch = context;
  }

  confirmed(readState: ReadState): void {
    const batch = this.batches.get(decoder.decode(readState.context));
    if (batch === undefined) return;
    for (const read of batch.reads) if (!read.settled) read.index = readState.index;
  }

  /** The leader refused the batch (it is new, or too many reads wait): fail it now, retryable. */
  refused(context: Uint8Array, leader: NodeId): void {
    const batch = this.batches.get(decoder.decode(context));
    if (batch === undefined) return;
    const error = new RequestError('OVERLOADED', 'the leader refused the read (it is new, or too many reads wait); retry', true, leader);
    for (const read of [...batch.reads]) if (read.index === null) this.settle(read, error);
  }

  /** Serves every confirmed read whose index the state machine has applied. */
  serve(sm: StateMachine): void {
    for (const read of this.confirmedOrWaiting) {
      if (read.index !== null && read.index <= sm.appliedIndex) this.finish(read, answerOk(sm.read(read.key)));
    }
  }

  /** A node that lost leadership cannot confirm the reads it has not confirmed yet. */
  failUnconfirmed(leader: NodeId): void {
    for (const read of this.confirmedOrWaiting) {
      if (read.index === null) {
        this.settle(read, new RequestError('NOT_LEADER', 'leadership changed before the read was confirmed', true, leader));
      }
    }
  }

  settle(read: PendingRead, error: RequestError): void {
    this.finish(read, answerError(error));
  }

  private finish(read: PendingRead, answer: Parameters<PendingRead['reply']>[0]): void {
    if (read.settled) return;
    read.settled = true;
    this.confirmedOrWaiting.delete(read);
    if (read.batch !== null) {
      const batch = this.batches.get(read.batch);
      if (batch !== undefined && --batch.waiting === 0) this.batches.delete(read.batch);
    }
    read.reply(answer);
  }
}
