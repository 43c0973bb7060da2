import { assert } from '../assert.js';
import type { RaftConfig } from './config.js';
import { RaftError } from './errors.js';
import { message } from './message.js';
import { decodeConfChange, encodeConfChange, nextConf, type ConfChange } from './conf-change.js';
import { Raft } from './raft.js';
import type { PersistToken } from './persist-token.js';
import type { Ready } from './ready.js';
import { NONE, type ConfState, type Entry, type HardState, type Message, type NodeId, type Role, type SoftState } from './types.js';

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly role: Role;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  readonly conf: ConfState;
  /** Only on the leader: each member's replication progress. */
  readonly progress: ReadonlyMap<NodeId, { match: number; next: number; state: string }>;
}

/**
 * One Raft node behind the ready/advance boundary (etcd's RawNode). Drive it with tick(),
 * step() and the proposal methods; then take ready(), do its work, and call advance().
 * Between ready() and advance() no other input is accepted: the Ready describes one instant.
 *
 * Asynchronous writes (thesis §10.2.1, etcd's AsyncStorageWrites): instead of advance(), call
 * accept() as soon as the Ready is handed off (its messages sent, its committed entries applied,
 * its writes started) and keep driving the node; once those writes are durable, call
 * persisted() with the token accept() returned, in order. Until then the handed-off entries stay
 * readable in memory and are not offered again, and the leader does not count itself for them.
 */
export class RaftNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | null = null;
  /** Sequence numbers of the last token issued by accept() and the last one back in persisted(). */
  private acceptedSequence = 0;
  private persistedSequence = 0;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick: elections, heartbeats and CheckQuorum are counted in ticks. */
  tick(): void {
    this.assertNoReadyOutstanding();
    this.raft.tick();
  }

  /** Feeds a message from a peer. Messages for another node or of an unknown sender are dropped. */
  step(m: Message): void {
    this.assertNoReadyOutstanding();
    this.raft.step(m);
  }

  /** Starts an election now (tests and operator tooling); a no-op on a leader or a learner. */
  campaign(): void {
    this.assertNoReadyOutstanding();
    this.raft.hup('campaign-requested');
  }

  /**
   * Appends commands to the log as one batch; returns the index of the first. The command at
   * index i is committed when an applied entry has index i and the term returned in `term`.
   */
  propose(commands: Uint8Array | readonly Uint8Array[]): { index: number; term: number } {
    this.assertNoReadyOutstanding();
    const batch = commands instanceof Uint8Array ? [commands] : commands;
    assert(batch.length > 0, 'propose needs at least one command');
    this.assertCanPropose();
    const index = this.raft.appendEntries(batch.map((data) => ({ type: 'normal' as const, data })));
    return { index, term: this.raft.term };
  }

  private assertCanPropose(): void {
    const r = this.raft;
    if (r.role !== 'leader') {
      throw new RaftError('NOT_LEADER', `node ${r.id} is a ${r.role}, not the leader`, r.lead);
    }
    if (r.removedLeader) throw new RaftError('NOT_LEADER', `node ${r.id} was removed from the configuration`, NONE);
    if (r.leadTransferee !== NONE) {
      throw new RaftError('TRANSFER_IN_PROGRESS', `leadership is moving to node ${r.leadTransferee}`, r.id);
    }
  }

  /**
   * Proposes a membership change; it takes effect on each node when its entry is applied (by
   * advance()). One change at a time: CONF_CHANGE_PENDING until the previous one is applied.
   */
  proposeConfChange(change: ConfChange): { index: number; term: number } {
    this.assertNoReadyOutstanding();
    this.assertCanPropose();
    const r = this.raft;
    if (r.pendingConfIndex > r.log.applied) {
      throw new RaftError('CONF_CHANGE_PENDING', `conf change at ${r.pendingConfIndex} is not applied yet`, r.id);
    }
    const conf = nextConf(r.tracker.confState(), change); // throws CONF_CHANGE_INVALID with the reason
    const index = r.appendEntries([{ type: 'conf-change', data: encodeConfChange({ change, conf }) }]);
    r.pendingConfIndex = index;
    return { index, term: r.term };
  }

  /**
   * Requests a linearizable read. The answer comes in a later Ready's readStates with the same
   * context (unique per request: it is the key); serve the read once applied reaches its index.
   * On a follower the request is forwarded to the leader; if the leader refuses it (it has not yet
   * committed an entry of its term, or too many reads wait), the context comes back in a later
   * Ready's readsRefused, so the caller can fail or retry the read at once instead of timing out.
   */
  readIndex(context: Uint8Array): void {
    this.assertNoReadyOutstanding();
    assert(context.length > 0, 'a read context must not be empty');
    const r = this.raft;
    if (r.role !== 'leader') {
      if (r.lead === NONE) throw new RaftError('NOT_LEADER', `node ${r.id} knows no leader`, NONE);
      r.send(message('read-index', r.id, r.lead, r.term, { context }));
      return;
    }
    if (r.removedLeader) throw new RaftError('NOT_LEADER', `node ${r.id} was removed from the configuration`, NONE);
    if (!r.committedEntryInCurrentTerm()) {
      throw new RaftError('READ_NOT_READY', `leader ${r.id} has not yet committed an entry of term ${r.term}`, r.id);
    }
    if (r.readOnly.full()) {
      throw new RaftError('READ_QUEUE_FULL', `${r.readOnly.size} reads already wait for a quorum`, r.id);
    }
    r.handleReadRequest(r.id, context);
  }

  /** Hands leadership to `to`: it is brought up to date, then told to campaign at once. */
  transferLeadership(to: NodeId): void {
    this.assertNoReadyOutstanding();
    const r = this.raft;
    if (r.role !== 'leader') throw new RaftError('NOT_LEADER', `node ${r.id} is not the leader`, r.lead);
    if (!r.tracker.isVoter(to)) throw new RaftError('UNKNOWN_NODE', `node ${to} is not a voter`, r.id);
    if (to === r.id || r.leadTransferee === to) return;
    r.leadTransferee = to;
    r.electionElapsed = 0; // the transfer must finish within one election timeout
    const progress = r.tracker.progress.get(to)!;
    if (progress.match === r.log.lastIndex()) r.sendTimeoutNow(to);
    else r.sendAppend(to);
  }

  /** The transport could not reach `id`: stop pipelining to it and probe instead. */
  reportUnreachable(id: NodeId): void {
    const progress = this.raft.role === 'leader' ? this.raft.tracker.progress.get(id) : undefined;
    if (progress && progress.state === 'replicate') progress.becomeProbe();
  }

  /** The snapshot sent to `id` was installed (or failed to send): resume appends. */
  reportSnapshot(id: NodeId, succeeded: boolean): void {
    const progress = this.raft.role === 'leader' ? this.raft.tracker.progress.get(id) : undefined;
    if (!progress || progress.state !== 'snapshot') return;
    if (!succeeded) progress.pendingSnapshot = 0;
    progress.becomeProbe();
    progress.probeSent = true; // wait for the next heartbeat answer before probing
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    return (
      r.broadcastPending ||
      soft.leader !== this.prevSoft.leader ||
      soft.role !== this.prevSoft.role ||
      !sameHardState(hard, this.prevHard) ||
      r.log.unstable.offsetInProgress < r.log.unstable.offset + r.log.unstable.entries.length ||
      r.log.nextUnstableSnapshot() !== null ||
      r.log.hasNextCommittedEntries() ||
      r.msgs.length > 0 ||
      r.msgsAfterPersist.length > 0 ||
      r.readStates.length > 0 ||
      r.readsRefused.length > 0 ||
      r.stateChanges.length > 0
    );
  }

  ready(): Ready {
    this.assertNoReadyOutstanding();
    const r = this.raft;
    if (r.role === 'leader' && r.broadcastPending) {
      r.broadcastPending = false;
      r.bcastAppend();
    }
    const soft = r.softState();
    const hard = r.hardState();
    const softChanged = soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role;
    const hardChanged = !sameHardState(hard, this.prevHard);
    const entries = r.log.nextUnstableEntries();
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hard : null,
      entries,
      snapshot: r.log.nextUnstableSnapshot(),
      committedEntries: r.log.nextCommittedEntries(r.cfg.committedBytesPerReadyMax),
      messages: r.msgs,
      messagesAfterPersist: r.msgsAfterPersist,
      readStates: r.readStates,
      readsRefused: r.readsRefused,
      stateChanges: r.stateChanges,
      mustSync: entries.length > 0 || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote,
    };
    r.msgs = [];
    r.msgsAfterPersist = [];
    r.readStates = [];
    r.readsRefused = [];
    r.stateChanges = [];
    if (softChanged) this.prevSoft = soft;
    this.outstanding = rd;
    return rd;
  }

  /** The caller finished the last Ready: its writes are durable and its entries applied. */
  advance(): void {
    this.persisted(this.accept());
  }

  /**
   * The caller took the last Ready: its `messages` are sent, its snapshot and committed entries
   * applied, its writes started (not necessarily finished). The node takes input again; the next
   * Ready offers only what this one did not. Give the token to persisted() once the writes are
   * durable, and send `messagesAfterPersist` only then.
   */
  accept(): PersistToken {
    const rd = this.outstanding;
    assert(rd !== null, 'accept() without an outstanding ready()');
    this.outstanding = null;
    const r = this.raft;
    if (rd.hardState) this.prevHard = rd.hardState;
    r.log.acceptUnstable();
    if (rd.snapshot) r.log.appliedTo(rd.snapshot.meta.index);
    for (const entry of rd.committedEntries) {
      if (entry.type === 'conf-change') r.applyConfChange(decodeConfChange(entry.data), entry.index);
    }
    const lastApplied = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastApplied) {
      r.log.appliedTo(lastApplied.index);
      r.reduceUncommittedBytes(rd.committedEntries);
    }
    r.maybeLeaveJoint();
    const lastEntry = rd.entries[rd.entries.length - 1];
    return {
      sequence: ++this.acceptedSequence,
      lastEntry: lastEntry ? { index: lastEntry.index, term: lastEntry.term } : null,
      snapshotIndex: rd.snapshot ? rd.snapshot.meta.index : null,
      generation: r.log.unstable.generation,
    };
  }

  /**
   * The writes of the Ready that issued `token` are durable (and so are all earlier ones: tokens
   * come back in order). Its entries become stable unless they were replaced meanwhile, and a
   * leader counts itself toward their quorum only now.
   */
  persisted(token: PersistToken): void {
    this.assertNoReadyOutstanding();
    assert(
      token.sequence === this.persistedSequence + 1,
      `persisted() got token ${token.sequence}, expected ${this.persistedSequence + 1}`,
    );
    this.persistedSequence = token.sequence;
    const r = this.raft;
    // A snapshot's write stays valid whatever happened to the log after it; a newer snapshot has another index.
    if (token.snapshotIndex !== null) r.log.stableSnapshotTo(token.snapshotIndex);
    const last = token.lastEntry;
    // Entries replaced after the hand-off: what was written is not this log; a later write covers it.
    if (last === null || token.generation !== r.log.unstable.generation) return;
    if (r.log.term(last.index) !== last.term) return;
    r.log.stableTo(last.index, last.term);
    r.selfPersisted(last.index);
  }

  status(): RaftStatus {
    const r = this.raft;
    const progress = new Map<NodeId, { match: number; next: number; state: string }>();
    if (r.role === 'leader') {
      for (const [id, p] of r.tracker.progress) progress.set(id, { match: p.match, next: p.next, state: p.state });
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      role: r.role,
      commit: r.log.committed,
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      leadTransferee: r.leadTransferee,
      conf: r.tracker.confState(),
      progress,
    };
  }

  /** Entries in [lo, hi) from the log (stable or not); for tests and debugging. */
  entries(lo: number, hi: number): readonly Entry[] {
    return this.raft.log.slice(lo, Math.min(hi, this.raft.log.lastIndex() + 1), Number.MAX_SAFE_INTEGER) ?? [];
  }

  private assertNoReadyOutstanding(): void {
    assert(this.outstanding === null, 'call accept() or advance() for the last Ready before giving the node new input');
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
