import {
  encodeCommand,
  KvStateMachine,
  RaftError,
  RaftNode,
  seededRng,
  type ConfChange,
  type ConfState,
  type Entry,
  type KvCommand,
  type Message,
  type NodeId,
  type RaftStatus,
  type Ready,
  type UnsafeSwitches,
} from '@kvapp/core';
import { VirtualDisk } from './disk.js';
import type { Envelope } from './network.js';
import type { ClientRequest, ReplyOutcome } from './protocol.js';
import { deriveSeed, type SimRng } from './rng.js';

export interface SimNodeOptions {
  readonly id: NodeId;
  readonly voters: readonly NodeId[];
  readonly seed: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly messageBytesMax: number;
  readonly inflightAppendsMax: number;
  /** Take a snapshot and compact the log every this many applied entries (0: never). */
  readonly compactEveryEntries: number;
  readonly unsafe: UnsafeSwitches;
  /** Planted driver bug: on restart the persisted vote is dropped. */
  readonly forgetVoteOnRestart: boolean;
}

/** What the node tells the simulation about; the invariant checker listens here. */
export interface NodeHooks {
  transmit(envelope: Envelope): void;
  /** Entries just written (in `rd.entries` order), read back from the node's log. */
  entriesPersisted(node: SimNode, entries: readonly Entry[]): void;
  entryApplied(node: SimNode, entry: Entry): void;
  /** The node's state may have changed (after every input and its Ready handling). */
  stepped(node: SimNode): void;
  /** Its local clock in ms, which a leader stamps into commands. */
  localMs(node: SimNode): number;
  /** Simulation time. */
  nowMs(): number;
  /** An armed failpoint crashed the node. */
  failpointHit(node: SimNode, moment: string): void;
}

interface PendingProposal {
  readonly term: number;
  readonly requestId: number;
  readonly client: number;
}

interface PendingRead {
  readonly requestId: number;
  readonly client: number;
  readonly key: string;
  /** Set once the ReadIndex answer came: serve when applied reaches it. */
  index: number | null;
}

/** Proposals and reads one node keeps waiting at once; past it the client is told to retry. */
const pendingRequestsMax = 1024;

/**
 * One node as a real server would drive it: inputs, then the Ready contract in order —
 * messages out, writes to the (unsynced) disk, fsync when needed, messagesAfterPersist out,
 * apply, serve reads whose index is applied, advance.
 */
export class SimNode {
  readonly id: NodeId;
  readonly disk: VirtualDisk;
  raft: RaftNode | null = null;
  sm = new KvStateMachine();
  paused = false;
  /** When a crashed node comes back; null while up. */
  restartAtMs: number | null = null;
  /** An armed failpoint: crash at the next fsync (before it), or right after the next granted vote. */
  crashArmed: { moment: 'mid-write' | 'after-vote'; downMs: number } | null = null;
  incarnation = 0;
  crashes = 0;
  private readonly conf: ConfState;
  private readonly proposals = new Map<number, PendingProposal>();
  private readonly reads = new Map<string, PendingRead>();
  private readContextNext = 1;

  constructor(
    readonly options: SimNodeOptions,
    private readonly hooks: NodeHooks,
    private readonly crashRng: SimRng,
  ) {
    this.id = options.id;
    this.conf = { voters: [...options.voters], learners: [], votersOutgoing: [] };
    this.disk = new VirtualDisk(this.conf);
    this.start();
  }

  get up(): boolean {
    return this.raft !== null;
  }

  status(): RaftStatus | null {
    return this.raft?.status() ?? null;
  }

  private start(): void {
    if (this.options.forgetVoteOnRestart && this.incarnation > 0) this.disk.forgetVote();
    const snapshot = this.disk.live.snapshot();
    this.sm = snapshot.meta.index > 0 ? KvStateMachine.restore(snapshot.data) : new KvStateMachine();
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
    this.proposals.clear();
    this.reads.clear();
  }

  /** kill -9: the process and its memory are gone; the disk keeps what it synced (and maybe a torn tail). */
  crash(downUntilMs: number, tear: boolean): void {
    if (!this.up) return;
    this.raft = null;
    this.crashArmed = null;
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
    if (!this.raft || this.paused) return;
    this.raft.tick();
    this.drive();
  }

  transferLeadership(to: NodeId): void {
    if (!this.raft || this.paused) return;
    try {
      this.raft.transferLeadership(to);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
    }
    this.drive();
  }

  /** Proposes a membership change if this node leads; false when it cannot now (not leader, one pending). */
  changeMembership(change: ConfChange): boolean {
    if (!this.raft || this.paused) return false;
    try {
      this.raft.proposeConfChange(change);
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      return false;
    }
    this.drive();
    return true;
  }

  receiveMessage(m: Message): void {
    if (!this.raft) return;
    this.raft.step(m);
    this.drive();
  }

  receiveRequest(client: number, request: ClientRequest): void {
    if (!this.raft) return;
    const outcome = request.op.kind === 'read' ? this.startRead(client, request) : this.propose(client, request);
    if (outcome !== null) this.reply(client, request.requestId, outcome);
    this.drive();
  }

  private propose(client: number, request: ClientRequest): ReplyOutcome | null {
    const raft = this.raft!;
    if (this.proposals.size >= pendingRequestsMax) return { type: 'retry', reason: 'proposal queue full' };
    const nowMs = this.hooks.localMs(this);
    const op = request.op;
    let cmd: KvCommand;
    switch (op.kind) {
      case 'register':
        cmd = { kind: 'register', nowMs };
        break;
      case 'write':
        cmd = { kind: 'put', nowMs, session: op.session, key: op.key, value: op.value };
        break;
      case 'cas':
        cmd = { kind: 'cas', nowMs, session: op.session, key: op.key, expected: op.expected, value: op.value };
        break;
      case 'read':
        throw new Error('reads go through ReadIndex');
    }
    try {
      const { index, term } = raft.propose(encodeCommand(cmd));
      const replaced = this.proposals.get(index);
      if (replaced) this.reply(replaced.client, replaced.requestId, { type: 'retry', reason: 'entry replaced' });
      this.proposals.set(index, { term, requestId: request.requestId, client });
      return null;
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      if (error.code === 'NOT_LEADER') return { type: 'not-leader', leader: error.leaderHint };
      return { type: 'retry', reason: error.code };
    }
  }

  private startRead(client: number, request: ClientRequest): ReplyOutcome | null {
    const op = request.op;
    if (op.kind !== 'read') throw new Error('not a read');
    if (this.reads.size >= pendingRequestsMax) return { type: 'retry', reason: 'read queue full' };
    const key = `${this.id}.${this.incarnation}.${this.readContextNext++}`;
    try {
      this.raft!.readIndex(new TextEncoder().encode(key));
    } catch (error) {
      if (!(error instanceof RaftError)) throw error;
      if (error.code === 'NOT_LEADER') return { type: 'not-leader', leader: error.leaderHint };
      return { type: 'retry', reason: error.code };
    }
    this.reads.set(key, { requestId: request.requestId, client, key: op.key, index: null });
    return null;
  }

  private reply(client: number, requestId: number, outcome: ReplyOutcome): void {
    this.hooks.transmit({ from: this.id, to: client, payload: { kind: 'reply', reply: { requestId, outcome } } });
  }

  /** Handles every Ready the last input produced, then reports the new state. */
  private drive(): void {
    const raft = this.raft!;
    while (raft.hasReady()) {
      const rd = raft.ready();
      if (!this.handleReady(rd)) return; // crashed mid-write
      raft.advance();
      this.afterAdvance(rd);
    }
    this.hooks.stepped(this);
  }

  /** Returns false when the node crashed while handling it. */
  private handleReady(rd: Ready): boolean {
    this.send(rd.messages);
    if (rd.snapshot) this.disk.write({ kind: 'snapshot', snapshot: rd.snapshot });
    if (rd.entries.length > 0) this.disk.write({ kind: 'entries', entries: rd.entries });
    if (rd.hardState) this.disk.write({ kind: 'hard-state', hardState: rd.hardState });
    // A real server fsyncs a received snapshot too, before acknowledging it.
    if (rd.mustSync || rd.snapshot) {
      if (this.crashArmed?.moment === 'mid-write') return this.failpoint('mid-write', this.crashArmed.downMs);
      this.disk.sync();
    }
    if (rd.entries.length > 0) this.hooks.entriesPersisted(this, rd.entries);
    this.send(rd.messagesAfterPersist);
    if (this.crashArmed?.moment === 'after-vote' && rd.messagesAfterPersist.some((m) => m.type === 'vote-resp' && !m.reject)) {
      return this.failpoint('after-vote', this.crashArmed.downMs);
    }
    if (rd.snapshot) this.sm = KvStateMachine.restore(rd.snapshot.data);
    for (const entry of rd.committedEntries) this.apply(entry);
    for (const rs of rd.readStates) {
      const read = this.reads.get(new TextDecoder().decode(rs.context));
      if (read && read.index === null) read.index = rs.index;
    }
    for (const refused of rd.readsRefused) {
      // The leader will never confirm it: the client retries now rather than after its timeout.
      const context = new TextDecoder().decode(refused);
      const read = this.reads.get(context);
      if (read === undefined || read.index !== null) continue;
      this.reads.delete(context);
      this.reply(read.client, read.requestId, { type: 'retry', reason: 'read refused by the leader' });
    }
    this.serveReads();
    return true;
  }

  private failpoint(moment: string, downMs: number): false {
    this.crash(this.hooks.nowMs() + downMs, true);
    this.hooks.failpointHit(this, moment);
    this.hooks.stepped(this);
    return false;
  }

  private afterAdvance(rd: Ready): void {
    for (const m of rd.messages) {
      // The transport finished streaming the snapshot; the leader goes back to probing.
      if (m.type === 'snapshot') this.raft!.reportSnapshot(m.to, true);
    }
    this.maybeCompact();
  }

  private send(messages: readonly Message[]): void {
    for (const m of messages) this.hooks.transmit({ from: this.id, to: m.to, payload: { kind: 'raft', message: m } });
  }

  private apply(entry: Entry): void {
    const result = this.sm.apply(entry);
    this.hooks.entryApplied(this, entry);
    const proposal = this.proposals.get(entry.index);
    if (!proposal) return;
    this.proposals.delete(entry.index);
    if (proposal.term !== entry.term || result === null) {
      this.reply(proposal.client, proposal.requestId, { type: 'retry', reason: 'entry replaced' });
    } else {
      this.reply(proposal.client, proposal.requestId, { type: 'applied', result });
    }
  }

  private serveReads(): void {
    for (const [context, read] of this.reads) {
      if (read.index === null || read.index > this.sm.appliedIndex) continue;
      this.reads.delete(context);
      this.reply(read.client, read.requestId, { type: 'read', value: this.sm.read(read.key) });
    }
  }

  private maybeCompact(): void {
    const every = this.options.compactEveryEntries;
    const applied = this.sm.appliedIndex;
    if (every === 0 || applied - this.disk.live.firstIndex() + 1 < every) return;
    // The configuration as of the applied index (membership changes apply with their entries).
    this.disk.compact(applied, this.raft!.status().conf, this.sm.snapshot());
  }
}
