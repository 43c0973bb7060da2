import t from 'tap';
import { TestCluster, bytes } from '../support/cluster.js';

t.test('CheckQuorum: a leader that stops hearing from a majority steps down', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, electionTicks: 10 });
  c.elect(1);
  c.partition([1], [2, 3]);
  c.tick(1, 9);
  t.equal(c.node(1).status().role, 'leader', 'still leader within the first round');
  c.tick(1, 11);
  t.equal(c.node(1).status().role, 'follower', 'stepped down after a round without a quorum');
  t.equal(c.node(1).status().term, 1, 'without changing its term');
});

t.test('CheckQuorum: a leader that hears from a majority stays', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, electionTicks: 10 });
  c.elect(1);
  c.crash(3);
  for (let i = 0; i < 50; i++) {
    c.tick(1);
    c.stabilize();
  }
  t.equal(c.node(1).status().role, 'leader');
});

/** Node 3 is cut off for a long time and ticks away, then rejoins. Returns the terms after. */
function rejoin(preVote: boolean): { isolatedTerm: number; terms: number[]; leader: number | undefined; commits: number[] } {
  const c = new TestCluster({ size: 3, seed: 1, electionTicks: 10, config: { preVote, checkQuorum: preVote } });
  c.elect(1);
  c.partition([3], [1, 2]);
  for (let i = 0; i < 100; i++) {
    c.tickAll();
    c.stabilize();
  }
  c.node(1).propose(bytes('while-away'));
  c.stabilize();
  const isolatedTerm = c.node(3).status().term;
  c.heal();
  for (let i = 0; i < 30; i++) {
    c.tickAll();
    c.stabilize();
  }
  return {
    isolatedTerm,
    terms: c.ids().map((id) => c.node(id).status().term),
    leader: c.leader(),
    commits: c.ids().map((id) => c.node(id).status().commit),
  };
}

t.test('PreVote: a partitioned node that rejoins does not bump the cluster term', async (t) => {
  const run = rejoin(true);
  t.equal(run.isolatedTerm, 1, 'the isolated node kept term 1: its pre-votes never won');
  t.same(run.terms, [1, 1, 1], 'nobody changed term when it rejoined');
  t.equal(run.leader, 1, 'the leader kept its place');
  t.same(run.commits, [2, 2, 2], 'and the rejoined node caught up (empty entry + one command)');
});

t.test('without PreVote the same rejoin inflates the term and deposes the leader (what PreVote prevents)', async (t) => {
  const run = rejoin(false);
  t.ok(run.isolatedTerm > 5, `the isolated node reached term ${run.isolatedTerm}`);
  t.ok(
    run.terms.every((term) => term >= run.isolatedTerm),
    `the cluster moved to its term: ${run.terms.join(',')}`,
  );
});
