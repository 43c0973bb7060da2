import { nemeses, nemesisKinds } from '@kvapp/harness';
import type { NemesisKind, ScenarioSpec, SuiteTiming } from '@kvapp/harness';

/**
 * The suite: one scenario per nemesis of the harness's registry (harness/src/nemesis/registry.ts)
 * that has suite nodes, plus the planted bugs. CI: every fault kind once, 12-30 s under faults
 * each, about seven minutes in all on a 2-core machine. Nightly: the same kinds for minutes each, on the
 * nodes each nemesis asks for (5 where a fault needs room to take a shape: bridges, rings,
 * minorities of two), and several seeds.
 */
export type ProfileName = 'ci' | 'nightly';

export interface Profile {
  readonly name: ProfileName;
  readonly scenarios: readonly ScenarioSpec[];
  /** Each scenario runs with seeds base, base+1, ... */
  readonly seedsPerScenario: number;
  /** Base seed when --seed is not given. */
  readonly defaultSeed: () => number;
}

/** The timing of a nemesis' scenario unless its module asks for its own (NemesisModule.suiteTiming). */
const ciTiming: SuiteTiming = { faultS: 4, recoverS: 2, timeLimitS: 20 };
const nightlyTiming: SuiteTiming = { faultS: 8, recoverS: 4, timeLimitS: 240 };

function scenario(kind: NemesisKind, nodes: number, nightly: boolean): ScenarioSpec {
  const own = nemeses[kind].suiteTiming;
  const timing = nightly ? (own?.nightly ?? nightlyTiming) : (own?.ci ?? ciTiming);
  return {
    name: kind,
    description: nemeses[kind].description,
    nodes,
    nemesis: kind,
    faultS: timing.faultS,
    recoverS: timing.recoverS,
    workload: nightly ? { keys: 10, clients: 8 } : { keys: 6, clients: 4 },
    expect: 'valid',
    timeLimitS: timing.timeLimitS,
  };
}

/** One scenario per registered nemesis that has suite nodes, in registry order. */
function nemesisScenarios(nightly: boolean): ScenarioSpec[] {
  return nemesisKinds.flatMap((kind) => {
    const nodes = nemeses[kind].suiteNodes;
    return nodes === null ? [] : [scenario(kind, nightly ? nodes.nightly : nodes.ci, nightly)];
  });
}

/**
 * Proof that the checker bites: nodes serve reads locally, without ReadIndex, so an isolated old
 * leader answers with stale values. The harness README measured it caught in 10 of 10 runs of 7 s.
 */
function bugLocalReads(nightly: boolean): ScenarioSpec {
  return {
    name: 'bug-local-reads',
    description: 'planted bug: --unsafe-local-reads while the leader is isolated; must be caught (invalid)',
    nodes: 3,
    nemesis: 'partition-isolate-leader',
    faultS: 3,
    recoverS: 1,
    workload: { keys: 4, clients: 4 },
    nodeArgs: ['--unsafe-local-reads'],
    nodeEnv: { KVAPP_ALLOW_UNSAFE: '1' },
    expect: 'invalid',
    timeLimitS: nightly ? 60 : 12,
  };
}

/**
 * Proof that the clock nemesis bites: the leader answers reads from a lease timed on its own clock
 * (--unsafe-lease-reads), and clock-isolate-leader slows that clock to x0.25 before cutting the
 * leader off, so it serves stale reads for about four times the election timeout after its peers
 * elected a new leader. The harness README measured how often it is caught, with and without the
 * clock skew.
 */
function bugLeaseReads(nightly: boolean): ScenarioSpec {
  return {
    name: 'bug-lease-reads',
    description: 'planted bug: --unsafe-lease-reads while the leader, on a x0.25 clock, is isolated; must be caught (invalid)',
    nodes: 3,
    nemesis: 'clock-isolate-leader',
    faultS: 3,
    recoverS: 1,
    workload: { keys: 4, clients: 4 },
    nodeArgs: ['--unsafe-lease-reads'],
    nodeEnv: { KVAPP_ALLOW_UNSAFE: '1' },
    expect: 'invalid',
    timeLimitS: nightly ? 60 : 12,
  };
}

/**
 * Proof that the power-cut nemesis bites on acknowledgements: a WAL save resolves once written and
 * its fdatasync follows 100 ms later (--unsafe-ack-before-fsync), so a cut of a majority or of every
 * node loses writes the cluster acknowledged. The harness README says how often it was caught.
 */
function bugAckBeforeFsync(nightly: boolean): ScenarioSpec {
  return {
    name: 'bug-ack-before-fsync',
    description: 'planted bug: --unsafe-ack-before-fsync under power cuts; must be caught (invalid)',
    nodes: 3,
    nemesis: 'power-cut',
    faultS: 1,
    recoverS: 1,
    workload: { keys: 4, clients: 4, rates: { read: 0.6, write: 0.15, cas: 0.25 } },
    nodeArgs: ['--unsafe-ack-before-fsync'],
    nodeEnv: { KVAPP_ALLOW_UNSAFE: '1' },
    expect: 'invalid',
    timeLimitS: nightly ? 60 : 30,
  };
}

/**
 * Proof that the power-cut nemesis bites on directory entries: new WAL segments and snapshot files
 * are renamed into place without a directory fsync (--unsafe-skip-dir-fsync), so a cut removes
 * them; a low --snapshot-entries makes the nodes write snapshot files during the run. The harness
 * README says how often it was caught.
 */
function bugSkipDirFsync(nightly: boolean): ScenarioSpec {
  return {
    name: 'bug-skip-dir-fsync',
    description: 'planted bug: --unsafe-skip-dir-fsync under power cuts; must be caught (invalid)',
    nodes: 3,
    nemesis: 'power-cut',
    faultS: 1,
    recoverS: 2,
    workload: { keys: 6, clients: 4 },
    nodeArgs: ['--unsafe-skip-dir-fsync', '--snapshot-entries', '100'],
    nodeEnv: { KVAPP_ALLOW_UNSAFE: '1' },
    expect: 'invalid',
    timeLimitS: nightly ? 60 : 20,
  };
}

/** Nightly seeds change every night (the date) and are printed, so any run can be replayed. */
function dateSeed(): number {
  const d = new Date();
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export const profiles: Readonly<Record<ProfileName, Profile>> = {
  ci: {
    name: 'ci',
    scenarios: [...nemesisScenarios(false), bugLocalReads(false), bugLeaseReads(false), bugAckBeforeFsync(false), bugSkipDirFsync(false)],
    seedsPerScenario: 1,
    defaultSeed: () => 1,
  },
  nightly: {
    name: 'nightly',
    scenarios: [...nemesisScenarios(true), bugLocalReads(true), bugLeaseReads(true), bugAckBeforeFsync(true), bugSkipDirFsync(true)],
    seedsPerScenario: 3,
    defaultSeed: dateSeed,
  },
};

export function isProfileName(s: string): s is ProfileName {
  return s === 'ci' || s === 'nightly';
}
