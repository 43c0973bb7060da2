import type { NodeId } from './types.js';

/** Pure majority arithmetic. An empty voter set agrees to everything (the outgoing half of a non-joint config). */
export type VoteResult = 'won' | 'lost' | 'pending';

/** The highest index that a majority of `voters` has matched. */
export function majorityCommitted(voters: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const matches: number[] = [];
  for (const id of voters) matches.push(matchOf(id));
  matches.sort((a, b) => b - a);
  return matches[Math.floor(voters.size / 2)]!;
}

export function majorityVote(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === undefined) missing++;
    else if (vote) yes++;
  }
  const needed = Math.floor(voters.size / 2) + 1;
  if (yes >= needed) return 'won';
  if (yes + missing >= needed) return 'pending';
  return 'lost';
}

/** Joint consensus: both halves must agree. */
export function jointCommitted(incoming: ReadonlySet<NodeId>, outgoing: ReadonlySet<NodeId>, matchOf: (id: NodeId) => number): number {
  return Math.min(majorityCommitted(incoming, matchOf), majorityCommitted(outgoing, matchOf));
}

export function jointVote(incoming: ReadonlySet<NodeId>, outgoing: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVote(incoming, votes);
  const b = majorityVote(outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}
