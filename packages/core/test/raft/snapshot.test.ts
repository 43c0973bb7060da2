import t from 'tap';
import { MemoryStorage, RaftNode, seededRng, type Entry, type Message } from '../../src/index.js';
import { TestCluster, bytes, text } from '../support/cluster.js';

const commands = (c: TestCluster, id: number): string[] =>
  c.applied
    .get(id)!
    .filter((e) => e.data.length > 0)
    .map((e) => text(e.data));

t.test('a follower behind a compacted log catches up by InstallSnapshot, then by appends', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.elect(1);
  c.crash(3);
  for (let i = 0; i < 10; i++) c.node(1).propose(bytes(`c${i}`));
  c.stabilize();
  c.compact(1, c.node(1).status().applied);
  t.equal(c.storages.get(1)!.firstIndex(), 12, 'the leader dropped its log up to 11');
  c.restart(3);
  const types: string[] = [];
  c.observer = { message: (m) => (m.to === 3 ? types.push(m.type) : undefined) };
  for (let i = 0; i < 3; i++) {
    c.tick(1);
    c.stabilize();
  }
  t.ok(types.includes('snapshot'), 'node 3 was sent the snapshot');
  c.node(1).propose(bytes('after'));
  c.stabilize();
  const status3 = c.node(3).status();
  t.equal(status3.commit, 12);
  t.equal(status3.applied, 12);
  t.equal(c.storages.get(3)!.snapshot().meta.index, 11, 'node 3 installed it');
  t.same(commands(c, 3), commands(c, 1), 'and its state machine matches the leader');
});

/**
 * A follower whose log matches the snapshot's last entry keeps its log and only commits. Its
 * answer must not claim more than it knows matches: entries after the snapshot index may be
 * from a deposed leader. (etcd answers with its commit index here for the same reason.)
 */
t.test('a snapshot a follower already covers is acknowledged only up to the snapshot index', async (t) => {
  const voters = [1, 2, 3];
  const storage = new MemoryStorage({ voters, learners: [], votersOutgoing: [] });
  const entry = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: bytes(`${index}@${term}`) });
  // Entries 1..3 of term 1 (3 committed), then 4@1 from a leader that was deposed before it committed.
  storage.append([entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1)]);
  storage.setHardState({ term: 1, vote: 1, commit: 2 });
  const node = new RaftNode({ id: 3, storage, rng: seededRng(1), electionTicks: 10, heartbeatTicks: 1 });
  // Leader 2 of term 2 has 1..3@1, then entries of its own term, and compacted up to 3.
  const snapshot: Message = {
    type: 'snapshot',
    from: 2,
    to: 3,
    term: 2,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    hintTerm: 0,
    context: null,
    snapshot: { meta: { index: 3, term: 1, conf: { voters, learners: [], votersOutgoing: [] } }, data: new Uint8Array(0) },
  };
  node.step(snapshot);
  const rd = node.ready();
  const answers = [...rd.messages, ...rd.messagesAfterPersist].filter((m) => m.type === 'append-resp');
  t.equal(answers.length, 1);
  t.equal(answers[0]!.index, 3, "acknowledges 3, not its last index 4 (4@1 is not the leader's entry 4)");
  t.notOk(answers[0]!.reject);
  node.advance();
});

t.test("a node restarts from a snapshot whose hard state was lost: its commit index is the snapshot's", async (t) => {
  // A crash kept the snapshot received at index 6 but not the hard state written after it (commit 3).
  const voters = [1, 2, 3];
  const storage = new MemoryStorage({ voters, learners: [], votersOutgoing: [] });
  storage.applySnapshot({ meta: { index: 6, term: 2, conf: { voters, learners: [], votersOutgoing: [] } }, data: new Uint8Array(0) });
  storage.setHardState({ term: 2, vote: 1, commit: 3 });
  const node = new RaftNode({ id: 3, storage, rng: seededRng(1), electionTicks: 10, heartbeatTicks: 1, applied: 6 });
  t.equal(node.status().commit, 6, 'a snapshot holds only committed entries');
  t.equal(node.status().term, 2);
  // A commit beyond the log is still refused: that disk lost entries it had acknowledged.
  storage.setHardState({ term: 2, vote: 1, commit: 7 });
  t.throws(() => new RaftNode({ id: 3, storage, rng: seededRng(1), electionTicks: 10, heartbeatTicks: 1 }), /beyond the last index 6/);
});

t.test('a lost snapshot that nobody reports is sent again after two election timeouts', async (t) => {
  const c = new TestCluster({ size: 3, seed: 4 });
  c.elect(1);
  c.crash(3);
  for (let i = 0; i < 10; i++) c.node(1).propose(bytes(`c${i}`));
  c.stabilize();
  c.compact(1, c.node(1).status().applied);
  c.restart(3);
  // Run until the leader sends the snapshot, then lose it silently: no reportSnapshot, as a
  // transport that drops a frame without noticing would do.
  let lost = 0;
  for (let step = 0; step < 500 && lost === 0; step++) {
    c.processAllReady();
    const at = c.inFlight.findIndex((m) => m.type === 'snapshot');
    if (at >= 0) {
      c.inFlight.splice(at, 1);
      lost++;
    } else if (c.inFlight.length > 0) {
      c.deliverAt(0);
    } else {
      c.tick(1);
    }
  }
  t.equal(lost, 1, 'the first snapshot was lost');
  for (let i = 0; i < 30 && c.node(3).status().commit < 11; i++) {
    c.tick(1);
    c.stabilize();
  }
  t.equal(c.storages.get(3)!.snapshot().meta.index, 11, 'node 3 got the snapshot on a later try');
  t.same(commands(c, 3), commands(c, 1));
});
