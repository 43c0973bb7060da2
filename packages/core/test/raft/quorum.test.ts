import t from 'tap';
import fc from 'fast-check';
import { jointCommitted, jointVote, majorityCommitted, majorityVote, type VoteResult } from '../../src/raft/quorum.js';
import { checkProperty } from '../support/property.js';

const ids = (...list: number[]): ReadonlySet<number> => new Set(list);
const matchesOf =
  (matches: Record<number, number>) =>
  (id: number): number =>
    matches[id] ?? 0;
/** Votes as a compact map: `y` granted, `n` refused; a voter not named has not answered. */
const votesOf = (votes: Record<number, 'y' | 'n'>): ReadonlyMap<number, boolean> =>
  new Map(Object.entries(votes).map(([id, v]) => [Number(id), v === 'y']));

t.test('majorityCommitted', async (t) => {
  t.equal(majorityCommitted(ids(), matchesOf({})), Number.MAX_SAFE_INTEGER, 'an empty voter set agrees to every index');
  t.equal(majorityCommitted(ids(1), matchesOf({ 1: 7 })), 7, 'a single voter commits what it has');
  t.equal(majorityCommitted(ids(1, 2), matchesOf({ 1: 7, 2: 3 })), 3, 'two voters: both are needed');
  t.equal(majorityCommitted(ids(1, 2, 3), matchesOf({ 1: 1, 2: 2, 3: 3 })), 2, 'three voters: the middle one');
  t.equal(majorityCommitted(ids(1, 2, 3), matchesOf({ 1: 9, 2: 9, 3: 0 })), 9, 'ties at the top count together');
  t.equal(majorityCommitted(ids(1, 2, 3, 4), matchesOf({ 1: 1, 2: 2, 3: 3, 4: 4 })), 2, 'four voters need three');
  t.equal(majorityCommitted(ids(1, 2, 3, 4, 5), matchesOf({ 1: 5, 2: 5, 3: 1, 4: 1, 5: 3 })), 3, 'five voters need three');
  t.equal(majorityCommitted(ids(1, 2, 3), matchesOf({ 1: 4 })), 0, 'voters with nothing matched hold the index at 0');

  const asked: number[] = [];
  majorityCommitted(ids(2, 3), (id) => {
    asked.push(id);
    return 1;
  });
  t.strictSame(
    asked.sort((a, b) => a - b),
    [2, 3],
    'only voters are asked for their match',
  );
});

t.test('majorityVote', async (t) => {
  const cases: [number[], Record<number, 'y' | 'n'>, VoteResult, string][] = [
    [[], {}, 'won', 'an empty voter set wins without votes'],
    [[1], { 1: 'y' }, 'won', 'single voter, granted'],
    [[1], { 1: 'n' }, 'lost', 'single voter, refused'],
    [[1], {}, 'pending', 'single voter, no answer yet'],
    [[1, 2, 3], { 1: 'y', 2: 'y' }, 'won', 'two of three granted'],
    [[1, 2, 3], { 1: 'n', 2: 'n' }, 'lost', 'two of three refused'],
    [[1, 2, 3], { 1: 'y', 2: 'n' }, 'pending', 'one each, the third decides'],
    [[1, 2, 3], { 1: 'y', 2: 'n', 3: 'n' }, 'lost', 'one of three granted'],
    [[1, 2, 3, 4], { 1: 'y', 2: 'y', 3: 'n', 4: 'n' }, 'lost', 'a tie of four is lost: half is not a majority'],
    [[1, 2, 3, 4], { 1: 'y', 2: 'y' }, 'pending', 'two of four granted, two unanswered'],
    [[1, 2, 3, 4], { 1: 'y', 2: 'y', 3: 'y', 4: 'n' }, 'won', 'three of four granted'],
    [[1, 2, 3], { 4: 'y', 5: 'y', 1: 'n' }, 'pending', 'votes of non-voters do not count'],
  ];
  for (const [voters, votes, expected, what] of cases) t.equal(majorityVote(new Set(voters), votesOf(votes)), expected, what);
});

t.test('jointCommitted: both halves must have the index', async (t) => {
  const m = matchesOf({ 1: 10, 2: 10, 3: 10, 4: 2, 5: 2, 6: 2 });
  t.equal(jointCommitted(ids(1, 2, 3), ids(), m), 10, 'not joint: the incoming half alone');
  t.equal(jointCommitted(ids(), ids(1, 2, 3), m), 10, 'an empty incoming half agrees to everything as well');
  t.equal(jointCommitted(ids(), ids(), m), Number.MAX_SAFE_INTEGER, 'both halves empty');
  t.equal(jointCommitted(ids(1, 2, 3), ids(4, 5, 6), m), 2, 'halves that disagree: the lower one');
  t.equal(jointCommitted(ids(4, 5, 6), ids(1, 2, 3), m), 2, 'the same whichever half is behind');
  t.equal(jointCommitted(ids(1, 2, 4), ids(1, 5, 6), m), 2, 'a voter in both halves cannot carry the half it is a minority of');
  t.equal(jointCommitted(ids(1, 2, 4), ids(1, 2, 5), m), 10, 'voters shared by both halves form a majority of each');
});

t.test('jointVote: won only when both halves win, lost when either loses', async (t) => {
  // Half {1,2,3} wins, {4,5,6} loses, {7,8,9} is pending under these votes.
  const votes = votesOf({ 1: 'y', 2: 'y', 3: 'y', 4: 'n', 5: 'n', 6: 'n', 7: 'y', 8: 'n' });
  const halves: Record<VoteResult, ReadonlySet<number>> = { won: ids(1, 2, 3), lost: ids(4, 5, 6), pending: ids(7, 8, 9) };
  const expected: Record<VoteResult, Record<VoteResult, VoteResult>> = {
    won: { won: 'won', lost: 'lost', pending: 'pending' },
    lost: { won: 'lost', lost: 'lost', pending: 'lost' },
    pending: { won: 'pending', lost: 'lost', pending: 'pending' },
  };
  for (const a of ['won', 'lost', 'pending'] as const) {
    for (const b of ['won', 'lost', 'pending'] as const) {
      t.equal(jointVote(halves[a], halves[b], votes), expected[a][b], `incoming ${a}, outgoing ${b}`);
    }
  }
  t.equal(jointVote(ids(1, 2, 3), ids(), votes), 'won', 'not joint: the incoming half decides');
  t.equal(jointVote(ids(1, 4, 5), ids(1, 2, 3), votes), 'lost', 'a voter in both halves is outvoted in one of them');
  t.equal(jointVote(ids(1, 2, 4), ids(1, 2, 5), votes), 'won', 'two shared voters carry both halves');
});

// ---- brute force ------------------------------------------------------------------------------

function subsets(items: readonly number[]): number[][] {
  const all: number[][] = [];
  for (let mask = 0; mask < 1 << items.length; mask++) all.push(items.filter((_, bit) => (mask & (1 << bit)) !== 0));
  return all;
}

/** A majority of every non-empty half (an empty half has no say). */
function isQuorum(halves: readonly (readonly number[])[], set: readonly number[]): boolean {
  return halves.every((half) => half.length === 0 || half.filter((id) => set.includes(id)).length * 2 > half.length);
}

/** The highest index held by every member of some quorum, trying every subset of the voters. */
function bruteCommitted(halves: readonly (readonly number[])[], match: (id: number) => number): number {
  const voters = [...new Set(halves.flat())];
  let best = -1;
  for (const set of subsets(voters)) {
    if (!isQuorum(halves, set)) continue;
    best = Math.max(best, set.length === 0 ? Number.MAX_SAFE_INTEGER : Math.min(...set.map(match)));
  }
  return best;
}

/** Tries every way the unanswered voters could still vote: won if all of them win, lost if none does. */
function bruteVote(halves: readonly (readonly number[])[], votes: ReadonlyMap<number, boolean>): VoteResult {
  const voters = [...new Set(halves.flat())];
  const granted = voters.filter((id) => votes.get(id) === true);
  const unanswered = voters.filter((id) => !votes.has(id));
  const outcomes = subsets(unanswered).map((more) => isQuorum(halves, granted.concat(more)));
  if (outcomes.every(Boolean)) return 'won';
  if (!outcomes.some(Boolean)) return 'lost';
  return 'pending';
}

// Ids 1..7; 8 and 9 never vote in any half, so their votes and matches must not count.
const halfArb = fc.subarray([1, 2, 3, 4, 5, 6, 7]);
const matchArb = fc.array(fc.nat(6), { minLength: 10, maxLength: 10 });
const voteArb = fc.array(fc.constantFrom<boolean | undefined>(true, false, undefined), { minLength: 10, maxLength: 10 });
const voteMap = (raw: readonly (boolean | undefined)[]): Map<number, boolean> => {
  const votes = new Map<number, boolean>();
  for (let id = 1; id < raw.length; id++) {
    const vote = raw[id];
    if (vote !== undefined) votes.set(id, vote);
  }
  return votes;
};

t.test('properties: committed index and vote result equal a brute force over every quorum', async (t) => {
  checkProperty(
    t,
    'majorityCommitted = brute force',
    fc.property(halfArb, matchArb, (voters, matches) => {
      const match = (id: number): number => matches[id]!;
      return majorityCommitted(new Set(voters), match) === bruteCommitted([voters], match);
    }),
  );
  checkProperty(
    t,
    'jointCommitted = brute force over sets that are majorities of both halves',
    fc.property(halfArb, halfArb, matchArb, (incoming, outgoing, matches) => {
      const match = (id: number): number => matches[id]!;
      return jointCommitted(new Set(incoming), new Set(outgoing), match) === bruteCommitted([incoming, outgoing], match);
    }),
  );
  checkProperty(
    t,
    'majorityVote = brute force over the unanswered votes',
    fc.property(halfArb, voteArb, (voters, raw) => majorityVote(new Set(voters), voteMap(raw)) === bruteVote([voters], voteMap(raw))),
  );
  checkProperty(
    t,
    'jointVote = brute force over the unanswered votes',
    fc.property(halfArb, halfArb, voteArb, (incoming, outgoing, raw) => {
      const votes = voteMap(raw);
      return jointVote(new Set(incoming), new Set(outgoing), votes) === bruteVote([incoming, outgoing], votes);
    }),
  );
});
