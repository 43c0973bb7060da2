import type { NemesisKind, ScenarioSpec } from '@kvapp/harness';

/**
 * The suite. CI: every fault kind once, ~20 s under faults each, about five minutes in all on a
 * 2-core machine. Nightly: the same kinds for minutes each, on 5 nodes where a fault needs room
 * to take a shape (bridges, rings, minorities of two), and several seeds.
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

interface Kind {
  readonly nemesis: NemesisKind;
  readonly description: string;
  /** Nodes on CI; nightly uses nightlyNodes. */
  readonly nodes: number;
  readonly nightlyNodes: number;
}

const kinds: readonly Kind[] = [
  { nemesis: 'partition-halves', description: 'random halves cut from each other, then healed', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'partition-isolate-leader', description: 'the current leader cut from every peer', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'partition-majorities-ring', description: 'every node hears a different majority (partly one-way on 3 nodes)', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'partition-bridge', description: 'two sides cut apart, one bridge node talks to both', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'partition-one-way', description: 'a single direction of one link cut', nodes: 3, nightlyNodes: 3 },
  { nemesis: 'kill', description: 'kill -9 of a minority, restarted after the fault', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'pause', description: 'SIGSTOP of the leader or a minority, then SIGCONT', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'delay', description: 'every node-to-node link delayed with jitter', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'failpoint-crash', description: 'a node crashes at an armed failpoint (e.g. mid-WAL-write) and restarts', nodes: 3, nightlyNodes: 5 },
  { nemesis: 'mix', description: 'a seeded mix of every fault above', nodes: 5, nightlyNodes: 5 },
];

const ciTimeLimitS = 20;
const nightlyTimeLimitS = 240;

function scenario(k: Kind, nightly: boolean): ScenarioSpec {
  return {
    name: k.nemesis,
    description: k.description,
    nodes: nightly ? k.nightlyNodes : k.nodes,
    nemesis: k.nemesis,
    faultS: nightly ? 8 : 4,
    recoverS: nightly ? 4 : 2,
    workload: nightly ? { keys: 10, clients: 8 } : { keys: 6, clients: 4 },
    expect: 'valid',
    timeLimitS: nightly ? nightlyTimeLimitS : ciTimeLimitS,
  };
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

/** Nightly seeds change every night (the date) and are printed, so any run can be replayed. */
function dateSeed(): number {
  const d = new Date();
  return d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
}

export const profiles: Readonly<Record<ProfileName, Profile>> = {
  ci: {
    name: 'ci',
    scenarios: [...kinds.map((k) => scenario(k, false)), bugLocalReads(false)],
    seedsPerScenario: 1,
    defaultSeed: () => 1,
  },
  nightly: {
    name: 'nightly',
    scenarios: [...kinds.map((k) => scenario(k, true)), bugLocalReads(true)],
    seedsPerScenario: 3,
    defaultSeed: dateSeed,
  },
};

export function isProfileName(s: string): s is ProfileName {
  return s === 'ci' || s === 'nightly';
}
