import { assert } from '../assert.js';
import { resolveRaftConfig, type RaftConfig, type ResolvedRaftConfig } from './config.js';
import { entryBytes, payloadBytes } from './entry-size.js';
import { RaftError } from './errors.js';
import { CAMPAIGN_TRANSFER, isTransferContext, message } from './message.js';
import { encodeConfChange, nextConf, type ConfChange, type ConfChangeEntry } from './conf-change.js';
import type { Progress } from './progress.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly, type ReadRequest } from './read-only.js';
import type { StateChange, StateChangeReason } from './state-change.js';
import { ProgressTracker } from './tracker.js';
import { NONE, type Entry, type HardState, type Message, type NodeId, type ReadState, type Role, type SoftState } from './types.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower } from './step-follower.js';
import { stepLeader } from './step-leader.js';

/** Message types a leader may send before its own log write is durable (thesis §10.2.1). */
const SEND_BEFORE_PERSIST = new Set<Message['type']>(['append', 'heartbeat', 'snapshot', 'timeout-now']);

/**
 * The Raft algorithm for one node: state and transitions, no I/O. Internal: callers use
 * RaftNode, which adds the Ready/advance boundary. Role-specific handling lives in
 * step-leader.ts, step-candidate.ts and step-follower.ts.
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedRaftConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;
  readonly readOnly: ReadOnly;

  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: Role = 'follower';

  /** Ticks since the last election timeout reset (follower/candidate) or CheckQuorum round (leader). */
  electionElapsed = 0;
  heartbeatElapsed = 0;
  /** Set on a leader whose own removal applied: the conf entry's index and who said they know it committed. */
  private removal: { readonly index: number; readonly informed: Set<NodeId> } | null = null;
  randomizedElectionTimeout = 0;
  /** The node this leader is handing leadership to; proposals are refused meanwhile. */
  leadTransferee: NodeId = NONE;
  /** Payload bytes appended by this leader and not yet committed (bounded by uncommittedBytesMax). */
  uncommittedBytes = 0;
  /** New entries to replicate: appends go out once per Ready, which batches proposals. */
  broadcastPending = false;
  /** Index of the newest conf-change entry this leader may have in flight: one change at a time. */
  pendingConfIndex = 0;

  /** Messages that may go out at once. */
  msgs: Message[] = [];
  /** Messages that may go out only after the Ready's hard state and entries are durable. */
  msgsAfterPersist: Message[] = [];
  readStates: ReadState[] = [];
  /** Contexts of forwarded ReadIndex requests the leader refused (see Ready.readsRefused). */
  readsRefused: Uint8Array[] = [];
  /** Role/term/leader changes since the last Ready, with their causes (see Ready.stateChanges). */
  stateChanges: StateChange[] = [];

  constructor(config: RaftConfig) {
    this.cfg = resolveRaftConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage);
    this.tracker = new ProgressTracker(this.cfg);
    this.readOnly = new ReadOnly(this.cfg.pendingReadsMax);

    const { hardState, confState } = this.cfg.storage.initialState();
    this.tracker.applyConf(confState, this.log.lastIndex() + 1);
    this.loadHardState(hardState);
    if (this.cfg.applied > 0) this.log.appliedTo(this.cfg.applied);
    // Start as a follower of nobody (the field defaults); the starting state is not a change.
    this.reset(this.term);
  }

  private loadHardState(hardState: HardState): void {
    // A snapshot holds only committed entries, so the commit index is at least its index (here
    // log.committed): a crash may keep a received snapshot and lose the hard state written after it.
    const commit = Math.max(hardState.commit, this.log.committed);
    assert(commit <= this.log.lastIndex(), `stored commit ${hardState.commit} is beyond the last index ${this.log.lastIndex()}`);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.log.committed = commit;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { leader: this.lead, role: this.role };
  }

  /** A voter may campaign; a learner or a removed node may not. */
  promotable(): boolean {
    const progress = this.tracker.progress.get(this.id);
    return progress !== undefined && !progress.isLearner && this.tracker.isVoter(this.id);
  }

  send(m: Message): void {
    if (this.role === 'leader' && SEND_BEFORE_PERSIST.has(m.type)) this.msgs.push(m);
    else this.msgsAfterPersist.push(m);
  }

  // ---- transitions -------------------------------------------------------------------------

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.removal = null;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.rng.nextInt(this.cfg.electionTicks);
    this.leadTransferee = NONE;
    this.tracker.resetVotes();
    const lastIndex = this.log.lastIndex();
    for (const [id, progress] of [...this.tracker.progress]) {
      const fresh = this.tracker.newProgress(lastIndex + 1, progress.isLearner);
      // Only what is durable counts: entries still being written count once selfPersisted says so.
      if (id === this.id) fresh.match = this.log.persistedIndex();
      this.tracker.progress.set(id, fresh);
    }
    this.uncommittedBytes = 0;
    this.broadcastPending = false;
    this.readOnly.clear();
  }

  /** `from`: the peer whose message caused this, NONE for a local cause. */
  becomeFollower(term: number, lead: NodeId, reason: StateChangeReason, from: NodeId = NONE): void {
    const before = this.position();
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    this.recordChange(before, reason, from);
  }

  /** A follower learns who leads its current term (it may have voted before knowing). */
  followLeader(lead: NodeId): void {
    if (this.lead === lead) return;
    const before = this.position();
    this.lead = lead;
    this.recordChange(before, 'leader-seen', lead);
  }

  /** PreVote: ask whether we could win before disturbing anyone; term and vote stay as they are. */
  becomePreCandidate(reason: StateChangeReason, from: NodeId): void {
    assert(this.role !== 'leader', 'a leader cannot become a pre-candidate');
    const before = this.position();
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = 'pre-candidate';
    this.recordChange(before, reason, from);
  }

  becomeCandidate(reason: StateChangeReason, from: NodeId): void {
    assert(this.role !== 'leader', 'a leader cannot become a candidate');
    const before = this.position();
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
    this.recordChange(before, reason, from);
  }

  becomeLeader(): void {
    assert(this.role === 'candidate', `only a candidate becomes leader, not a ${this.role}`);
    const before = this.position();
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    this.recordChange(before, 'election-won', NONE);
    const self = this.tracker.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    // Any conf change in our uncommitted tail must apply before we accept another.
    this.pendingConfIndex = this.log.lastIndex();
    // §5.4.2: entries of earlier terms commit only under one of our own, so append one now.
    this.appendEntries([{ type: 'normal', data: new Uint8Array(0) }]);
  }

  private position(): { readonly role: Role; readonly term: number; readonly leader: NodeId } {
    return { role: this.role, term: this.term, leader: this.lead };
  }

  /** Notes a transition for the next Ready, unless it left role, term and leader as they were. */
  private recordChange(before: ReturnType<Raft['position']>, reason: StateChangeReason, from: NodeId): void {
    if (before.role === this.role && before.term === this.term && before.leader === this.lead) return;
    this.stateChanges.push({
      reason,
      from,
      role: this.role,
      term: this.term,
      leader: this.lead,
      previousRole: before.role,
      previousTerm: before.term,
      previousLeader: before.leader,
    });
  }

  // ---- elections -------------------------------------------------------------------------

  /**
   * Starts an election if this node may. A leadership transfer (timeout-now from `from`, the
   * leader) skips PreVote and overrides leases.
   */
  hup(reason: 'election-timeout' | 'campaign-requested' | 'leadership-transfer', from: NodeId = NONE): void {
    if (this.role === 'leader' || !this.promotable()) return;
    // The configuration it would campaign in may already be gone: a committed conf change that is
    // not yet applied (after a restart, say) could remove this node, which would then win
    // an election as a node with no place in the configuration (etcd refuses alike).
    if (this.hasUnappliedConfChanges()) return;
    const transfer = reason === 'leadership-transfer';
    this.campaign(this.cfg.preVote && !transfer ? 'pre-vote' : 'vote', transfer, reason, from);
  }

  private hasUnappliedConfChanges(): boolean {
    const { applied, committed } = this.log;
    if (committed <= applied) return false;
    const entries = this.log.slice(applied + 1, committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
    return entries.some((entry) => entry.type === 'conf-change');
  }

  campaign(kind: 'pre-vote' | 'vote', transfer: boolean, reason: StateChangeReason, from: NodeId): void {
    let term: number;
    if (kind === 'pre-vote') {
      this.becomePreCandidate(reason, from);
      term = this.term + 1;
    } else {
      this.becomeCandidate(reason, from);
      term = this.term;
    }
    this.tracker.recordVote(this.id, true);
    if (this.tracker.voteResult() === 'won') {
      if (kind === 'pre-vote') this.campaign('vote', transfer, 'pre-vote-won', NONE);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.votersSorted()) {
      if (id === this.id) continue;
      this.send(message(kind, this.id, id, term, { index: lastIndex, logTerm: lastTerm, context: transfer ? CAMPAIGN_TRANSFER : null }));
    }
  }

  /** A vote or pre-vote response arrived; act on the tally. */
  poll(from: NodeId, granted: boolean): void {
    this.tracker.recordVote(from, granted);
    const result = this.tracker.voteResult();
    if (result === 'won') {
      if (this.role === 'pre-candidate') this.campaign('vote', false, 'pre-vote-won', NONE);
      else this.becomeLeader();
    } else if (result === 'lost') {
      this.becomeFollower(this.term, NONE, this.role === 'pre-candidate' ? 'pre-vote-lost' : 'election-lost');
    }
  }

  votersSorted(): NodeId[] {
    return [...new Set([...this.tracker.voters, ...this.tracker.votersOutgoing])].sort((a, b) => a - b);
  }

  peersSorted(): NodeId[] {
    return [...this.tracker.progress.keys()].filter((id) => id !== this.id).sort((a, b) => a - b);
  }

  // ---- inputs ----------------------------------------------------------------------------

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup('election-timeout');
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.tracker.quorumActiveAndReset(this.id)) {
        this.becomeFollower(this.term, NONE, 'check-quorum-lost');
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = NONE;
      this.retryOverdueSnapshots();
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
    this.sendCommitUpdates();
  }

  step(m: Message): void {
    if (m.to !== this.id) return;
    if (m.term > this.term) {
      if (!this.acceptHigherTerm(m)) return;
    } else if (m.term < this.term) {
      this.answerLowerTerm(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.role) {
      case 'leader':
        stepLeader(this, m);
        break;
      case 'candidate':
      case 'pre-candidate':
        stepCandidate(this, m);
        break;
      case 'follower':
        stepFollower(this, m);
        break;
    }
  }

  /** Returns false when the message must be ignored. */
  private acceptHigherTerm(m: Message): boolean {
    if (m.type === 'vote' || m.type === 'pre-vote') {
      // Leader lease: while we hear from a leader, a candidate (maybe one that was partitioned
      // away) must not depose it — unless the leader itself asked for the election.
      const inLease = this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTicks;
      if (inLease && !isTransferContext(m.context)) return false;
    }
    if (m.type === 'pre-vote') return true; // a pre-vote never changes our term
    if (m.type === 'pre-vote-resp' && !m.reject) return true; // we become candidate on a quorum, not now
    const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    this.becomeFollower(m.term, fromLeader ? m.from : NONE, 'higher-term', m.from);
    return true;
  }

  private answerLowerTerm(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // A stale leader would otherwise never learn of the new term: with PreVote or
      // CheckQuorum nobody sends it a higher-term vote request. Tell it.
      this.send(message('append-resp', this.id, m.from, this.term));
    } else if (m.type === 'pre-vote') {
      this.send(message('pre-vote-resp', this.id, m.from, this.term, { reject: true }));
    }
  }

  private handleVoteRequest(m: Message): void {
    const responseType = m.type === 'vote' ? 'vote-resp' : 'pre-vote-resp';
    const canVote = this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'pre-vote' && m.term > this.term);
    const logOk = this.cfg.unsafe.voteWithoutLogCheck === true || this.log.isUpToDate(m.index, m.logTerm);
    if (canVote && logOk) {
      // A granted response carries the requested term so the candidate counts it.
      this.send(message(responseType, this.id, m.from, m.term));
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message(responseType, this.id, m.from, this.term, { reject: true }));
    }
  }

  // ---- leader: replication -----------------------------------------------------------------

  /** Appends proposals as the leader; refuses when the uncommitted bound would be exceeded. */
  appendEntries(proposals: readonly { type: Entry['type']; data: Uint8Array }[], bypassLimit = false): number {
    const size = payloadBytes(proposals as readonly Entry[]);
    const overLimit = this.uncommittedBytes > 0 && size > 0 && this.uncommittedBytes + size > this.cfg.uncommittedBytesMax;
    if (overLimit && !bypassLimit) {
      throw new RaftError(
        'UNCOMMITTED_BYTES_EXCEEDED',
        `leader holds ${this.uncommittedBytes} uncommitted bytes; ${size} more would pass the limit of ${this.cfg.uncommittedBytesMax}`,
        this.id,
      );
    }
    const first = this.log.lastIndex() + 1;
    const entries = proposals.map((p, i): Entry => ({ term: this.term, index: first + i, type: p.type, data: p.data }));
    this.log.append(entries);
    this.uncommittedBytes += size;
    this.broadcastPending = true;
    return first;
  }

  reduceUncommittedBytes(entries: readonly Entry[]): void {
    if (this.role !== 'leader') return;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - payloadBytes(entries));
  }

  /** The leader's own write became durable: it counts toward the quorum only from now on. */
  selfPersisted(index: number): void {
    if (this.role !== 'leader') return;
    const self = this.tracker.progress.get(this.id);
    if (self && self.maybeUpdate(index) && this.maybeCommit()) this.broadcastPending = true;
  }

  maybeCommit(): boolean {
    const quorumIndex = this.tracker.committed();
    if (this.cfg.unsafe.commitOldTermEntries === true) {
      const index = Math.min(quorumIndex, this.log.lastIndex());
      if (index <= this.log.committed) return false;
      this.log.commitTo(index);
      return true;
    }
    return this.log.maybeCommit(quorumIndex, this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  /**
   * New entries, or a new commit index, to every peer. A peer in replicate state gets an append
   * only with entries unless commit updates are eager: the commit alone waits for the next tick
   * (sendCommitUpdates). A probe goes out even when empty, and so does the commit of a conf
   * change: once it applies here, a removed peer has no progress left and would never be told.
   */
  bcastAppend(): void {
    for (const id of this.peersSorted()) {
      const progress = this.tracker.progress.get(id);
      const lazy = !this.cfg.eagerCommitUpdates && progress?.state === 'replicate' && !this.confChangeCommittedUntold(progress);
      this.sendAppend(id, !lazy);
      while (this.sendAppend(id, false));
    }
  }

  /** The last proposed conf change has committed, and `progress`'s peer was not told yet. */
  private confChangeCommittedUntold(progress: Progress): boolean {
    return this.pendingConfIndex > progress.commitSent && this.pendingConfIndex <= this.log.committed;
  }

  /** Each peer in replicate state that was not told the commit index gets an empty append. */
  private sendCommitUpdates(): void {
    for (const id of this.peersSorted()) this.sendCommitUpdate(id);
  }

  /**
   * With lazy commit updates, an empty append to `to` if it is in replicate state and was last told
   * an older commit. Eager updates already went out with the commit.
   */
  private sendCommitUpdate(to: NodeId): void {
    if (this.cfg.eagerCommitUpdates) return;
    const progress = this.tracker.progress.get(to);
    if (progress?.state !== 'replicate' || progress.commitSent >= this.log.committed) return;
    this.sendAppend(to, true);
  }

  /**
   * Sends the next append to `to` if its window allows; with `sendIfEmpty` false, only when
   * there are entries to send. Returns whether a message went out.
   */
  sendAppend(to: NodeId, sendIfEmpty = true): boolean {
    const progress = this.tracker.progress.get(to);
    if (!progress || progress.isPaused()) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = prevTerm === undefined ? undefined : this.log.entriesFrom(progress.next, this.cfg.messageBytesMax);
    if (prevTerm === undefined || entries === undefined) return this.sendSnapshot(to, progress);
    if (entries.length === 0 && !sendIfEmpty) return false;
    let bytes = 0;
    for (const entry of entries) bytes += entryBytes(entry);
    this.send(message('append', this.id, to, this.term, { index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed }));
    progress.commitSent = this.log.committed;
    progress.sentEntries(prevIndex + entries.length, bytes, entries.length);
    return true;
  }

  private sendSnapshot(to: NodeId, progress: Progress): boolean {
    // A node we have not heard from is likely down; a snapshot to it would be wasted bytes.
    if (!progress.recentActive) return false;
    const snapshot = this.log.snapshot();
    assert(snapshot.meta.index > 0, 'entries were compacted but there is no snapshot');
    this.send(message('snapshot', this.id, to, this.term, { snapshot }));
    progress.becomeSnapshot(snapshot.meta.index);
    return true;
  }

  /**
   * A snapshot message can be lost like any other, and a caller may never call reportSnapshot.
   * A follower still waiting after two election timeouts goes back to probing, which sends the
   * snapshot again if it still needs one.
   */
  private retryOverdueSnapshots(): void {
    for (const progress of this.tracker.progress.values()) {
      if (progress.state !== 'snapshot') continue;
      if (progress.snapshotOverdue) progress.becomeProbe();
      else progress.snapshotOverdue = true;
    }
  }

  bcastHeartbeat(): void {
    const context = this.readOnly.lastContext();
    for (const id of this.peersSorted()) this.sendHeartbeat(id, context);
  }

  sendHeartbeat(to: NodeId, context: Uint8Array | null): void {
    const progress = this.tracker.progress.get(to)!;
    // The follower may not have everything we committed; never tell it to commit what it lacks.
    const commit = Math.min(progress.match, this.log.committed);
    this.send(message('heartbeat', this.id, to, this.term, { commit, context }));
    if (commit === this.log.committed) progress.commitSent = commit;
  }

  sendTimeoutNow(to: NodeId): void {
    this.send(message('timeout-now', this.id, to, this.term));
  }

  // ---- membership ------------------------------------------------------------------------

  /** A committed conf-change entry (at `index`) is being applied: every replica switches configuration here. */
  applyConfChange({ conf }: ConfChangeEntry, index: number): void {
    this.tracker.applyConf(conf, this.log.lastIndex() + 1);
    if ((this.role === 'candidate' || this.role === 'pre-candidate') && !this.promotable()) {
      // Its campaign was for a configuration it is no longer a voter of.
      this.becomeFollower(this.term, NONE, 'removed');
      return;
    }
    if (this.role !== 'leader') return;
    if (!this.promotable()) {
      // Removed (or never a voter): this leader leads on, without counting itself, until a quorum
      // of the new configuration has said it knows the removal committed, then steps down. A
      // voter that never learns it still counts this node's vote, which this node may refuse for
      // good (its log can be longer), so without a leader no one could win an election. One
      // round of heartbeats is not enough: they can be lost.
      this.removal = { index, informed: new Set() };
      this.bcastHeartbeat();
      return;
    }
    this.maybeCommit();
    this.broadcastPending = true;
  }

  /** A removed leader steps down once a quorum of the configuration knows the removal committed. */
  commitKnownBy(id: NodeId, commit: number): void {
    const removal = this.removal;
    if (removal === null || commit < removal.index) return;
    removal.informed.add(id);
    if (this.tracker.isQuorum(removal.informed)) this.becomeFollower(this.term, NONE, 'removed');
  }

  /** True while this node leads only to tell the configuration that removed it the commit index. */
  get removedLeader(): boolean {
    return this.removal !== null;
  }

  /**
   * A leader in a joint configuration whose conf changes are all applied proposes leaving it.
   * Checked after every advance, not only when the joint entry applies: a leader elected after
   * its predecessor applied the joint entry (and lost its leave-joint) must finish the change, or
   * the cluster stays joint for good (found by the simulator's membership faults).
   */
  maybeLeaveJoint(): void {
    if (this.role !== 'leader' || this.pendingConfIndex > this.log.applied) return;
    const conf = this.tracker.confState();
    if (conf.votersOutgoing.length === 0) return;
    const leave: ConfChange = { kind: 'leave-joint' };
    const data = encodeConfChange({ change: leave, conf: nextConf(conf, leave) });
    this.pendingConfIndex = this.appendEntries([{ type: 'conf-change', data }], true);
    this.broadcastPending = true;
  }

  // ---- reads -----------------------------------------------------------------------------

  /** Serves or queues a ReadIndex request from `from` (this node, or a follower that forwarded it). */
  handleReadRequest(from: NodeId, context: Uint8Array): void {
    // The one voter may confirm reads alone only if it is this node (a removed leader is not).
    if ((this.tracker.isSingleton() && this.promotable()) || this.cfg.unsafe.readIndexWithoutQuorum === true) {
      this.releaseRead({ index: this.log.committed, context, from, acks: new Set() });
      return;
    }
    this.readOnly.add(this.log.committed, context, from);
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeat();
  }

  releaseRead(request: ReadRequest): void {
    if (request.from === this.id) {
      this.readStates.push({ index: request.index, context: request.context });
    } else {
      // The follower serves the read once it has applied up to the index: tell it the commit first.
      this.sendCommitUpdate(request.from);
      this.send(message('read-index-resp', this.id, request.from, this.term, { index: request.index, context: request.context }));
    }
  }
}
