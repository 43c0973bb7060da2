import {
  encodeCommand,
  KvCommandError,
  type ConfChange,
  type Entry,
  type KvCommand,
  type KvResult,
  type Message,
  type NodeId,
  type PersistToken,
  type RaftNode,
  type Ready,
  type Snapshot,
  type SoftState,
} from '@kvapp/core';
import { answerError, answerOk, type Reply } from './answer.js';
import { DeadlineQueue } from './deadlines.js';
import type { KernelIo, KernelObserver, StateMachine, WriteJob } from './io.js';
import { Proposals, type PendingProposal } from './proposals.js';
import { ReadBatcher, type PendingRead } from './reads.js';
import { RequestError, requestErrorOf } from './request-error.js';
import { KERNEL_UNSAFE_NONE, type KernelUnsafeSwitches } from './unsafe.js';

/** A KV command as a client sends it; the kernel stamps the node's clock (`nowMs`) itself. */
export type ClientCommand = KvCommand extends infer C ? (C extends KvCommand ? Omit<C, 'nowMs'> : never) : never;

export interface KernelLimits {
  /** Inputs waiting to be stepped; past it, messages and ticks drop and requests get OVERLOADED. */
  readonly inboxMax: number;
  /**
   * Readies handed off whose writes (or the writes before them) are not done yet. At the bound
   * the kernel stops stepping inputs until a write completes, so a slow disk holds input back in
   * the bounded inbox instead of growing the core's in-memory log.
   */
  readonly readiesInFlightMax: number;
  /** Proposals and reads waiting for an answer at once. */
  readonly pendingRequestsMax: number;
  /** A request with no answer after this many ticks gets TIMEOUT (indeterminate for a write). */
  readonly requestTimeoutTicks: number;
}

export const KERNEL_LIMITS_DEFAULT: KernelLimits = {
  inboxMax: 16_384,
  readiesInFlightMax: 256,
  pendingRequestsMax: 8_192,
  requestTimeoutTicks: 500,
};

export interface KernelOptions {
  readonly raft: RaftNode;
  /** The state machine as of the storage's snapshot (empty for a new node). */
  readonly stateMachine: StateMachine;
  /** Builds a state machine from a snapshot's bytes (an InstallSnapshot from the leader). */
  readonly restore: (data: Uint8Array) => StateMachine;
  readonly io: KernelIo;
  readonly observer?: KernelObserver;
  readonly limits?: Partial<KernelLimits>;
  /** Snapshot the state and compact the log every this many applied entries; 0 never. */
  readonly snapshotEntries: number;
  /** Makes ReadIndex contexts unique across this node's lives (a restart counter, a random token). */
  readonly readContextPrefix?: string;
  /**
   * When true, inputs only queue until `flush()`: a host that calls it once per event-loop turn
   * makes everything that arrived in that turn share one pass (one append, one ReadIndex round).
   * When false (default), each input is handled before the call returns.
   */
  readonly deferDrive?: boolean;
  /** Test-only planted bugs (the simulator's); all off by default. Never set outside a test. */
  readonly unsafe?: KernelUnsafeSwitches;
}

type Input = () => void;

/**
 * What stays due after the core accepted a Ready or the kernel queued a compaction, in start
 * order: the Ready's `messagesAfterPersist` and the core's persisted() call wait for its write
 * and every write before it; a Ready with nothing to write waits only for the earlier ones.
 */
type Due =
  { readonly kind: 'ready'; readonly rd: Ready; readonly token: PersistToken; readonly writes: boolean } | { readonly kind: 'compact' };

/**
 * The node kernel: everything between a node's inputs and the Raft core, with no I/O of its own.
 * kvapp-node runs it on real files, sockets and timers; the simulator runs the very same code on
 * virtual ones.
 *
 * It turns inputs (ticks, peer messages, client requests, finished writes, transport reports)
 * into core calls and carries out each Ready: `messages` at once; the snapshot and committed
 * entries applied at once too (answering the proposals and reads that wait on them); the writes
 * started as one job and the Ready handed back to the core (accept()), so inputs keep being
 * stepped while the write is in flight (asynchronous persistence); when that job and every
 * earlier one completed, `messagesAfterPersist` and persisted(). docs/node-kernel.md says why
 * each of these may or may not go before the write completes. Group commit is the host's: the
 * WAL writes every save made during one fsync with the next. Request deadlines count ticks,
 * swept on each tick, so the kernel never reads a clock except to stamp commands.
 */
export class NodeKernel {
  readonly raft: RaftNode;
  private sm: StateMachine;
  private readonly io: KernelIo;
  private readonly observer: KernelObserver;
  private readonly limits: KernelLimits;
  private readonly unsafe: Required<KernelUnsafeSwitches>;
  private inbox: Input[] = [];
  /** Accepted Readies and compactions whose completion is due, oldest first. */
  private readonly due: Due[] = [];
  /** Write jobs started whose writeDone() has not come yet. */
  private jobsInFlight = 0;
  /** writeDone() calls not yet carried out (they wait for the drive loop, never run inside a Ready). */
  private jobsDoneUnhandled = 0;
  private driving = false;
  private stopped = false;
  private ticks = 0;
  /** Requests admitted and not yet answered. */
  private pending = 0;
  /** Replies of queued membership changes and transfers, answered STOPPED by stop(). */
  private readonly controlReplies = new Set<Reply<never>>();
  private soft: SoftState;
  /** The newest hard state whose commit-only change has not been written yet. */
  private hardStateUnwritten: Ready['hardState'] = null;
  private lastSnapshotIndex: number;
  private readonly proposals: Proposals;
  private readonly reads: ReadBatcher;
  private readonly deadlines = new DeadlineQueue<PendingProposal | PendingRead>();

  constructor(private readonly options: KernelOptions) {
    this.raft = options.raft;
    this.sm = options.stateMachine;
    this.io = options.io;
    this.observer = options.observer ?? {};
    this.limits = { ...KERNEL_LIMITS_DEFAULT, ...options.limits };
    if (!(this.limits.readiesInFlightMax >= 1)) throw new RangeError('readiesInFlightMax must be at least 1');
    this.unsafe = { ...KERNEL_UNSAFE_NONE, ...options.unsafe };
    this.proposals = new Proposals({ matchIndexOnly: this.unsafe.answerReplacedEntry });
    this.lastSnapshotIndex = this.sm.appliedIndex;
    this.reads = new ReadBatcher(options.readContextPrefix ?? 'r');
    const status = this.raft.status();
    this.soft = { leader: status.lead, role: status.role };
  }

  // ---- what others may ask -------------------------------------------------------------------

  get appliedIndex(): number {
    return this.sm.appliedIndex;
  }

  /** Role and leader as of the last Ready: cheap, for every request. */
  get softState(): SoftState {
    return this.soft;
  }

  /** Requests admitted and not yet answered, including those still in the inbox. */
  get pendingCount(): number {
    return this.pending;
  }

  /** Write jobs started and not yet done. */
  get writesInFlight(): number {
    return this.jobsInFlight;
  }

  /** The applied state machine, for snapshots taken by an operator and for tests. */
  get stateMachine(): StateMachine {
    return this.sm;
  }

  /** Reads this node's applied state as it is: may be stale, never waits for a quorum. */
  readLocal(key: string): string | null {
    return this.sm.read(key);
  }

  // ---- inputs ----------------------------------------------------------------------------------

  /** One tick of logical time: Raft's timers, and the deadline sweep of waiting requests. */
  tick(): void {
    if (this.stopped) return;
    this.ticks++;
    this.deadlines.sweep(this.ticks, (item) => this.expire(item));
    this.enqueue(() => this.raft.tick(), { request: false });
  }

  /** A message from a peer. Dropped when the inbox is full: Raft recovers lost messages. */
  step(message: Message): void {
    this.enqueue(() => this.raft.step(message), { request: false });
  }

  /** Proposes a command; `reply` gets its result once applied on this node. */
  propose(command: ClientCommand, reply: Reply<KvResult>): void {
    if (!this.admit(reply)) return;
    const proposal: PendingProposal = { index: -1, term: 0, reply: this.counted(reply), deadlineTick: this.deadlineTick(), settled: false };
    // Pushed before it is queued: a reply called from inside a synchronous drive may tick and
    // admit another request, whose deadline must not come before this one in the queue.
    this.deadlines.push(proposal);
    this.enqueueRequest(() => this.startProposal(command, proposal), proposal);
  }

  /** A linearizable read (ReadIndex): served once this node has applied the confirmed index. */
  read(key: string, reply: Reply<string | null>): void {
    if (!this.admit(reply)) return;
    const read: PendingRead = {
      key,
      batch: null,
      index: null,
      reply: this.counted(reply),
      deadlineTick: this.deadlineTick(),
      settled: false,
    };
    this.deadlines.push(read);
    this.enqueueRequest(() => this.startRead(read), read);
  }

  /** Proposes a membership change; `reply` says where it was placed, or why it was refused. */
  proposeConfChange(change: ConfChange, reply: Reply<{ index: number; term: number }> = () => {}): void {
    reply = this.answeredOnStop(reply);
    this.enqueueRequest(
      () => {
        try {
          reply(answerOk(this.raft.proposeConfChange(change)));
        } catch (error) {
          reply(answerError(requestErrorOf(error)));
        }
      },
      null,
      reply,
    );
  }

  /** Hands leadership to `to`; `reply` says whether the transfer started. */
  transferLeadership(to: NodeId, reply: Reply<null> = () => {}): void {
    reply = this.answeredOnStop(reply);
    this.enqueueRequest(
      () => {
        try {
          this.raft.transferLeadership(to);
          reply(answerOk(null));
        } catch (error) {
          reply(answerError(requestErrorOf(error)));
        }
      },
      null,
      reply,
    );
  }

  /**
   * Snapshots the applied state and compacts the log now (operator tooling), whatever
   * `snapshotEntries` says; `reply` gets the index the snapshot covers. When nothing was applied
   * since the last snapshot it answers that snapshot's index and writes nothing.
   */
  compactNow(reply: Reply<{ index: number }> = () => {}): void {
    reply = this.answeredOnStop(reply);
    this.enqueueRequest(
      () => {
        this.compact(true);
        reply(answerOk({ index: this.lastSnapshotIndex }));
      },
      null,
      reply,
    );
  }

  /** Handles every queued input (with `deferDrive`; otherwise inputs never wait for it). */
  flush(): void {
    this.drive();
  }

  /** The oldest write job started is done (jobs complete in start order). */
  writeDone(): void {
    if (this.jobsInFlight === 0) throw new Error('writeDone() with no write in flight');
    this.jobsInFlight--;
    if (this.stopped) return;
    this.jobsDoneUnhandled++;
    this.drive();
  }

  /** The transport could not reach `peer`: the leader stops pipelining to it and probes. */
  unreachable(peer: NodeId): void {
    this.enqueue(() => this.raft.reportUnreachable(peer), { request: false });
  }

  /** The transport finished sending a snapshot to `peer` (or gave up): appends resume. */
  snapshotSent(peer: NodeId, succeeded: boolean): void {
    this.enqueue(() => this.raft.reportSnapshot(peer, succeeded), { request: false });
  }

  /**
   * Answers every waiting request as STOPPED (indeterminate: a proposal may still commit) and
   * refuses new input. Writes in flight still complete; wait for `writesInFlight` to reach 0.
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inbox = [];
    const error = new RequestError('STOPPED', 'the node is shutting down', false);
    for (const item of this.deadlines.unsettled()) this.settleEarly(item, error);
    // Still queued, so certainly not proposed: definite.
    for (const reply of [...this.controlReplies]) reply(answerError(new RequestError('STOPPED', 'the node is shutting down', true)));
  }

  // ---- the loop --------------------------------------------------------------------------------

  private admit(reply: Reply<never>): boolean {
    if (this.stopped) {
      reply(answerError(new RequestError('STOPPED', 'the node is shutting down', true)));
      return false;
    }
    if (this.pendingCount >= this.limits.pendingRequestsMax) {
      reply(answerError(new RequestError('OVERLOADED', `${this.pendingCount} requests already wait`, true)));
      return false;
    }
    return true;
  }

  /**
   * A membership change or transfer has no deadline record; until its input runs, stop() must
   * still be able to answer it. The wrapper answers once, whoever calls it first.
   */
  private answeredOnStop<T>(reply: Reply<T>): Reply<T> {
    const once: Reply<T> = (answer) => {
      if (!this.controlReplies.delete(once as Reply<never>)) return;
      reply(answer);
    };
    this.controlReplies.add(once as Reply<never>);
    return once;
  }

  /** Counts the request as pending until its reply is called (exactly once). */
  private counted<T>(reply: Reply<T>): Reply<T> {
    this.pending++;
    return (answer) => {
      this.pending--;
      reply(answer);
    };
  }

  private deadlineTick(): number {
    return this.ticks + this.limits.requestTimeoutTicks;
  }

  /**
   * Queues a client request. Refused (OVERLOADED, definite) when the inbox is full; `pending`
   * is the request's record when it has one, answered STOPPED if the node stops first.
   */
  private enqueueRequest(input: Input, pending: PendingProposal | PendingRead | null, reply?: Reply<never>): boolean {
    if (this.enqueue(input, { request: true })) return true;
    const error = this.stopped
      ? new RequestError('STOPPED', 'the node is shutting down', true)
      : new RequestError('OVERLOADED', 'the node inbox is full', true);
    if (pending !== null) pending.settled = true;
    (pending?.reply ?? reply!)(answerError(error));
    return false;
  }

  private enqueue(input: Input, o: { readonly request: boolean }): boolean {
    if (this.stopped) return false;
    const max = o.request ? this.limits.inboxMax * 2 : this.limits.inboxMax;
    if (this.inbox.length >= max) return false;
    this.inbox.push(input);
    if (this.options.deferDrive !== true) this.drive();
    return true;
  }

  /**
   * Runs completed writes, inputs and Readies until nothing is left, or until the Readies in
   * flight reach their bound. Re-entrant calls (an output that calls straight back in) only
   * queue: the outer pass picks their input up.
   */
  private drive(): void {
    if (this.driving || this.stopped) return;
    this.driving = true;
    try {
      while (!this.stopped) {
        this.handleWritesDone();
        if (this.due.length >= this.limits.readiesInFlightMax) return;
        const inputs = this.inbox;
        this.inbox = [];
        for (const input of inputs) input();
        this.reads.ask(this.raft);
        if (!this.raft.hasReady()) {
          if (this.inbox.length === 0 && this.jobsDoneUnhandled === 0) return;
          continue;
        }
        this.handleReady(this.raft.ready());
      }
    } finally {
      this.driving = false;
    }
  }

  /**
   * One Ready: what may go before its writes go now, the writes start, and the core takes the
   * Ready back (accept) so input can be stepped while they are in flight.
   */
  private handleReady(rd: Ready): void {
    if (this.observer.stateChange) for (const change of rd.stateChanges) this.observer.stateChange(change);
    this.io.send(rd.messages);
    if (this.unsafe.ackBeforePersist) this.io.send(rd.messagesAfterPersist);
    this.applyReady(rd);
    const job = this.persistJob(rd);
    const token = this.raft.accept();
    if (rd.softState) {
      this.soft = rd.softState;
      if (rd.softState.role !== 'leader') this.reads.failUnconfirmed(rd.softState.leader);
    }
    this.due.push({ kind: 'ready', rd, token, writes: job !== null });
    if (job !== null) this.startJob(job);
    this.finishUnwritten();
    this.maybeCompact();
  }

  /** Carries out the writeDone() calls that came in, each for the oldest job still due. */
  private handleWritesDone(): void {
    while (this.jobsDoneUnhandled > 0 && !this.stopped) {
      this.jobsDoneUnhandled--;
      const head = this.due.shift();
      if (head === undefined || (head.kind === 'ready' && !head.writes)) throw new Error('writeDone() matched no write job');
      if (head.kind === 'ready') this.finishReady(head.rd, head.token);
      this.finishUnwritten();
    }
  }

  /** Readies with nothing to write are done once every write before them is. */
  private finishUnwritten(): void {
    for (let head = this.due[0]; head?.kind === 'ready' && !head.writes; head = this.due[0]) {
      this.due.shift();
      this.finishReady(head.rd, head.token);
    }
  }

  /** The Ready's writes and all before them are durable: the promises they back may go now. */
  private finishReady(rd: Ready, token: PersistToken): void {
    if (rd.entries.length > 0) this.observer.persisted?.(rd.entries);
    if (!this.unsafe.ackBeforePersist) this.io.send(rd.messagesAfterPersist);
    this.raft.persisted(token);
  }

  /** The Ready's writes as one job, or null when it has nothing that must be written now. */
  private persistJob(rd: Ready): WriteJob | null {
    const hardState = rd.hardState ?? this.hardStateUnwritten;
    if (rd.entries.length === 0 && rd.snapshot === null && !rd.mustSync) {
      // A commit-only change: nothing waits on it (a restart recomputes commit), so it goes with the next write.
      if (rd.hardState !== null) this.hardStateUnwritten = rd.hardState;
      return null;
    }
    this.hardStateUnwritten = null;
    return { kind: 'persist', hardState, entries: rd.entries, snapshot: rd.snapshot, mustSync: rd.mustSync || rd.snapshot !== null };
  }

  private startJob(job: WriteJob): void {
    this.jobsInFlight++;
    this.io.startWrite(job);
  }

  /**
   * What a Ready lets the state machine do at once, without waiting for its writes: install the
   * snapshot and apply the committed entries, answering proposals and serving reads. Safe before
   * this node's own write completes because committed entries are durable on a quorum already
   * (a leader counts itself only after its own write), and the state machine is rebuilt from the
   * snapshot and log after a crash; compaction is a write job queued behind this one.
   */
  private applyReady(rd: Ready): void {
    if (rd.snapshot) this.installSnapshot(rd.snapshot);
    if (this.unsafe.applyUncommitted) this.applyUncommitted(rd);
    else for (const entry of rd.committedEntries) this.apply(entry);
    for (const readState of rd.readStates) this.reads.confirmed(readState);
    for (const context of rd.readsRefused) this.reads.refused(context, rd.softState?.leader ?? this.soft.leader);
    this.reads.serve(this.sm);
  }

  // ---- proposals and apply -------------------------------------------------------------------

  private startProposal(command: ClientCommand, proposal: PendingProposal): void {
    if (proposal.settled) return; // expired or stopped while it waited in the inbox
    let data: Uint8Array;
    try {
      data = encodeCommand({ ...command, nowMs: this.io.nowMs() } as KvCommand);
    } catch (error) {
      if (!(error instanceof KvCommandError)) throw error;
      this.proposals.settle(proposal, new RequestError('BAD_REQUEST', error.message, true));
      return;
    }
    let placed: { index: number; term: number };
    try {
      placed = this.raft.propose(data);
    } catch (error) {
      this.proposals.settle(proposal, requestErrorOf(error));
      return;
    }
    proposal.index = placed.index;
    proposal.term = placed.term;
    this.proposals.add(proposal);
  }

  private startRead(read: PendingRead): void {
    if (read.settled) return;
    this.reads.add(read);
  }

  private apply(entry: Entry): void {
    this.observer.beforeApply?.(entry);
    const result = this.sm.apply(entry);
    this.observer.applied?.(entry);
    this.proposals.applied(entry, result);
  }

  /**
   * The planted bug `applyUncommitted`: the new entries are applied at once, committed or not;
   * committed entries the state machine already passed are skipped, whatever they hold now.
   */
  private applyUncommitted(rd: Ready): void {
    for (const entry of [...rd.committedEntries, ...rd.entries]) {
      if (entry.index === this.sm.appliedIndex + 1) this.apply(entry);
    }
  }

  private installSnapshot(snapshot: Snapshot): void {
    this.sm = this.options.restore(snapshot.data);
    this.lastSnapshotIndex = snapshot.meta.index;
    this.proposals.replacedUpTo(snapshot.meta.index);
  }

  /**
   * Snapshots the applied state and compacts the log every `snapshotEntries` entries. The job is
   * queued behind the writes of every entry applied so far (jobs complete in order), so the
   * snapshot never covers an entry the log on disk does not hold.
   */
  private maybeCompact(): void {
    this.compact(false);
  }

  /** Compacts when `snapshotEntries` entries were applied since the last snapshot, or at once when `now`. */
  private compact(now: boolean): void {
    const every = this.options.snapshotEntries;
    const applied = this.sm.appliedIndex;
    if (applied <= this.lastSnapshotIndex) return;
    if (!now && (every <= 0 || applied - this.lastSnapshotIndex < every)) return;
    this.lastSnapshotIndex = applied;
    // The configuration as of the applied index: membership changes take effect as they apply.
    this.due.push({ kind: 'compact' });
    this.startJob({ kind: 'compact', index: applied, conf: this.raft.status().conf, data: this.sm.snapshot() });
  }

  // ---- deadlines -----------------------------------------------------------------------------

  private expire(item: PendingProposal | PendingRead): void {
    this.settleEarly(item, new RequestError('TIMEOUT', 'no result within the deadline', false));
  }

  /** Reads never change anything, so every early answer to a read is definite. */
  private settleEarly(item: PendingProposal | PendingRead, error: RequestError): void {
    if ('key' in item) this.reads.settle(item, new RequestError(error.code, error.message, true));
    else this.proposals.settle(item, error);
  }
}
