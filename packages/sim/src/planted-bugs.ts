import type { UnsafeSwitches } from '@kvapp/core';
import type { KernelUnsafeSwitches } from '@kvapp/kernel';
import type { ExpectedFailure } from './expected-failure.js';

/** The planted bugs: each breaks one rule, to prove the simulator notices. Off unless asked for. */
export const plantedBugs = [
  'commit-old-term-entries',
  'forget-vote-on-restart',
  'append-without-prev-check',
  'read-index-without-quorum',
  'vote-without-log-check',
  'ack-before-persist',
  'apply-uncommitted',
  'answer-replaced-entry',
] as const;
export type PlantedBug = (typeof plantedBugs)[number];

/**
 * The failure each planted bug must cause: the check that exists to catch that bug. A seed that
 * fails some other way (a liveness timeout, say) has not shown that the check bites, so the hunt,
 * the shrinker and the proof in test/planted-*.test.ts all demand this one. A Record, so that a
 * new bug does not compile without its expectation.
 */
export const plantedBugFailures: Readonly<Record<PlantedBug, ExpectedFailure>> = {
  // A leader commits an entry of an older term by counting replicas: a node without it can still
  // win the next election.
  'commit-old-term-entries': { kind: 'invariant', code: 'LEADER_COMPLETENESS' },
  // A voter that forgets its vote on restart votes twice in one term: two leaders.
  'forget-vote-on-restart': { kind: 'invariant', code: 'ELECTION_SAFETY' },
  // A follower appends without checking the previous entry: logs diverge under one (index, term).
  'append-without-prev-check': { kind: 'invariant', code: 'LOG_MATCHING' },
  // A deposed leader answers reads alone: a stale read, which only the history shows.
  'read-index-without-quorum': { kind: 'history', valid: false },
  // A voter grants its vote to a candidate with a shorter log: a leader without committed entries.
  'vote-without-log-check': { kind: 'invariant', code: 'LEADER_COMPLETENESS' },
  // The kernel acks an append before its write is durable: a crash loses an entry a leader
  // counted as replicated, and a node without it can win the next election.
  'ack-before-persist': { kind: 'invariant', code: 'LEADER_COMPLETENESS' },
  // The kernel applies entries before they commit: one that another leader replaces was applied
  // here, a different one elsewhere.
  'apply-uncommitted': { kind: 'invariant', code: 'STATE_MACHINE_SAFETY' },
  // The kernel answers a proposal from whatever entry took its index: a write reported done that
  // never happened, which only the history shows.
  'answer-replaced-entry': { kind: 'history', valid: false },
};

/** The core's test-only switches for the bugs planted in the core (forget-vote-on-restart is SimNode's). */
export function unsafeSwitches(bugs: readonly PlantedBug[]): UnsafeSwitches {
  return {
    commitOldTermEntries: bugs.includes('commit-old-term-entries'),
    appendWithoutPrevCheck: bugs.includes('append-without-prev-check'),
    readIndexWithoutQuorum: bugs.includes('read-index-without-quorum'),
    voteWithoutLogCheck: bugs.includes('vote-without-log-check'),
  };
}

/** The kernel's test-only switches for the bugs planted in the node kernel, as SimNode passes them to it. */
export function kernelUnsafeSwitches(bugs: readonly PlantedBug[]): KernelUnsafeSwitches {
  return {
    ackBeforePersist: bugs.includes('ack-before-persist'),
    applyUncommitted: bugs.includes('apply-uncommitted'),
    answerReplacedEntry: bugs.includes('answer-replaced-entry'),
  };
}
