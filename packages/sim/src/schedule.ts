import fc from 'fast-check';
import { streamRng, type SimRng } from './rng.js';

/**
 * A node by number (taken modulo the cluster size, so any schedule fits any cluster), whoever
 * leads when the fault starts, or (partitions only) the next node to win an election after the
 * fault starts, struck the moment it wins: before its first appends arrive anywhere.
 */
export type NodeTarget = number | 'leader' | 'next-leader';

/**
 * One timed fault. A schedule is a list of them: plain data, so fast-check can generate and
 * shrink it and a failure prints as a test case. Every fault ends by itself; the liveness
 * phase then heals whatever is left.
 */
export type Fault =
  /** Cuts the links between `side` and the other nodes; oneWay: only side→others. */
  | {
      readonly kind: 'partition';
      readonly atMs: number;
      readonly durationMs: number;
      readonly side: readonly NodeTarget[];
      readonly oneWay: boolean;
    }
  /**
   * kill -9, at a moment: 'now'; 'mid-write' (failpoint: at the node's next fsync, after the
   * writes and before the sync, which may tear them); 'after-vote' (failpoint: right after the
   * node has persisted and sent its next granted vote).
   */
  | { readonly kind: 'crash'; readonly atMs: number; readonly node: NodeTarget; readonly downMs: number; readonly moment: CrashMoment }
  /** SIGSTOP: no ticks, no messages handled (they queue), then SIGCONT. */
  | { readonly kind: 'pause'; readonly atMs: number; readonly node: NodeTarget; readonly durationMs: number }
  /** The node's clock runs at one tick per periodMs (base: tickMs): fast, slow, or 0 = stalled. */
  | { readonly kind: 'clock'; readonly atMs: number; readonly node: NodeTarget; readonly durationMs: number; readonly periodMs: number }
  /** A bad network for a while: loss, duplicates and long delays (which reorder). */
  | {
      readonly kind: 'network';
      readonly atMs: number;
      readonly durationMs: number;
      readonly dropPct: number;
      readonly duplicatePct: number;
      readonly delayMsMax: number;
    }
  /** The leader is asked to hand leadership to `node`. */
  | { readonly kind: 'transfer'; readonly atMs: number; readonly node: NodeTarget }
  /**
   * `node` is removed from the voters (joint: through a joint configuration, else one change),
   * then added back when the fault ends; one node out at a time. The leader may remove itself.
   */
  | { readonly kind: 'membership'; readonly atMs: number; readonly node: NodeTarget; readonly durationMs: number; readonly joint: boolean };

export type CrashMoment = 'now' | 'mid-write' | 'after-vote';
export type FaultKind = Fault['kind'];
export const faultKinds: readonly FaultKind[] = ['partition', 'crash', 'pause', 'clock', 'network', 'transfer', 'membership'];
/**
 * The kinds a seed's profile draws from. Membership came later: it is added to schedules from a
 * stream of its own (scheduleFromSeed), so the profiles and schedules of existing seeds keep the
 * rest of their faults.
 */
const profileFaultKinds: readonly FaultKind[] = faultKinds.filter((k) => k !== 'membership');

/** Everything about a run that comes from its seed (swarm testing: each seed its own mix). */
export interface Profile {
  readonly clusterSize: number;
  readonly clients: number;
  readonly keys: number;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly dropPct: number;
  readonly duplicatePct: number;
  readonly delayMsMax: number;
  /** Small: one entry per append, so old-term entries are acknowledged apart from new ones. */
  readonly messageBytesMax: number;
  readonly inflightAppendsMax: number;
  readonly compactEveryEntries: number;
  readonly faultPhaseMs: number;
  /** A client starts ops until the fault phase ends, at most this many. */
  readonly opsPerClient: number;
  readonly readPct: number;
  readonly casPct: number;
  readonly thinkMsMax: number;
  readonly attemptTimeoutMs: number;
  readonly opTimeoutMs: number;
  readonly faultKinds: readonly FaultKind[];
  readonly faultCount: number;
}

/** Bounds on schedules, whoever makes them. */
export const scheduleLimits = {
  faultsMax: 40,
  faultPhaseMsMax: 3000,
  faultDurationMsMax: 1500,
  clockPeriodMsMax: 60,
} as const;

const streamProfile = 1;
const streamSchedule = 2;
const streamMembership = 3;

export function profileFromSeed(seed: number): Profile {
  const rng = streamRng(seed, streamProfile);
  const kinds = profileFaultKinds.filter(() => rng.chance(60));
  const readPct = rng.between(20, 60);
  return {
    clusterSize: rng.between(3, 5),
    clients: rng.between(2, 5),
    keys: rng.between(1, 3),
    tickMs: 10,
    electionTicks: 10,
    heartbeatTicks: rng.between(1, 3),
    dropPct: rng.chance(40) ? 0 : rng.between(1, 10),
    duplicatePct: rng.chance(50) ? 0 : rng.between(1, 10),
    delayMsMax: rng.pick([1, 3, 8, 15]),
    messageBytesMax: rng.chance(50) ? 1 : 1024 * 1024,
    inflightAppendsMax: rng.pick([1, 4, 256]),
    compactEveryEntries: rng.chance(50) ? 0 : rng.between(5, 40),
    faultPhaseMs: rng.between(800, 2000),
    opsPerClient: rng.between(20, 80),
    readPct,
    casPct: rng.between(10, 100 - readPct),
    thinkMsMax: rng.pick([10, 40, 80]),
    attemptTimeoutMs: rng.pick([40, 100, 200]),
    opTimeoutMs: rng.pick([300, 600, 1200]),
    faultKinds: kinds.length > 0 ? kinds : [rng.pick(profileFaultKinds)],
    faultCount: rng.chance(50) ? rng.between(0, 8) : rng.between(8, 20),
  };
}

/** The schedule a seed runs when none is given. */
export function scheduleFromSeed(seed: number, profile: Profile): Fault[] {
  const rng = streamRng(seed, streamSchedule);
  const faults: Fault[] = [];
  for (let i = 0; i < profile.faultCount; i++) {
    const fault = randomFault(rng, rng.pick(profile.faultKinds), profile.faultPhaseMs);
    faults.push(fault);
    if (fault.kind === 'partition' && rng.chance(25)) {
      // Figure 8: the leader is cut off with entries nobody else has, and so is its successor
      // the moment it is elected; then they rejoin in turn, each with a log the other lacks.
      faults[faults.length - 1] = { ...fault, side: ['leader'], oneWay: false, durationMs: rng.between(150, 400) };
      faults.push({ kind: 'partition', atMs: fault.atMs, side: ['next-leader'], oneWay: false, durationMs: rng.between(150, 800) });
    } else if (fault.kind === 'partition' && rng.chance(30)) {
      // A stale leader: cut off, and its clock slow or stalled (a GC pause), so CheckQuorum
      // deposes it late while its clients still reach it.
      const durationMs = rng.between(300, 900);
      faults[faults.length - 1] = { ...fault, side: ['leader'], oneWay: false, durationMs };
      faults.push({
        kind: 'clock',
        atMs: fault.atMs,
        node: 'leader',
        durationMs: durationMs + rng.between(0, 300),
        periodMs: rng.pick([0, 40]),
      });
    }
  }
  if (profile.faultKinds.includes('crash') && rng.chance(25)) faults.push(...electionStorm(rng, profile.faultPhaseMs));
  const membership = streamRng(seed, streamMembership);
  if (membership.chance(30)) {
    for (let n = membership.between(1, 3); n > 0; n--) faults.push(randomFault(membership, 'membership', profile.faultPhaseMs));
  }
  return faults.slice(0, scheduleLimits.faultsMax).sort((a, b) => a.atMs - b.atMs);
}

/**
 * Leader after leader is cut off; voters crash right after granting a vote and come straight
 * back, while slow, duplicating links keep vote requests in flight: split votes meet restarts.
 */
function electionStorm(rng: SimRng, phaseMs: number): Fault[] {
  const faults: Fault[] = [];
  const rounds = rng.between(2, 4);
  const gapMs = rng.between(300, 400);
  const startMs = rng.between(0, Math.max(0, phaseMs - rounds * gapMs));
  for (let i = 0; i < rounds; i++) {
    const atMs = Math.min(startMs + i * gapMs, scheduleLimits.faultPhaseMsMax - 1);
    faults.push({ kind: 'partition', atMs, durationMs: rng.between(150, 300), side: ['leader'], oneWay: false });
    for (let n = rng.between(2, 3); n > 0; n--) {
      faults.push({ kind: 'crash', atMs, node: rng.between(1, 5), downMs: rng.between(0, 3), moment: 'after-vote' });
    }
  }
  const durationMs = Math.min(rounds * gapMs, scheduleLimits.faultDurationMsMax);
  faults.push({
    kind: 'network',
    atMs: startMs,
    durationMs,
    dropPct: 0,
    duplicatePct: rng.between(10, 30),
    delayMsMax: rng.between(15, 40),
  });
  return faults;
}

function target(rng: SimRng): NodeTarget {
  return rng.chance(35) ? 'leader' : rng.chance(10) ? 'next-leader' : rng.between(1, 5);
}

/** Short faults make leaders churn (divergent logs, split votes); long ones make nodes fall behind. */
function randomDuration(rng: SimRng): number {
  return rng.chance(50) ? rng.between(0, 60) : rng.between(20, 800);
}

function randomFault(rng: SimRng, kind: FaultKind, phaseMs: number): Fault {
  const atMs = rng.between(0, phaseMs - 1);
  const durationMs = randomDuration(rng);
  switch (kind) {
    case 'partition': {
      const side = [target(rng)];
      if (rng.chance(40)) side.push(rng.between(1, 5));
      return { kind, atMs, durationMs, side, oneWay: rng.chance(30) };
    }
    case 'crash':
      return { kind, atMs, node: target(rng), downMs: randomDuration(rng), moment: rng.pick(['now', 'mid-write', 'after-vote'] as const) };
    case 'pause':
      return { kind, atMs, node: target(rng), durationMs };
    case 'clock':
      return { kind, atMs, node: target(rng), durationMs, periodMs: rng.pick([0, 3, 5, 20, 40]) };
    case 'network':
      return { kind, atMs, durationMs, dropPct: rng.between(0, 60), duplicatePct: rng.between(0, 30), delayMsMax: rng.pick([20, 60, 150]) };
    case 'transfer':
      return { kind, atMs, node: target(rng) };
    case 'membership':
      return { kind, atMs, node: target(rng), durationMs: rng.between(100, 1500), joint: rng.chance(50) };
  }
}

// ---- fast-check ------------------------------------------------------------------------------

const atMs = fc.integer({ min: 0, max: scheduleLimits.faultPhaseMsMax - 1 });
const durationMs = fc.integer({ min: 0, max: scheduleLimits.faultDurationMsMax });
const node: fc.Arbitrary<NodeTarget> = fc.oneof(fc.constantFrom<NodeTarget>('leader', 'next-leader'), fc.integer({ min: 1, max: 5 }));
const opts = { noNullPrototype: true } as const;

export const faultArbitrary: fc.Arbitrary<Fault> = fc.oneof(
  fc.record(
    { kind: fc.constant('partition'), atMs, durationMs, side: fc.array(node, { minLength: 1, maxLength: 2 }), oneWay: fc.boolean() },
    opts,
  ),
  fc.record(
    { kind: fc.constant('crash'), atMs, node, downMs: durationMs, moment: fc.constantFrom<CrashMoment>('now', 'mid-write', 'after-vote') },
    opts,
  ),
  fc.record({ kind: fc.constant('pause'), atMs, node, durationMs }, opts),
  fc.record(
    { kind: fc.constant('clock'), atMs, node, durationMs, periodMs: fc.integer({ min: 0, max: scheduleLimits.clockPeriodMsMax }) },
    opts,
  ),
  fc.record(
    {
      kind: fc.constant('network'),
      atMs,
      durationMs,
      dropPct: fc.integer({ min: 0, max: 80 }),
      duplicatePct: fc.integer({ min: 0, max: 50 }),
      delayMsMax: fc.integer({ min: 1, max: 200 }),
    },
    opts,
  ),
  fc.record({ kind: fc.constant('transfer'), atMs, node }, opts),
  fc.record({ kind: fc.constant('membership'), atMs, node, durationMs, joint: fc.boolean() }, opts),
) as fc.Arbitrary<Fault>;

export const scheduleArbitrary: fc.Arbitrary<Fault[]> = fc.array(faultArbitrary, { maxLength: 12 });

/** Rejects schedules outside the limits (e.g. hand-written in --schedule). */
export function checkSchedule(faults: readonly Fault[]): string | null {
  if (!Array.isArray(faults)) return 'a schedule is a JSON array of faults';
  if (faults.length > scheduleLimits.faultsMax) return `at most ${scheduleLimits.faultsMax} faults`;
  for (const [i, f] of faults.entries()) {
    if (!faultKinds.includes(f.kind)) return `fault ${i}: unknown kind ${String(f.kind)}`;
    if (!Number.isSafeInteger(f.atMs) || f.atMs < 0 || f.atMs >= scheduleLimits.faultPhaseMsMax) return `fault ${i}: atMs out of range`;
    const duration = 'durationMs' in f ? f.durationMs : 'downMs' in f ? f.downMs : 0;
    if (!Number.isSafeInteger(duration) || duration < 0 || duration > scheduleLimits.faultDurationMsMax)
      return `fault ${i}: duration out of range`;
  }
  return null;
}
