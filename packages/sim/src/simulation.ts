import type { ConfChange, NodeId } from '@kvapp/core';
import { SimClient } from './client.js';
import { VirtualClock } from './clock.js';
import type { HistoryEvent } from '@kvapp/checker';
import { HistoryRecorder } from './history.js';
import { checkLinearizable } from './history-check.js';
import { InvariantViolation, Invariants, type InvariantCode } from './invariants.js';
import { CLIENT_ENDPOINT_BASE, VirtualNetwork, type Envelope, type LinkConditions } from './network.js';
import { SimNode } from './node.js';
import { kernelUnsafeSwitches, unsafeSwitches, type PlantedBug } from './planted-bugs.js';
import type { RequestOp } from './protocol.js';
import { streamRng } from './rng.js';
import { checkSchedule, profileFromSeed, scheduleFromSeed, type Fault, type NodeTarget, type Profile } from './schedule.js';

/** A history checker's answer, as @kvapp/checker gives it. */
export interface HistoryVerdict {
  readonly valid: boolean | 'unknown';
  /** The most steps any key's search took, when the checker says (the default one does). */
  readonly searchSteps?: number;
  readonly [detail: string]: unknown;
}
export type HistoryCheck = (events: readonly HistoryEvent[]) => HistoryVerdict | Promise<HistoryVerdict>;

export interface SimOptions {
  readonly seed: number;
  /** The fault schedule; by default the seed makes one. */
  readonly schedule?: readonly Fault[];
  readonly bugs?: readonly PlantedBug[];
  /** Checks the history at the end (default: @kvapp/checker); null skips it (the invariants still run). */
  readonly checkHistory?: HistoryCheck | null;
}

export type SimFailure =
  | { readonly kind: 'invariant'; readonly code: InvariantCode; readonly message: string; readonly atMs: number }
  | { readonly kind: 'liveness'; readonly message: string; readonly atMs: number }
  /** The core (or the simulator) failed one of its own assertions: a bug, reported with its seed like any other. */
  | { readonly kind: 'assertion'; readonly message: string; readonly atMs: number }
  | { readonly kind: 'history'; readonly message: string; readonly verdict: HistoryVerdict }
  /**
   * The checker could not decide within its budget. A failure of its own: a seed must give one
   * answer, and a history nobody checked is not a pass.
   */
  | { readonly kind: 'history-unknown'; readonly message: string; readonly verdict: HistoryVerdict };

export interface SimStats {
  simulatedMs: number;
  steps: number;
  ops: number;
  ok: number;
  fail: number;
  info: number;
  messages: number;
  crashes: number;
  leaderTerms: number;
  committed: number;
  invariantChecks: number;
}

export interface SimResult {
  readonly seed: number;
  readonly schedule: readonly Fault[];
  readonly bugs: readonly PlantedBug[];
  readonly profile: Profile;
  readonly failure: SimFailure | null;
  /** 'unknown' when the checker ran out of its budget (a failure); null when no check ran. */
  readonly historyValid: boolean | 'unknown' | null;
  /** The checker's whole answer; null when no check ran. */
  readonly historyVerdict: HistoryVerdict | null;
  readonly history: readonly HistoryEvent[];
  readonly stats: SimStats;
  /** Faults as they struck, and leader changes: what happened, for a failure report. */
  readonly timeline: readonly string[];
}

/** Bounds of the liveness phase, in simulated ms after everything is healed. */
export const livenessLimits = {
  leaderMsMax: 2000,
  completeMsMax: 6000,
  opsPerClient: 2,
} as const;

/** Bounds that keep a run finite whatever the schedule. */
const networkInFlightMax = 20_000;
const inboxMax = 2_000;
const timelineMax = 400;
/** Percent of client operations that are deletes (ClientOptions.deletePct): few, so that keys mostly hold values. */
const clientDeletePct = 5;
const midWriteWaitMs = 50;
const afterVoteWaitMs = 1000;
const nextLeaderWaitMs = 1000;
/** A membership change is proposed again this long after the last try. */
const membershipRetryMs = 20;

function describeChange(change: ConfChange): string {
  if (change.kind === 'simple') return `${change.action} ${change.node}`;
  if (change.kind === 'joint') return `joint: voters ${change.voters.join(',')}`;
  return 'leave-joint';
}

interface ActiveFault {
  readonly endMs: number;
  readonly end: () => void;
}

/**
 * One run: real core nodes with the KV state machine on a virtual network, clock and disk,
 * clients recording a history. A fault phase plays the schedule on top of the seed's background
 * noise; then everything heals and a liveness phase demands a leader and completed operations;
 * then the history goes to the checker. The Raft invariants are checked after every step.
 */
export class Simulation {
  readonly profile: Profile;
  readonly schedule: readonly Fault[];
  readonly bugs: readonly PlantedBug[];
  private readonly clock: VirtualClock;
  private readonly network: VirtualNetwork;
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly clients: SimClient[] = [];
  private readonly invariants = new Invariants();
  private readonly history = new HistoryRecorder();
  private readonly inboxes = new Map<NodeId, Envelope[]>();
  private readonly active: ActiveFault[] = [];
  private readonly networkFaults: LinkConditions[] = [];
  private readonly timeline: string[] = [];
  private readonly nextLeaderPartitions: { fault: Extract<Fault, { kind: 'partition' }>; term: number }[] = [];
  /** The node the membership faults want out of the voters now (one at a time). */
  private membershipOut: { readonly id: NodeId; readonly joint: boolean } | null = null;
  private membershipNextTryMs = 0;
  private readonly ids: NodeId[];
  private nowMs = 0;
  private steps = 0;
  private requestIdNext = 1;
  private processNext: number;
  private lastLeader: NodeId = 0;

  constructor(readonly options: SimOptions) {
    const seed = options.seed;
    assertSeed(seed);
    this.profile = profileFromSeed(seed);
    this.schedule = options.schedule ?? scheduleFromSeed(seed, this.profile);
    const bad = checkSchedule(this.schedule);
    if (bad !== null) throw new RangeError(`bad schedule: ${bad}`);
    this.bugs = options.bugs ?? [];
    const p = this.profile;
    this.ids = Array.from({ length: p.clusterSize }, (_, i) => i + 1);
    this.clock = new VirtualClock(this.ids, p.tickMs);
    const base: LinkConditions = { dropPct: p.dropPct, duplicatePct: p.duplicatePct, delayMsMin: 1, delayMsMax: p.delayMsMax };
    this.network = new VirtualNetwork(streamRng(seed, 3), base, networkInFlightMax);
    const unsafe = unsafeSwitches(this.bugs);
    const kernelUnsafe = kernelUnsafeSwitches(this.bugs);
    for (const id of this.ids) {
      const node = new SimNode(
        {
          id,
          voters: this.ids,
          seed,
          tickMs: p.tickMs,
          electionTicks: p.electionTicks,
          heartbeatTicks: p.heartbeatTicks,
          messageBytesMax: p.messageBytesMax,
          inflightAppendsMax: p.inflightAppendsMax,
          compactEveryEntries: p.compactEveryEntries,
          requestTimeoutMs: p.opTimeoutMs,
          unsafe,
          kernelUnsafe,
          forgetVoteOnRestart: this.bugs.includes('forget-vote-on-restart'),
        },
        this.nodeHooks(),
        streamRng(seed, 10 + id),
        streamRng(seed, 40 + id),
      );
      this.nodes.set(id, node);
      this.invariants.register(node);
      this.inboxes.set(id, []);
    }
    const keys = Array.from({ length: p.keys }, (_, i) => `k${i}`);
    const world = {
      send: (client: number, node: NodeId, requestId: number, op: RequestOp) =>
        this.network.send({ from: client, to: node, payload: { kind: 'request', request: { requestId, op } } }, this.nowMs),
      newRequestId: () => this.requestIdNext++,
      newProcess: () => this.processNext++,
      history: this.history,
    };
    for (let i = 0; i < p.clients; i++) {
      const client = new SimClient(
        {
          index: i,
          endpoint: CLIENT_ENDPOINT_BASE + i,
          nodeIds: this.ids,
          keys,
          readPct: p.readPct,
          casPct: p.casPct,
          deletePct: clientDeletePct,
          thinkMsMax: p.thinkMsMax,
          attemptTimeoutMs: p.attemptTimeoutMs,
          retryBackoffMs: 10,
        },
        streamRng(seed, 100 + i),
        world,
      );
      client.opsBudget = p.opsPerClient;
      client.stopAtMs = this.faultPhaseEndMs();
      client.opTimeoutMs = p.opTimeoutMs;
      this.clients.push(client);
    }
    this.processNext = p.clients;
  }

  private nodeHooks() {
    return {
      transmit: (envelope: Envelope) => this.network.send(envelope, this.nowMs),
      entriesPersisted: (node: SimNode, entries: Parameters<Invariants['entriesPersisted']>[1]) =>
        this.invariants.entriesPersisted(node, entries),
      entryApplied: (node: SimNode, entry: Parameters<Invariants['entryApplied']>[1]) => this.invariants.entryApplied(node, entry),
      stepped: (node: SimNode) => {
        this.invariants.stepped(node);
        this.strikeNewLeader(node);
      },
      localMs: (node: SimNode) => this.clock.local(node.id),
      nowMs: () => this.nowMs,
      failpointHit: (node: SimNode, moment: string) => {
        this.inboxes.set(node.id, []);
        this.note(`node ${node.id} crashed ${moment} until ${node.restartAtMs} ms`);
      },
    };
  }

  async run(): Promise<SimResult> {
    let failure: SimFailure | null;
    try {
      failure = this.faultPhase() ?? this.livenessPhase();
    } catch (error) {
      if (error instanceof InvariantViolation) {
        failure = { kind: 'invariant', code: error.code, message: error.message, atMs: this.nowMs };
        this.note(`invariant violated: ${error.message}`);
      } else if (error instanceof Error && error.name === 'AssertionError') {
        failure = { kind: 'assertion', message: error.message, atMs: this.nowMs };
        this.note(`assertion failed: ${error.message}`);
      } else {
        throw error;
      }
    }
    let historyVerdict: HistoryVerdict | null = null;
    const check = this.options.checkHistory === undefined ? checkLinearizable : this.options.checkHistory;
    if (failure === null && check !== null) {
      const verdict = await check(this.history.events);
      historyVerdict = verdict;
      if (verdict.valid === false) failure = { kind: 'history', message: 'the history is not linearizable', verdict };
      if (verdict.valid === 'unknown')
        failure = { kind: 'history-unknown', message: 'the checker could not decide the history within its budget', verdict };
    }
    return {
      seed: this.options.seed,
      schedule: this.schedule,
      bugs: this.bugs,
      profile: this.profile,
      failure,
      historyValid: historyVerdict?.valid ?? null,
      historyVerdict,
      history: this.history.events,
      stats: this.stats(),
      timeline: this.timeline,
    };
  }

  // ---- phases ------------------------------------------------------------------------------

  private faultPhaseEndMs(): number {
    return Math.max(this.profile.faultPhaseMs, ...this.schedule.map((f) => f.atMs + 1));
  }

  private faultPhase(): SimFailure | null {
    const byStart = [...this.schedule].sort((a, b) => a.atMs - b.atMs);
    const endMs = this.faultPhaseEndMs();
    let next = 0;
    for (; this.nowMs < endMs; this.nowMs++) {
      while (next < byStart.length && byStart[next]!.atMs === this.nowMs) this.strike(byStart[next++]!);
      this.endFaults(false);
      this.step();
    }
    return null;
  }

  private livenessPhase(): SimFailure | null {
    this.heal();
    const healMs = this.nowMs;
    for (const client of this.clients) {
      client.opsBudget = client.opsStarted + livenessLimits.opsPerClient;
      client.stopAtMs = Number.POSITIVE_INFINITY;
      client.mustCompleteFromMs = healMs;
      client.opTimeoutMs = livenessLimits.completeMsMax;
    }
    let leaderAt: number | null = null;
    for (; this.nowMs < healMs + livenessLimits.completeMsMax; this.nowMs++) {
      this.step();
      if (leaderAt === null && this.currentLeader() !== 0) leaderAt = this.nowMs;
      if (leaderAt === null && this.nowMs - healMs >= livenessLimits.leaderMsMax) {
        return { kind: 'liveness', message: `no leader within ${livenessLimits.leaderMsMax} ms of healing`, atMs: this.nowMs };
      }
      if (leaderAt !== null && this.clients.every((c) => c.idle) && this.membershipWhole()) break;
    }
    if (!this.membershipWhole()) {
      return {
        kind: 'liveness',
        message: `the voters are not every node again ${livenessLimits.completeMsMax} ms after healing`,
        atMs: this.nowMs,
      };
    }
    const misses = this.clients.reduce((n, c) => n + c.livenessMisses, 0);
    if (misses > 0) return { kind: 'liveness', message: `${misses} operations after healing did not complete`, atMs: this.nowMs };
    const busy = this.clients.filter((c) => !c.idle).length;
    if (busy > 0) {
      return { kind: 'liveness', message: `${busy} clients still busy ${livenessLimits.completeMsMax} ms after healing`, atMs: this.nowMs };
    }
    return null;
  }

  /** One millisecond: deliver what is due, tick the clocks, let clients act. */
  private step(): void {
    this.steps++;
    for (const node of this.nodes.values()) {
      if (!node.up && node.restartAtMs !== null && node.restartAtMs <= this.nowMs) {
        node.restart();
        this.note(`node ${node.id} restarts`);
      }
    }
    for (const node of this.nodes.values()) node.completeWrites(this.nowMs);
    for (const envelope of this.network.take(this.nowMs)) this.deliver(envelope);
    for (const id of this.ids) {
      if (this.clock.advance(id)) this.nodes.get(id)!.tick();
    }
    for (const client of this.clients) client.act(this.nowMs);
    this.watchLeader();
    this.steerMembership();
  }

  /** The leader's configuration has every node as a voter, and is not joint. */
  private membershipWhole(): boolean {
    const conf = this.nodes.get(this.currentLeader())?.status()?.conf;
    return conf !== undefined && conf.votersOutgoing.length === 0 && this.ids.every((id) => conf.voters.includes(id));
  }

  /**
   * Moves the voters toward the goal (every node, less `membershipOut`) one change at a time,
   * through the current leader, retrying every few ms: a change is refused while another is
   * pending, by a node that is not leader, or lost with a leader that goes away.
   */
  private steerMembership(): void {
    if (this.nowMs < this.membershipNextTryMs) return;
    const leader = this.nodes.get(this.currentLeader());
    const conf = leader?.status()?.conf;
    if (!leader || !conf || conf.votersOutgoing.length > 0) return; // a joint configuration leaves by itself
    const out = this.membershipOut;
    const missing = this.ids.filter((id) => id !== out?.id && !conf.voters.includes(id));
    let change: ConfChange | null = null;
    if (out !== null && conf.voters.includes(out.id)) {
      change = out.joint
        ? { kind: 'joint', voters: conf.voters.filter((id) => id !== out.id), learners: [] }
        : { kind: 'simple', action: 'remove', node: out.id };
    } else if (missing.length > 0) {
      change = { kind: 'simple', action: 'add-voter', node: missing[0]! };
    }
    if (change === null) return;
    this.membershipNextTryMs = this.nowMs + membershipRetryMs;
    if (leader.changeMembership(change)) this.note(`leader ${leader.id} proposes ${describeChange(change)}`);
  }

  private deliver(envelope: Envelope): void {
    if (envelope.to >= CLIENT_ENDPOINT_BASE) {
      const payload = envelope.payload;
      if (payload.kind === 'reply') this.clients[envelope.to - CLIENT_ENDPOINT_BASE]!.onReply(this.nowMs, payload.reply);
      return;
    }
    const node = this.nodes.get(envelope.to)!;
    if (!node.up) return;
    if (node.paused) {
      const inbox = this.inboxes.get(node.id)!;
      if (inbox.length < inboxMax) inbox.push(envelope);
      return;
    }
    const payload = envelope.payload;
    if (payload.kind === 'raft') node.receiveMessage(payload.message);
    else if (payload.kind === 'request') node.receiveRequest(envelope.from, payload.request);
  }

  // ---- faults ------------------------------------------------------------------------------

  private strike(fault: Fault): void {
    switch (fault.kind) {
      case 'partition':
        return this.partition(fault);
      case 'crash':
        return this.crash(fault);
      case 'pause': {
        const node = this.resolve(fault.node);
        if (node === null || !node.up || node.paused) return;
        node.paused = true;
        this.note(`node ${node.id} paused for ${fault.durationMs} ms`);
        return this.until(fault.durationMs, () => this.resume(node));
      }
      case 'clock': {
        const node = this.resolve(fault.node);
        if (node === null) return;
        this.clock.setPeriod(node.id, fault.periodMs);
        this.note(`node ${node.id} clock ticks every ${fault.periodMs} ms for ${fault.durationMs} ms`);
        return this.until(fault.durationMs, () => this.clock.resetPeriod(node.id));
      }
      case 'network': {
        const c: LinkConditions = {
          dropPct: fault.dropPct,
          duplicatePct: fault.duplicatePct,
          delayMsMin: 1,
          delayMsMax: Math.max(1, fault.delayMsMax),
        };
        this.networkFaults.push(c);
        this.updateConditions();
        this.note(`network: drop ${c.dropPct}% dup ${c.duplicatePct}% delay <= ${c.delayMsMax} ms for ${fault.durationMs} ms`);
        return this.until(fault.durationMs, () => {
          this.networkFaults.splice(this.networkFaults.indexOf(c), 1);
          this.updateConditions();
        });
      }
      case 'membership': {
        const node = this.resolve(fault.node);
        if (node === null || this.membershipOut !== null) return;
        this.membershipOut = { id: node.id, joint: fault.joint };
        this.note(`node ${node.id} to be removed from the voters${fault.joint ? ' (joint)' : ''} for ${fault.durationMs} ms`);
        return this.until(fault.durationMs, () => {
          this.membershipOut = null;
          this.note(`node ${node.id} to be added back as a voter`);
        });
      }
      case 'transfer': {
        const leader = this.nodes.get(this.currentLeader());
        const to = this.resolve(fault.node);
        if (!leader || to === null || to === leader) return;
        this.note(`leader ${leader.id} asked to transfer to ${to.id}`);
        leader.transferLeadership(to.id);
        return;
      }
    }
  }

  private partition(fault: Extract<Fault, { kind: 'partition' }>): void {
    if (fault.side.includes('next-leader')) {
      const armed = { fault, term: this.highestTerm() };
      this.nextLeaderPartitions.push(armed);
      this.note(`armed: partition the next leader (after term ${armed.term})`);
      this.until(nextLeaderWaitMs, () => {
        const at = this.nextLeaderPartitions.indexOf(armed);
        if (at >= 0) this.nextLeaderPartitions.splice(at, 1);
      });
      return;
    }
    this.cutOff(fault);
  }

  /** Called after every node step: strikes armed next-leader partitions at a newly elected leader. */
  private strikeNewLeader(node: SimNode): void {
    if (this.nextLeaderPartitions.length === 0) return;
    const status = node.status();
    if (status === null || status.role !== 'leader') return;
    for (const armed of [...this.nextLeaderPartitions]) {
      if (status.term <= armed.term) continue;
      this.nextLeaderPartitions.splice(this.nextLeaderPartitions.indexOf(armed), 1);
      const side = armed.fault.side.map((t) => (t === 'next-leader' ? node.id : t));
      this.cutOff({ ...armed.fault, side });
    }
  }

  private highestTerm(): number {
    let term = 0;
    for (const node of this.nodes.values()) term = Math.max(term, node.status()?.term ?? 0);
    return term;
  }

  private cutOff(fault: Extract<Fault, { kind: 'partition' }>): void {
    const side = new Set<NodeId>();
    for (const t of fault.side) {
      const node = this.resolve(t);
      if (node !== null) side.add(node.id);
    }
    const rest = this.ids.filter((id) => !side.has(id));
    if (side.size === 0 || rest.length === 0) return;
    const links: [NodeId, NodeId][] = [];
    for (const a of side) {
      for (const b of rest) {
        links.push([a, b]);
        if (!fault.oneWay) links.push([b, a]);
      }
    }
    for (const [a, b] of links) this.network.cut(a, b);
    this.note(`partition ${[...side].join(',')} ${fault.oneWay ? '->' : '<->'} ${rest.join(',')} for ${fault.durationMs} ms`);
    this.until(fault.durationMs, () => {
      for (const [a, b] of links) this.network.heal(a, b);
    });
  }

  private crash(fault: Extract<Fault, { kind: 'crash' }>): void {
    const node = this.resolve(fault.node);
    if (node === null || !node.up) return;
    if (fault.moment === 'now') {
      this.crashNow(node, fault.downMs);
      return;
    }
    const armed = { moment: fault.moment, downMs: fault.downMs };
    node.crashArmed = armed;
    this.note(`node ${node.id} armed to crash ${fault.moment}`);
    // A failpoint that is not reached in time is disarmed.
    this.until(fault.moment === 'mid-write' ? midWriteWaitMs : afterVoteWaitMs, () => {
      if (node.crashArmed === armed) node.crashArmed = null;
    });
  }

  private crashNow(node: SimNode, downMs: number): void {
    this.inboxes.set(node.id, []);
    node.crash(this.nowMs + downMs, true);
    this.note(`node ${node.id} crashed for ${downMs} ms`);
  }

  private resume(node: SimNode): void {
    if (!node.paused) return;
    node.paused = false;
    const inbox = this.inboxes.get(node.id)!;
    this.inboxes.set(node.id, []);
    this.note(`node ${node.id} resumes with ${inbox.length} messages queued`);
    for (const envelope of inbox) this.deliver(envelope);
  }

  private until(durationMs: number, end: () => void): void {
    this.active.push({ endMs: this.nowMs + durationMs, end });
  }

  private endFaults(all: boolean): void {
    for (let i = 0; i < this.active.length;) {
      const fault = this.active[i]!;
      if (all || fault.endMs <= this.nowMs) {
        this.active.splice(i, 1);
        fault.end();
      } else i++;
    }
  }

  private heal(): void {
    this.endFaults(true);
    this.membershipOut = null; // every node a voter again (steerMembership re-adds them)
    this.nextLeaderPartitions.length = 0;
    this.network.healAll();
    this.networkFaults.length = 0;
    this.network.conditions = { dropPct: 0, duplicatePct: 0, delayMsMin: 1, delayMsMax: Math.min(this.profile.delayMsMax, 5) };
    for (const node of this.nodes.values()) {
      this.clock.resetPeriod(node.id);
      node.crashArmed = null;
      if (node.paused) this.resume(node);
      if (!node.up) node.restartAtMs = this.nowMs;
    }
    this.note('healed: network whole, clocks normal, every node up');
  }

  private updateConditions(): void {
    const b = this.network.base;
    let c = b;
    for (const f of this.networkFaults) {
      c = {
        dropPct: Math.max(c.dropPct, f.dropPct),
        duplicatePct: Math.max(c.duplicatePct, f.duplicatePct),
        delayMsMin: 1,
        delayMsMax: Math.max(c.delayMsMax, f.delayMsMax),
      };
    }
    this.network.conditions = c;
  }

  private resolve(target: NodeTarget): SimNode | null {
    if (target === 'leader' || target === 'next-leader') return this.nodes.get(this.currentLeader()) ?? null;
    return this.nodes.get(((Math.abs(Math.trunc(target)) + this.ids.length - 1) % this.ids.length) + 1) ?? null;
  }

  /** The up leader with the highest term (0: none). */
  private currentLeader(): NodeId {
    let best: NodeId = 0;
    let bestTerm = -1;
    for (const node of this.nodes.values()) {
      const status = node.status();
      if (status !== null && status.role === 'leader' && status.term > bestTerm) {
        best = node.id;
        bestTerm = status.term;
      }
    }
    return best;
  }

  private watchLeader(): void {
    if (this.steps % 10 !== 0) return;
    const leader = this.currentLeader();
    if (leader !== this.lastLeader) {
      this.lastLeader = leader;
      const term = this.nodes.get(leader)?.status()?.term ?? 0;
      this.note(leader === 0 ? 'no leader' : `leader ${leader} (term ${term})`);
    }
  }

  private note(text: string): void {
    if (this.timeline.length < timelineMax) this.timeline.push(`${this.nowMs}ms ${text}`);
  }

  private stats(): SimStats {
    let ok = 0;
    let fail = 0;
    let info = 0;
    for (const e of this.history.events) {
      if (e.type === 'ok') ok++;
      else if (e.type === 'fail') fail++;
      else if (e.type === 'info') info++;
    }
    let crashes = 0;
    for (const node of this.nodes.values()) crashes += node.crashes;
    const summary = this.invariants.summary();
    return {
      simulatedMs: this.nowMs,
      steps: this.steps,
      ops: ok + fail + info,
      ok,
      fail,
      info,
      messages: this.network.stats.sent,
      crashes,
      leaderTerms: summary.terms,
      committed: summary.committed,
      invariantChecks: this.invariants.checks,
    };
  }
}

function assertSeed(seed: number): void {
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  return new Simulation(options).run();
}
