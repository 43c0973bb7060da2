import {
  KvStateMachine,
  RaftNode,
  seededRng,
  type ConfChange,
  type Entry,
  type Message,
  type NodeId,
  type RaftStatus,
  type UnsafeSwitches,
} from '@kvapp/core';
import { NodeKernel, type Answer, type ClientCommand, type KernelUnsafeSwitches, type StateMachine } from '@kvapp/kernel';
import { VirtualDisk } from './disk.js';
import type { Envelope } from './network.js';
import type { ClientRequest, ReplyOutcome } from './protocol.js';
import { deriveSeed, type SimRng } from './rng.js';

export interface SimNodeOptions {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly seed: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly messageBytesMax: number;
  readonly inflightAppendsMax: number;
  /** Take a snapshot and compact the log every this many applied entries (0: never). */
  readonly compactEveryEntries: number;
  /** A request the kernel has not answered after this long gets TIMEOUT (clients give up sooner). */
  readonly requestTimeoutMs: number;
  /** The core's planted bugs. */
  readonly unsafe: UnsafeSwitches;
  /** The node kernel's planted bugs. */
  readonly kernelUnsafe: KernelUnsafeSwitches;
  /** Planted bug: on restart the persisted vote is dropped. */
  readonly forgetVoteOnRestart: boolean;
}

/** What the node tells the simulation about; the invariant checker listens here. */
export interface NodeHooks {
  transmit(envelope: Envelope): void;
  /** Entries just made durable (in the write's order), read back from the node's log. */
  entriesPersisted(node: SimNode, entries: readonly Entry[]): void;
  entryApplied(node: SimNode, entry: Entry): void;
  /** The node's state may have changed (after every input and every finished write). */
  stepped(node: SimNode): void;
  /** Its local clock in ms, which a leader stamps into commands. */
  localMs(node: SimNode): number;
  /** Simulation time. */
  nowMs(): number;
  /** An armed failpoint crashed the node. */
  failpointHit(node: SimNode, moment: string): void;
}

/** Proposals and reads one node keeps waiting at once; past it the client is told to retry. */
const pendingRequestsMax = 1024;
/** Inputs a node queues while a write is in flight. */
const inboxMax = 2000;
/** How long a write job takes on the virtual disk, in ms (from the node's disk stream). */
const writeMsMin = 0;
const writeMsMax = 2;

/**
 * One simulated node process: the production node kernel (@kvapp/kernel) on a virtual disk,
 * network and clock. This file only wires the kernel to them and plays the process's fate:
 * crashes, restarts, pauses and the failpoints; every decision between an input and the core is
 * the kernel's. Write jobs complete on the virtual disk after a seeded delay, in order.
 */
export class SimNode {
  readonly id: NodeId;
  readonly disk: VirtualDisk;
  raft: RaftNode | null = null;
  private kernel: NodeKernel | null = null;
  paused = false;
  /** When a crashed node comes back; null while up. */
  restartAtMs: number | null = null;
  /** An armed failpoint: crash at the next fsync (before it), or right after the next granted vote. */
  crashArmed: { moment: 'mid-write' | 'after-vote'; downMs: number } | null = null;
  incarnation = 0;
  crashes = 0;
  /** A failpoint fired inside a kernel call: the node crashes as soon as the call returns. */
  private crashDue: { moment: string; downMs: number } | null = null;

  constructor(
    readonly options: SimNodeOptions,
    private readonly hooks: NodeHooks,
    private readonly crashRng: SimRng,
    private readonly diskRng: SimRng,
  ) {
    this.id = options.id;
    this.disk = new VirtualDisk({ voters: [...options.voters], learners: [], votersOutgoing: [] });
    this.start();
  }

  get up(): boolean {
    return this.kernel !== null;
  }

  /** The applied state machine (null while down). */
  get sm(): StateMachine | null {
    return this.kernel?.stateMachine ?? null;
  }

  status(): RaftStatus | null {
    return this.raft?.status() ?? null;
  }

  private start(): void {
    if (this.options.forgetVoteOnRestart && this.incarnation > 0) this.disk.forgetVote();
    const snapshot = this.disk.live.snapshot();
    const o = this.options;
    this.raft = new RaftNode({
      id: o.id,
      storage: this.disk.live,
      rng: seededRng(deriveSeed(o.seed, 1000 + o.id * 100 + this.incarnation)),
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      applied: snapshot.meta.index,
      messageBytesMax: o.messageBytesMax,
      inflightAppendsMax: o.inflightAppendsMax,
      unsafe: o.unsafe,
    });
    this.kernel = new NodeKernel({
      raft: this.raft,
      stateMachine: snapshot.meta.index > 0 ? KvStateMachine.restore(snapshot.data) : new KvStateMachine(),
      restore: (data) => KvStateMachine.restore(data),
      snapshotEntries: o.compactEveryEntries,
      readContextPrefix: `${o.id}.${this.incarnation}.`,
      unsafe: o.kernelUnsafe,
      limits: { inboxMax, pendingRequestsMax, requestTimeoutTicks: Math.ceil(o.requestTimeoutMs / o.tickMs) },
      io: {
        send: (messages) => this.send(messages),
        startWrite: (job) => this.disk.submit(job, this.hooks.nowMs() + this.diskRng.between(writeMsMin, writeMsMax)),
        nowMs: () => this.hooks.localMs(this),
      },
      observer: {
        persisted: (entries) => this.hooks.entriesPersisted(this, entries),
        applied: (entry) => this.hooks.entryApplied(this, entry),
      },
    });
  }

  /** kill -9: the process and its memory are gone; the disk keeps what it synced (and maybe a torn tail). */
  crash(downUntilMs: number, tear: boolean): void {
    if (!this.up) return;
    this.kernel = null;
    this.raft = null;
    this.crashArmed = null;
    this.crashDue = null;
    this.paused = false;
    this.crashes++;
    this.disk.crash(this.crashRng, tear);
    this.restartAtMs = downUntilMs;
  }

  restart(): void {
    if (this.up) return;
    this.restartAtMs = null;
    this.incarnation++;
    this.start();
    this.hooks.stepped(this);
  }

  tick(): void {
    if (!this.kernel || this.paused) return;
    this.kernel.tick();
    this.afterInput();
  }

  /** Writes that are done by now reach the disk and come back to the kernel (not while paused). */
  completeWrites(nowMs: number): void {
    while (this.kernel && !this.paused) {
      const job = this.disk.nextDone(nowMs);
      if (job === null) return;
      if (this.crashArmed?.moment === 'mid-write' && job.kind === 'persist' && job.mustSync) {
        // The failpoint: the process dies after writing and before the fsync returns.
        this.failpoint('mid-write', this.crashArmed.downMs);
        return;
      }
      this.disk.finish();
      this.kernel.writeDone();
      this.afterInput();
    }
  }

  transferLeadership(to: NodeId): void {
    if (!this.kernel || this.paused) return;
    this.kernel.transferLeadership(to);
    this.afterInput();
  }

  /** Proposes a membership change if this node leads; false when refused now (not leader, one pending). */
  changeMembership(change: ConfChange): boolean {
    if (!this.kernel || this.paused) return false;
    let refused = false;
    this.kernel.proposeConfChange(change, (answer) => {
      refused = !answer.ok;
    });
    this.afterInput();
    return !refused;
  }

  receiveMessage(m: Message): void {
    if (!this.kernel) return;
    this.kernel.step(m);
    this.afterInput();
  }

  receiveRequest(client: number, request: ClientRequest): void {
    const kernel = this.kernel;
    if (!kernel) return;
    const op = request.op;
    const reply = (outcome: ReplyOutcome) => this.reply(client, request.requestId, outcome);
    if (op.kind === 'read') kernel.read(op.key, (answer) => reply(readOutcome(answer)));
    else kernel.propose(commandOf(op), (answer) => reply(answer.ok ? { type: 'applied', result: answer.value } : errorOutcome(answer)));
    this.afterInput();
  }

  private reply(client: number, requestId: number, outcome: ReplyOutcome): void {
    this.hooks.transmit({ from: this.id, to: client, payload: { kind: 'reply', reply: { requestId, outcome } } });
  }

  private send(messages: readonly Message[]): void {
    for (const m of messages) {
      this.hooks.transmit({ from: this.id, to: m.to, payload: { kind: 'raft', message: m } });
      // The transport hands a snapshot over whole; the leader goes back to probing.
      if (m.type === 'snapshot') this.kernel?.snapshotSent(m.to, true);
      if (m.type === 'vote-resp' && !m.reject && this.crashArmed?.moment === 'after-vote') {
        this.crashDue ??= { moment: 'after-vote', downMs: this.crashArmed.downMs };
      }
    }
  }

  /** After every call into the kernel: a failpoint that fired inside it, then the invariant checks. */
  private afterInput(): void {
    const due = this.crashDue;
    if (due !== null && this.up) {
      this.failpoint(due.moment, due.downMs);
      return;
    }
    if (this.up) this.hooks.stepped(this);
  }

  private failpoint(moment: string, downMs: number): void {
    this.crash(this.hooks.nowMs() + downMs, true);
    this.hooks.failpointHit(this, moment);
    this.hooks.stepped(this);
  }
}

function commandOf(op: Exclude<ClientRequest['op'], { kind: 'read' }>): ClientCommand {
  switch (op.kind) {
    case 'register':
      return { kind: 'register' };
    case 'write':
      return { kind: 'put', session: op.session, key: op.key, value: op.value };
    case 'cas':
      return { kind: 'cas', session: op.session, key: op.key, expected: op.expected, value: op.value };
    case 'delete':
      return { kind: 'delete', session: op.session, key: op.key };
  }
}

function readOutcome(answer: Answer<string | null>): ReplyOutcome {
  return answer.ok ? { type: 'read', value: answer.value } : errorOutcome(answer);
}

function errorOutcome(answer: Extract<Answer<unknown>, { ok: false }>): ReplyOutcome {
  const e = answer.error;
  if (e.code === 'NOT_LEADER') return { type: 'not-leader', leader: e.leader };
  return e.definite ? { type: 'retry', reason: e.code } : { type: 'unknown', reason: e.code };
}
