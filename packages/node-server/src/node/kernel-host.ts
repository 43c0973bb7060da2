import { randomBytes } from 'node:crypto';
import {
  KvStateMachine,
  type KvOptions,
  type ConfChange,
  type KvResult,
  type MemberAddresses,
  type Message,
  type NodeId,
  type RaftNode,
  type RaftStatus,
  type Snapshot,
  type SoftState,
  type StateChange,
} from '@kvapp/core';
import {
  NodeKernel,
  RequestError,
  type Answer,
  type ClientCommand,
  type KernelObserver,
  type RequestErrorCode,
  type WriteJob,
} from '@kvapp/kernel';
import type { Logger } from 'pino';
import type { DurableLog } from './durable-log.js';
import { logStateChange } from './state-change-log.js';

/** How a proposal ended: applied (whatever the command's own result), or the error that answered it. */
export type ProposalOutcome = 'applied' | Lowercase<RequestErrorCode>;

export interface HostLimits {
  /** Inputs waiting to be stepped; past it, messages drop and requests get OVERLOADED. */
  readonly inboxMax: number;
  /** Proposals and reads waiting for an answer at once. */
  readonly pendingRequestsMax: number;
  /** A request with no answer by then gets TIMEOUT (indeterminate for a write). */
  readonly requestTimeoutMs: number;
}

export const HOST_LIMITS_DEFAULT: HostLimits = {
  inboxMax: 16_384,
  pendingRequestsMax: 8_192,
  requestTimeoutMs: 5_000,
};

export interface KernelHostOptions {
  readonly raft: RaftNode;
  readonly log: DurableLog;
  /** The snapshot the state machine starts from (index 0: empty). */
  readonly snapshot?: Snapshot;
  /** Hands messages to the transport; must not throw (a full queue drops, Raft retransmits). */
  readonly send: (messages: readonly Message[]) => void;
  /** The leader's clock for entries' `nowMs` (session expiry). Production passes Date.now. */
  readonly nowMs: () => number;
  /** How often tick() is called: request deadlines count ticks. */
  readonly tickMs: number;
  readonly kvOptions?: Partial<KvOptions>;
  readonly limits?: Partial<HostLimits>;
  /** Snapshot and compact the log every this many applied entries; 0 (default) never. */
  readonly snapshotEntries?: number;
  /** The node cannot go on safely (failed fsync, broken invariant): the process must exit. */
  readonly onFatal: (error: unknown) => void;
  /** Observes the kernel (metrics, logs, the before-apply failpoint). */
  readonly observer?: KernelObserver;
  /** Where role, term and leader changes are logged (info); it should name the node. Silent when unset. */
  readonly logger?: Logger;
  /** Called for each change of role, term or leader, after it is logged; for metrics. */
  readonly onStateChange?: (change: StateChange) => void;
  /** Called once per execute() when its answer is known; for metrics. */
  readonly onProposal?: (outcome: ProposalOutcome) => void;
  /** A snapshot of `bytes` at `index` was written and the log before it dropped; for the log. */
  readonly onCompacted?: (index: number, bytes: number) => void;
  /** A snapshot received from the leader was written (in `ms`): this node jumped to `index`. */
  readonly onSnapshotInstalled?: (index: number, bytes: number, ms: number) => void;
}

/**
 * Runs the node kernel (@kvapp/kernel) on real I/O: its write jobs go to the durable log (entry
 * writes at once, to be group-committed by the WAL) and come back as writeDone() in start order;
 * its requests become promises. Everything between an input and the core is the kernel's, the
 * same code the simulator runs. Every call into the kernel is guarded: a throw there is a bug the
 * node cannot survive, so it becomes onFatal.
 */
export class KernelHost {
  readonly kernel: NodeKernel;
  /** Settles once every job started so far has completed to the kernel. */
  private writes: Promise<void> = Promise.resolve();
  /**
   * Jobs that keep later entry writes from going to the log at once: snapshot and compaction
   * jobs until they complete, entry writes queued behind one until they start.
   */
  private jobsHeldBack = 0;
  private fatal: unknown = null;
  private flushScheduled = false;

  constructor(private readonly options: KernelHostOptions) {
    const limits = { ...HOST_LIMITS_DEFAULT, ...options.limits };
    const snapshot = options.snapshot;
    const kvOptions = options.kvOptions ?? {};
    this.kernel = new NodeKernel({
      raft: options.raft,
      stateMachine: snapshot && snapshot.meta.index > 0 ? KvStateMachine.restore(snapshot.data) : new KvStateMachine(kvOptions),
      restore: (data) => KvStateMachine.restore(data),
      snapshotEntries: options.snapshotEntries ?? 0,
      limits: {
        inboxMax: limits.inboxMax,
        pendingRequestsMax: limits.pendingRequestsMax,
        requestTimeoutTicks: Math.max(1, Math.ceil(limits.requestTimeoutMs / options.tickMs)),
      },
      io: { send: options.send, startWrite: (job) => this.startWrite(job), nowMs: options.nowMs },
      deferDrive: true,
      // ReadIndex contexts unique across this process's restarts, not only within one life.
      readContextPrefix: `${randomBytes(4).toString('hex')}.`,
      observer: {
        ...options.observer,
        stateChange: (change) => {
          if (options.logger) logStateChange(options.logger, change);
          options.onStateChange?.(change);
          options.observer?.stateChange?.(change);
        },
      },
    });
  }

  // ---- queries ---------------------------------------------------------------------------------

  /** Role and leader as of the last Ready: cheap, for every request. */
  get softState(): SoftState {
    return this.kernel.softState;
  }

  /** The full Raft status (builds a progress map on a leader): for /health and the status request. */
  status(): RaftStatus {
    return this.kernel.raft.status();
  }

  get appliedIndex(): number {
    return this.kernel.appliedIndex;
  }

  get pendingCount(): number {
    return this.kernel.pendingCount;
  }

  /** Addresses of the members added through the log, as of the applied index. */
  get memberAddresses(): ReadonlyMap<NodeId, MemberAddresses> {
    return (this.kernel.stateMachine as KvStateMachine).memberAddresses;
  }

  /** Reads this node's applied state as it is: may be stale, never waits for a quorum. */
  readLocal(key: string): string | null {
    return this.kernel.readLocal(key);
  }

  // ---- inputs ----------------------------------------------------------------------------------

  tick(): void {
    this.guard(() => this.kernel.tick());
  }

  /** A message from a peer. Dropped when the inbox is full: Raft recovers lost messages. */
  step(message: Message): void {
    this.guard(() => this.kernel.step(message));
  }

  /** The transport could not deliver to `peer`. */
  unreachable(peer: number): void {
    this.guard(() => this.kernel.unreachable(peer));
  }

  /** The transport handed a snapshot to `peer`'s socket (or gave up on it). */
  snapshotSent(peer: number, succeeded: boolean): void {
    this.guard(() => this.kernel.snapshotSent(peer, succeeded));
  }

  /** Proposes a command and resolves with its result once applied on this node. */
  execute(command: ClientCommand): Promise<KvResult> {
    const onProposal = this.options.onProposal;
    return new Promise((resolve, reject) => {
      this.guard(() =>
        this.kernel.propose(command, (answer) => {
          // Every way a proposal can end passes here, so each is counted once, by its answer.
          onProposal?.(answer.ok ? 'applied' : (answer.error.code.toLowerCase() as ProposalOutcome));
          if (answer.ok) resolve(answer.value);
          else reject(answer.error);
        }),
      );
    });
  }

  /**
   * Asks this node, if it leads, to hand leadership to `to` (operator tooling, tests). Resolves
   * once the request is handed to Raft, not when the transfer completes: watch the state changes.
   */
  transferLeadership(to: NodeId): Promise<void> {
    return new Promise((resolve, reject) => {
      this.guard(() => this.kernel.transferLeadership(to, (answer) => (answer.ok ? resolve() : reject(answer.error))));
    });
  }

  /**
   * Proposes a membership change on this node, if it leads; resolves with the entry's place once
   * proposed. Whether it applied shows in the configuration (status().conf) later.
   */
  proposeConfChange(change: ConfChange): Promise<{ index: number; term: number }> {
    return new Promise((resolve, reject) => {
      this.guard(() => this.kernel.proposeConfChange(change, settle(resolve, reject)));
    });
  }

  /**
   * Snapshots the applied state and compacts the log now; resolves with the index covered once
   * that snapshot is on disk. The kernel answers as the compaction job starts, so every write
   * started by then, the job among them, is awaited.
   */
  async compactNow(): Promise<{ index: number }> {
    const covered = await new Promise<{ index: number }>((resolve, reject) => {
      this.guard(() => this.kernel.compactNow(settle(resolve, reject)));
    });
    await this.writes;
    if (this.fatal !== null) throw new RequestError('STOPPED', 'the node failed while writing the snapshot', false);
    return covered;
  }

  /** A linearizable read (ReadIndex): served once this node has applied the confirmed index. */
  readLinearizable(key: string): Promise<string | null> {
    return new Promise((resolve, reject) => {
      this.guard(() => this.kernel.read(key, settle(resolve, reject)));
    });
  }

  /** Answers every waiting request as STOPPED (indeterminate) and refuses new ones. */
  stop(): void {
    this.kernel.stop();
  }

  /** Resolves when no write is in flight: the last persist has finished. */
  async idle(): Promise<void> {
    // At least once: after a fatal error every write already started must still finish before
    // the log is closed (none completes to the kernel; jobs not started yet skip themselves).
    do await this.writes;
    while (this.kernel.writesInFlight > 0 && this.fatal === null);
  }

  // ---- writes ----------------------------------------------------------------------------------

  /**
   * A job that writes only entries and hard state goes to the log at once: the WAL writes every
   * save made while one fsync is in progress with the next fsync (group commit), in call order.
   * A snapshot or a compaction waits for every earlier job, and later jobs wait for it. However
   * they overlap, jobs complete to the kernel in start order, as it requires.
   */
  private startWrite(job: WriteJob): void {
    const exclusive = job.kind === 'compact' || job.snapshot !== null;
    const run = () => (this.fatal !== null ? Promise.resolve() : this.runJob(job));
    let io: Promise<void>;
    if (!exclusive && this.jobsHeldBack === 0) io = run();
    else {
      // Held back until every earlier job completed. A queued entry write counts until it has
      // started, so that a later one cannot start first and hand the log a gap.
      this.jobsHeldBack++;
      io = this.writes.then(() => {
        if (!exclusive) this.jobsHeldBack--;
        return run();
      });
    }
    // Its failure is handled in order below; the rejection must not count as unhandled meanwhile.
    io.catch(() => undefined);
    this.writes = this.writes.then(async () => {
      // After a fatal error nothing completes to the kernel, but a write already started still
      // finishes before idle() resolves and the log is closed.
      if (this.fatal !== null) return void (await io.catch(() => undefined));
      try {
        await io;
      } catch (error) {
        this.die(error);
        return;
      }
      if (exclusive) this.jobsHeldBack--;
      this.guard(() => this.kernel.writeDone());
    });
  }

  private async runJob(job: WriteJob): Promise<void> {
    if (job.kind === 'persist') {
      const started = performance.now();
      await this.options.log.persist(job);
      if (job.snapshot !== null) {
        this.options.onSnapshotInstalled?.(job.snapshot.meta.index, job.snapshot.data.length, performance.now() - started);
      }
    } else {
      await this.options.log.compact(job.index, job.conf, job.data);
      this.options.onCompacted?.(job.index, job.data.length);
    }
  }

  /**
   * Runs an input, then has the kernel handle everything queued in this event-loop turn in one
   * pass (setImmediate: after every socket read and finished write of the turn's poll phase), so
   * the requests, acks and messages of one turn share one Ready: one append to each follower, one
   * WAL save, one ReadIndex round.
   */
  private guard(input: () => void): void {
    // After a fatal error the kernel is stopped: inputs still run, so every request is answered
    // (STOPPED) instead of left hanging, and nothing else happens.
    try {
      input();
    } catch (error) {
      this.die(error);
      return;
    }
    if (this.fatal !== null || this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.fatal !== null) return;
      try {
        this.kernel.flush();
      } catch (error) {
        this.die(error);
      }
    });
  }

  private die(error: unknown): void {
    if (this.fatal !== null) return;
    this.fatal = error;
    this.kernel.stop();
    this.options.onFatal(error);
  }
}

function settle<T>(resolve: (value: T) => void, reject: (error: RequestError) => void): (answer: Answer<T>) => void {
  return (answer) => (answer.ok ? resolve(answer.value) : reject(answer.error));
}
