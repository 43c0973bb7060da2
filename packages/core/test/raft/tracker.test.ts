import t from 'tap';
import fc from 'fast-check';
import type { ConfState } from '../../src/index.js';
import { jointCommitted } from '../../src/raft/quorum.js';
import { ProgressTracker } from '../../src/raft/tracker.js';
import { checkProperty } from '../support/property.js';

const limits = { inflightAppendsMax: 4, inflightBytesMax: 0 };

function conf(voters: number[], learners: number[] = [], votersOutgoing: number[] = []): ConfState {
  return { voters, learners, votersOutgoing };
}

function tracker(c: ConfState, next = 1): ProgressTracker {
  const tr = new ProgressTracker(limits);
  tr.applyConf(c, next);
  return tr;
}

/** Sets each node's match (next kept above it). */
function setMatches(tr: ProgressTracker, matches: Record<number, number>): void {
  for (const [id, match] of Object.entries(matches)) {
    const p = tr.progress.get(Number(id))!;
    p.maybeUpdate(match);
  }
}

const sortedKeys = (tr: ProgressTracker): number[] => [...tr.progress.keys()].sort((a, b) => a - b);

t.test('applyConf: progress for every member, kept for those who stay, dropped for those who leave', async (t) => {
  const tr = tracker(conf([1, 2, 3], [4]), 7);
  t.strictSame(sortedKeys(tr), [1, 2, 3, 4], 'voters and learners are tracked');
  t.equal(tr.progress.get(2)!.next, 7, 'new progress starts at the given next');
  t.equal(tr.progress.get(4)!.isLearner, true);
  t.equal(tr.progress.get(1)!.isLearner, false);
  setMatches(tr, { 2: 5, 4: 6 });

  tr.applyConf(conf([1, 2, 4], [5]), 20);
  t.strictSame(sortedKeys(tr), [1, 2, 4, 5], 'node 3 left, node 5 joined');
  t.equal(tr.progress.get(2)!.match, 5, 'a staying voter keeps its progress');
  t.equal(tr.progress.get(4)!.match, 6, 'a promoted learner keeps its progress');
  t.equal(tr.progress.get(4)!.isLearner, false, 'and is a learner no more');
  t.equal(tr.progress.get(5)!.next, 20, 'the newcomer starts at the new next');
  t.equal(tr.progress.get(5)!.isLearner, true);

  tr.applyConf(conf([1, 4], [], [1, 2, 4]), 30);
  t.strictSame(sortedKeys(tr), [1, 2, 4], 'an outgoing voter is still tracked in a joint configuration');
  t.equal(tr.progress.get(2)!.match, 5);
});

t.test('membership queries', async (t) => {
  const tr = tracker(conf([1, 2], [3], [1, 4]));
  t.strictSame(
    [...tr.members()].sort((a, b) => a - b),
    [1, 2, 3, 4],
  );
  t.ok(tr.isVoter(2), 'incoming voter');
  t.ok(tr.isVoter(4), 'outgoing voter');
  t.notOk(tr.isVoter(3), 'a learner is not a voter');
  t.notOk(tr.isVoter(9), 'a stranger is not a voter');
  t.ok(tr.isJoint());
  t.notOk(tr.isSingleton());
  t.strictSame(tr.confState(), conf([1, 2], [3], [1, 4]));

  const single = tracker(conf([3], [1, 2]));
  t.ok(single.isSingleton(), 'one voter: learners do not count');
  t.notOk(single.isJoint());
  t.notOk(tracker(conf([1], [], [1, 2])).isSingleton(), 'a joint configuration is never a singleton');
  t.strictSame(tracker(conf([3, 1, 2], [5, 4])).confState(), conf([1, 2, 3], [4, 5]), 'confState is sorted');
});

t.test('committed: the quorum of voters decides, learners never count', async (t) => {
  const single = tracker(conf([1], [2]));
  setMatches(single, { 1: 4, 2: 9 });
  t.equal(single.committed(), 4, 'a single voter commits alone, whatever the learner has');

  const three = tracker(conf([1, 2, 3], [4, 5]));
  setMatches(three, { 1: 8, 2: 2, 4: 8, 5: 8 });
  t.equal(three.committed(), 2, 'three learners at 8 do not make a quorum');
  setMatches(three, { 3: 6 });
  t.equal(three.committed(), 6);

  const joint = tracker(conf([1, 2, 3], [], [3, 4, 5]));
  setMatches(joint, { 1: 9, 2: 9, 3: 9, 4: 1, 5: 1 });
  t.equal(joint.committed(), 1, 'the incoming half has 9, the outgoing only 1');
  setMatches(joint, { 4: 7 });
  t.equal(joint.committed(), 7, 'voter 3 is in both halves: with 4 it carries the outgoing one');

  t.equal(tracker(conf([])).committed(), Number.MAX_SAFE_INTEGER, 'no voters at all: the quorum arithmetic agrees to any index');
});

t.test('votes: the first answer of each node counts, learners and strangers do not', async (t) => {
  const tr = tracker(conf([1, 2, 3], [4]));
  tr.recordVote(1, true);
  t.equal(tr.voteResult(), 'pending');
  tr.recordVote(4, true);
  tr.recordVote(9, true);
  t.equal(tr.voteResult(), 'pending', 'a learner’s and a stranger’s grants do not count');
  tr.recordVote(2, false);
  tr.recordVote(2, true);
  t.equal(tr.votes.get(2), false, 'a second answer from the same node is ignored');
  t.equal(tr.voteResult(), 'pending');
  tr.recordVote(3, true);
  t.equal(tr.voteResult(), 'won');
  tr.resetVotes();
  t.equal(tr.votes.size, 0);
  t.equal(tr.voteResult(), 'pending', 'a new election starts from nothing');
});

t.test('votes in a joint configuration: both halves must be won', async (t) => {
  const tr = tracker(conf([1, 2, 3], [], [3, 4, 5]));
  for (const id of [1, 2, 3]) tr.recordVote(id, true);
  t.equal(tr.voteResult(), 'pending', 'the incoming half is won, the outgoing one has only voter 3');
  tr.recordVote(4, false);
  tr.recordVote(5, false);
  t.equal(tr.voteResult(), 'lost', 'the outgoing half refused');

  const other = tracker(conf([1, 2, 3], [], [3, 4, 5]));
  for (const id of [3, 4]) other.recordVote(id, true);
  other.recordVote(1, false);
  t.equal(other.voteResult(), 'pending');
  other.recordVote(2, true);
  t.equal(other.voteResult(), 'won', 'voter 3 counts in both halves');
});

t.test('isQuorum', async (t) => {
  const tr = tracker(conf([1, 2, 3], [4], [1, 5, 6]));
  t.ok(tr.isQuorum(new Set([1, 2, 5])));
  t.notOk(tr.isQuorum(new Set([1, 2, 3])), 'the outgoing half has only voter 1');
  t.notOk(tr.isQuorum(new Set([1, 4, 5])), 'a learner does not make up the incoming half');
  t.notOk(tr.isQuorum(new Set()));
  t.ok(tracker(conf([7])).isQuorum(new Set([7])), 'a single voter is its own quorum');
});

t.test('quorumActiveAndReset: the leader counts itself; marks are reset for everyone else', async (t) => {
  const tr = tracker(conf([1, 2, 3, 4, 5], [6]));
  tr.progress.get(2)!.recentActive = true;
  tr.progress.get(6)!.recentActive = true;
  t.notOk(tr.quorumActiveAndReset(1), 'the leader and one voter (a learner does not count) are not 3 of 5');
  t.notOk(tr.progress.get(2)!.recentActive, 'the mark is reset');
  t.notOk(tr.progress.get(6)!.recentActive, 'the learner’s mark too');
  for (const id of [2, 3]) tr.progress.get(id)!.recentActive = true;
  t.ok(tr.quorumActiveAndReset(1), 'the leader and two voters are 3 of 5');
  t.notOk(tr.quorumActiveAndReset(1), 'nobody heard from since');

  tr.progress.get(1)!.recentActive = true;
  tr.quorumActiveAndReset(1);
  t.ok(tr.progress.get(1)!.recentActive, 'the leader’s own mark is left alone');

  t.ok(tracker(conf([1])).quorumActiveAndReset(1), 'a single voter is always in contact with a quorum');

  const joint = tracker(conf([1, 2, 3], [], [1, 4, 5]));
  for (const id of [2, 3]) joint.progress.get(id)!.recentActive = true;
  t.notOk(joint.quorumActiveAndReset(1), 'the outgoing half was not heard from');
  for (const id of [2, 4]) joint.progress.get(id)!.recentActive = true;
  t.ok(joint.quorumActiveAndReset(1), 'the leader is in both halves; 2 and 4 complete them');
});

t.test('property: committed() is the joint quorum over the voters’ matches, whatever the learners have', async (t) => {
  const idsArb = fc.subarray([1, 2, 3, 4, 5, 6]);
  checkProperty(
    t,
    'tracker committed = quorum over voters',
    fc.property(idsArb, idsArb, fc.array(fc.nat(9), { minLength: 7, maxLength: 7 }), (incoming, outgoing, matches) => {
      const voters = new Set([...incoming, ...outgoing]);
      const learners = [1, 2, 3, 4, 5, 6].filter((id) => !voters.has(id));
      const tr = tracker(conf(incoming, learners, outgoing));
      for (const [id, p] of tr.progress) p.maybeUpdate(matches[id]!);
      // Learners get a match far above everyone: if they counted, the result would show it.
      for (const id of learners) tr.progress.get(id)!.maybeUpdate(100);
      const expected = jointCommitted(new Set(incoming), new Set(outgoing), (id) => matches[id]!);
      return tr.committed() === expected;
    }),
  );
});
