import {
  KvCommandError,
  KvStateMachine,
  RaftError,
  encodeCommand,
  type Entry,
  type KvCommand,
  type KvOptions,
  type KvResult,
  type Message,
  type NodeId,
  type RaftNode,
  type RaftStatus,
  type ReadState,
  type Snapshot,
  type StateChange,
} from '@kvapp/core';
import { pino, type Logger } from 'pino';
import type { DurableLog } from './durable-log.js';
import { DriverError, type DriverErrorCode } from './driver-error.js';
import { logStateChange } from './state-change-log.js';

/** How a proposal ended: applied (whatever the command's own result), or the error that answered it. */
export type ProposalOutcome = 'applied' | Lowercase<DriverErrorCode>;

/** A KV command as a client sends it; the driver stamps the leader's clock (`nowMs`) itself. */
export type ClientCommand = KvCommand extends infer C ? (C extends KvCommand ? Omit<C, 'nowMs'> : never) : never;

export interface DriverLimits {
  /** Inputs waiting while a Ready is being persisted; past it, messages drop and requests get OVERLOADED. */
  readonly inboxMax: number;
  /** Proposals and reads waiting for an answer at once. */
  readonly pendingRequestsMax: number;
  /** A request with no answer by then gets TIMEOUT (indeterminate). */
  readonly requestTimeoutMs: number;
}

export const DRIVER_LIMITS_DEFAULT: DriverLimits = {
  inboxMax: 16_384,
  pendingRequestsMax: 8_192,
  requestTimeoutMs: 5_000,
};

export interface DriverOptions {
  readonly raft: RaftNode;
  readonly log: DurableLog;
  /** Hands messages to the transport; must not throw (a full queue drops, Raft retransmits). */
  readonly send: (messages: readonly Message[]) => void;
  /** The leader's clock for entries' `nowMs` (session expiry). Production passes Date.now. */
  readonly nowMs: () => number;
  readonly kvOptions?: Partial<KvOptions>;
  readonly limits?: Partial<DriverLimits>;
  /** The node cannot go on safely (failed fsync, broken invariant): the process must exit. */
  readonly onFatal: (error: unknown) => void;
  /** Called after each applied entry; for metrics and tests. */
  readonly onApplied?: (entry: Entry) => void;
  /** Where role, term and leader changes are logged (info); it should name the node. Silent when unset. */
  readonly logger?: Logger;
  /** Called for each change of role, term or leader, after it is logged; for metrics. */
  readonly onStateChange?: (change: StateChange) => void;
  /** Called once per execute() when its answer is known; for metrics. */
  readonly onProposal?: (outcome: ProposalOutcome) => void;
  /** Awaited before each entry is applied (the 'before-apply' failpoint); leave unset otherwise. */
  readonly beforeApply?: (entry: Entry) => Promise<void>;
  /** Awaited after each advance(), on the loop: the place for compaction, which must not race a persist. */
  readonly afterAdvance?: () => Promise<void>;
}

interface PendingProposal {
  readonly term: number;
  readonly resolve: (result: KvResult) => void;
  readonly reject: (error: DriverError) => void;
  readonly timer: NodeJS.Timeout;
}

interface PendingRead {
  readonly key: string;
  /** The ReadIndex request this read rides on; null until the batch is asked. */
  batch: string | null;
  index: number | null;
  readonly resolve: (value: string | null) => void;
  readonly reject: (error: DriverError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Drives one RaftNode against real I/O: the ready → persist → send → apply → advance loop.
 * Inputs that arrive while a Ready is being persisted wait in a bounded inbox and are handled
 * together afterwards, so everything that arrives during one fsync shares the next one
 * (group commit). All Raft calls happen on this loop, never concurrently.
 */
export class RaftDriver {
  private readonly raft: RaftNode;
  private readonly log: DurableLog;
  private readonly limits: DriverLimits;
  private kv: KvStateMachine;
  private inbox: (() => void)[] = [];
  private pumping = false;
  private stopped = false;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<number, PendingRead>();
  private readSeq = 0;
  /** Reads that arrived in this loop iteration: they share one ReadIndex request. */
  private unbatchedReads: number[] = [];
  /** ReadIndex context → the reads riding on it, and how many of them are still waiting. */
  private readonly readBatches = new Map<string, { readonly ids: number[]; waiting: number }>();
  private batchSeq = 0;
  private fatal: unknown = null;
  private readonly logger: Logger;

  constructor(private readonly options: DriverOptions) {
    this.raft = options.raft;
    this.log = options.log;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.limits = { ...DRIVER_LIMITS_DEFAULT, ...options.limits };
    this.kv = new KvStateMachine(options.kvOptions ?? {});
  }

  /** Restores the state machine from the newest snapshot before the first Ready (on restart). */
  restoreSnapshot(snapshot: Snapshot): void {
    if (snapshot.meta.index > 0) this.kv = KvStateMachine.restore(snapshot.data);
  }

  status(): RaftStatus {
    return this.raft.status();
  }

  get appliedIndex(): number {
    return this.kv.appliedIndex;
  }

  get pendingCount(): number {
    return this.proposals.size + this.reads.size;
  }

  tick(): void {
    this.enqueue(() => this.raft.tick(), false);
  }

  /** A message from a peer. Dropped when the inbox is full: Raft recovers lost messages. */
  step(message: Message): void {
    this.enqueue(() => this.raft.step(message), false);
  }

  /** Proposes a command and resolves with its result once applied on this node. */
  execute(command: ClientCommand): Promise<KvResult> {
    const answer = new Promise<KvResult>((resolve, reject) => {
      if (!this.admit(reject)) return;
      const accepted = this.enqueue(() => this.propose(command, resolve, reject), true);
      if (!accepted) reject(new DriverError('OVERLOADED', 'the node inbox is full', true));
    });
    const onProposal = this.options.onProposal;
    if (onProposal) {
      // Every way a proposal can end passes here, so each is counted once, by its answer.
      answer.then(
        () => onProposal('applied'),
        (error: unknown) => {
          if (error instanceof DriverError) onProposal(error.code.toLowerCase() as ProposalOutcome);
        },
      );
    }
    return answer;
  }

  /**
   * Asks this node, if it leads, to hand leadership to `to` (operator tooling, tests). Resolves
   * once the request is handed to Raft, not when the transfer completes: watch the state changes.
   */
  transferLeadership(to: NodeId): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const accepted = this.enqueue(() => {
        try {
          this.raft.transferLeadership(to);
          resolve();
        } catch (error) {
          reject(toDriverError(error));
        }
      }, true);
      if (!accepted) reject(new DriverError(this.stopped ? 'STOPPED' : 'OVERLOADED', 'the node does not accept input now', true));
    });
  }

  /** A linearizable read (ReadIndex): served once this node has applied the confirmed index. */
  readLinearizable(key: string): Promise<string | null> {
    return new Promise<string | null>((resolve, reject) => {
      if (!this.admit(reject)) return;
      const accepted = this.enqueue(() => this.startRead(key, resolve, reject), true);
      if (!accepted) reject(new DriverError('OVERLOADED', 'the node inbox is full', true));
    });
  }

  /** The applied state machine as bytes, for a snapshot at `index`. Call on the loop (afterAdvance). */
  snapshotState(): { index: number; data: Uint8Array } {
    return { index: this.kv.appliedIndex, data: this.kv.snapshot() };
  }

  /** Reads this node's applied state as it is: may be stale, never waits for a quorum. */
  readLocal(key: string): string | null {
    return this.kv.read(key);
  }

  /** Answers every waiting request as STOPPED (indeterminate) and refuses new ones. */
  stop(): void {
    this.stopped = true;
    const stopped = (): DriverError => new DriverError('STOPPED', 'the node is shutting down', false);
    for (const [index, p] of this.proposals) this.settleProposal(index, p, null, stopped());
    for (const [id, r] of this.reads) this.settleRead(id, r, null, stopped());
    this.inbox = [];
  }

  /** Resolves when no Ready is being handled: the last persist has finished. */
  async idle(): Promise<void> {
    while (this.pumping) await new Promise((resolve) => setImmediate(resolve));
  }

  // ---- the loop --------------------------------------------------------------------------

  private admit(reject: (error: DriverError) => void): boolean {
    if (this.stopped) {
      reject(new DriverError('STOPPED', 'the node is shutting down', true));
      return false;
    }
    if (this.pendingCount >= this.limits.pendingRequestsMax) {
      reject(new DriverError('OVERLOADED', `${this.pendingCount} requests already wait`, true));
      return false;
    }
    return true;
  }

  private enqueue(input: () => void, isRequest: boolean): boolean {
    if (this.stopped || this.fatal !== null) return false;
    if (this.inbox.length >= this.limits.inboxMax && !isRequest) return false;
    if (this.inbox.length >= this.limits.inboxMax * 2) return false;
    this.inbox.push(input);
    this.pump();
    return true;
  }

  private pump(): void {
    if (this.pumping || this.stopped) return;
    this.pumping = true;
    queueMicrotask(() => {
      this.run()
        .catch((error: unknown) => {
          this.fatal = error;
          this.options.onFatal(error);
        })
        .finally(() => {
          this.pumping = false;
          if (this.fatal === null && this.inbox.length > 0) this.pump();
        });
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      const inputs = this.inbox;
      this.inbox = [];
      for (const input of inputs) input();
      this.askReadIndex();
      if (this.stopped || !this.raft.hasReady()) return;
      const rd = this.raft.ready();
      for (const change of rd.stateChanges) {
        logStateChange(this.logger, change);
        this.options.onStateChange?.(change);
      }
      this.options.send(rd.messages);
      if (rd.snapshot || rd.entries.length > 0 || rd.hardState) {
        await this.log.persist({ hardState: rd.hardState, entries: rd.entries, snapshot: rd.snapshot, mustSync: rd.mustSync });
      }
      this.options.send(rd.messagesAfterPersist);
      if (rd.snapshot) this.installSnapshot(rd.snapshot);
      for (const entry of rd.committedEntries) {
        if (this.options.beforeApply) await this.options.beforeApply(entry);
        this.apply(entry);
      }
      for (const readState of rd.readStates) this.readConfirmed(readState);
      for (const context of rd.readsRefused) this.readRefused(context);
      this.serveReads();
      this.raft.advance();
      if (rd.softState && rd.softState.role !== 'leader') this.failReadsNotLeader();
      if (this.options.afterAdvance) await this.options.afterAdvance();
    }
  }

  // ---- proposals --------------------------------------------------------------------------

  private propose(command: ClientCommand, resolve: (r: KvResult) => void, reject: (e: DriverError) => void): void {
    let data: Uint8Array;
    try {
      data = encodeCommand({ ...command, nowMs: this.options.nowMs() } as KvCommand);
    } catch (error) {
      if (!(error instanceof KvCommandError)) throw error;
      reject(new DriverError('BAD_REQUEST', error.message, true));
      return;
    }
    let placed: { index: number; term: number };
    try {
      placed = this.raft.propose(data);
    } catch (error) {
      reject(toDriverError(error));
      return;
    }
    const timer = setTimeout(() => {
      const p = this.proposals.get(placed.index);
      if (p) this.settleProposal(placed.index, p, null, new DriverError('TIMEOUT', 'no result within the deadline', false));
    }, this.limits.requestTimeoutMs);
    timer.unref();
    this.proposals.set(placed.index, { term: placed.term, resolve, reject, timer });
  }

  private apply(entry: Entry): void {
    const result = this.kv.apply(entry);
    this.options.onApplied?.(entry);
    const pending = this.proposals.get(entry.index);
    if (!pending) return;
    if (entry.term === pending.term && result !== null) this.settleProposal(entry.index, pending, result, null);
    else this.settleProposal(entry.index, pending, null, new DriverError('PROPOSAL_DROPPED', 'another leader replaced the entry', true));
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.kv = KvStateMachine.restore(snapshot.data);
    for (const [index, p] of this.proposals) {
      if (index <= snapshot.meta.index) {
        this.settleProposal(index, p, null, new DriverError('OUTCOME_UNKNOWN', 'a snapshot replaced the log', false));
      }
    }
  }

  private settleProposal(index: number, p: PendingProposal, result: KvResult | null, error: DriverError | null): void {
    clearTimeout(p.timer);
    this.proposals.delete(index);
    if (result !== null) p.resolve(result);
    else p.reject(error!);
  }

  // ---- reads ------------------------------------------------------------------------------

  private startRead(key: string, resolve: (v: string | null) => void, reject: (e: DriverError) => void): void {
    const id = ++this.readSeq;
    const timer = setTimeout(() => {
      const r = this.reads.get(id);
      if (r) this.settleRead(id, r, null, new DriverError('TIMEOUT', 'read not confirmed within the deadline', true));
    }, this.limits.requestTimeoutMs);
    timer.unref();
    this.reads.set(id, { key, batch: null, index: null, resolve, reject, timer });
    this.unbatchedReads.push(id);
  }

  /**
   * One ReadIndex request for every read that arrived since the last one: each request costs a
   * heartbeat round to every peer, so this is one round per loop iteration, not one per read.
   * Still linearizable: the index is the commit index when the batch is asked, which is no
   * earlier than when any read in it arrived.
   */
  private askReadIndex(): void {
    if (this.unbatchedReads.length === 0) return;
    const ids = this.unbatchedReads.filter((id) => this.reads.has(id));
    this.unbatchedReads = [];
    if (ids.length === 0) return;
    const contextKey = `r${++this.batchSeq}`;
    try {
      this.raft.readIndex(new TextEncoder().encode(contextKey));
    } catch (error) {
      const e = toDriverError(error);
      for (const id of ids) this.settleRead(id, this.reads.get(id)!, null, e);
      return;
    }
    this.readBatches.set(contextKey, { ids, waiting: ids.length });
    for (const id of ids) this.reads.get(id)!.batch = contextKey;
  }

  private readConfirmed(readState: ReadState): void {
    const batch = this.readBatches.get(new TextDecoder().decode(readState.context));
    if (batch === undefined) return;
    for (const id of batch.ids) {
      const read = this.reads.get(id);
      if (read) read.index = readState.index;
    }
  }

  /** The leader refused the batch's ReadIndex (not ready yet, or its read queue is full): fail it now, retryable. */
  private readRefused(context: Uint8Array): void {
    const batch = this.readBatches.get(new TextDecoder().decode(context));
    if (batch === undefined) return;
    const error = new DriverError('OVERLOADED', 'the leader refused the read (it is new, or too many reads wait); retry', true, this.raft.status().lead);
    for (const id of [...batch.ids]) {
      const read = this.reads.get(id);
      if (read && read.index === null) this.settleRead(id, read, null, error);
    }
  }

  private serveReads(): void {
    for (const [id, read] of this.reads) {
      if (read.index !== null && read.index <= this.kv.appliedIndex) {
        this.settleRead(id, read, this.kv.read(read.key), null);
      }
    }
  }

  /** Reads not yet confirmed cannot be confirmed by a node that lost leadership: fail them now. */
  private failReadsNotLeader(): void {
    const leader = this.raft.status().lead;
    for (const [id, read] of this.reads) {
      if (read.index === null) {
        this.settleRead(id, read, null, new DriverError('NOT_LEADER', 'leadership changed before the read was confirmed', true, leader));
      }
    }
  }

  private settleRead(id: number, r: PendingRead, value: string | null | undefined, error: DriverError | null): void {
    clearTimeout(r.timer);
    this.reads.delete(id);
    const batch = r.batch === null ? undefined : this.readBatches.get(r.batch);
    if (batch !== undefined && --batch.waiting === 0) this.readBatches.delete(r.batch!);
    if (error === null) r.resolve(value ?? null);
    else r.reject(error);
  }
}

function toDriverError(error: unknown): DriverError {
  if (error instanceof RaftError) {
    switch (error.code) {
      case 'NOT_LEADER':
        return new DriverError('NOT_LEADER', error.message, true, error.leaderHint);
      case 'UNCOMMITTED_BYTES_EXCEEDED':
      case 'READ_QUEUE_FULL':
      case 'TRANSFER_IN_PROGRESS':
      case 'READ_NOT_READY':
        return new DriverError('OVERLOADED', error.message, true, error.leaderHint);
      default:
        return new DriverError('OVERLOADED', error.message, true);
    }
  }
  throw error;
}

export type { NodeId };
