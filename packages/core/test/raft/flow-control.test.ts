import t from 'tap';
import { entryBytes, type Message } from '../../src/index.js';
import { errorCode } from '../support/raft-error-code.js';
import { TestCluster, bytes } from '../support/cluster.js';

const appendsTo = (c: TestCluster, to: number): Message[] => c.inFlight.filter((m) => m.type === 'append' && m.to === to);

t.test('inflightAppendsMax bounds the appends in flight to one follower', async (t) => {
  // 28-byte entries and 30-byte messages: one entry per append.
  const c = new TestCluster({ size: 3, seed: 1, config: { inflightAppendsMax: 2, messageBytesMax: 30 } });
  c.elect(1);
  for (let i = 0; i < 5; i++) {
    c.node(1).propose(bytes(`e${i}xx`));
    c.processReady(1);
  }
  t.equal(appendsTo(c, 2).length, 2, 'two appends to node 2 wait for acknowledgements; the other three are held back');
  // One acknowledgement frees one slot.
  c.deliverAt(c.inFlight.findIndex((m) => m.to === 2));
  c.deliverAt(c.inFlight.findIndex((m) => m.from === 2 && m.type === 'append-resp'));
  t.equal(appendsTo(c, 2).length, 2, 'an ack lets exactly one more append go out');
  c.stabilize();
  t.equal(c.node(2).status().lastIndex, c.node(1).status().lastIndex, 'node 2 gets everything in the end');
});

t.test('messageBytesMax bounds the entry bytes of each append (one oversized entry still goes alone)', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, config: { messageBytesMax: 300 } });
  c.elect(1);
  const appends: Message[] = [];
  c.observer = { message: (m) => (m.type === 'append' ? appends.push(m) : undefined) };
  const payload = 'x'.repeat(100);
  c.node(1).propose(Array.from({ length: 10 }, () => bytes(payload)));
  c.node(1).propose(bytes('y'.repeat(1000)));
  c.stabilize();
  const withEntries = appends.filter((m) => m.entries.length > 0);
  t.ok(withEntries.length >= 2 * 5, `the 11 entries needed several appends per follower (${withEntries.length} in all)`);
  for (const m of withEntries) {
    const size = m.entries.reduce((sum, e) => sum + entryBytes(e), 0);
    t.ok(size <= 300 || m.entries.length === 1, `append of ${m.entries.length} entries is ${size} bytes`);
  }
  t.equal(c.node(3).status().commit, 12, 'and everything (no-op + 11 entries) committed everywhere');
});

t.test('a proposal past uncommittedBytesMax throws UNCOMMITTED_BYTES_EXCEEDED until entries commit', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, config: { uncommittedBytesMax: 100 } });
  c.elect(1);
  c.partition([1], [2, 3]);
  t.equal(
    errorCode(() => c.node(1).propose(bytes('a'.repeat(60)))),
    undefined,
    'the first 60 bytes are accepted',
  );
  c.processReady(1);
  t.equal(
    errorCode(() => c.node(1).propose(bytes('b'.repeat(60)))),
    'UNCOMMITTED_BYTES_EXCEEDED',
    '120 would pass the limit',
  );
  t.equal(
    errorCode(() => c.node(1).propose(bytes('c'.repeat(40)))),
    undefined,
    'exactly 100 is within the limit',
  );
  c.processReady(1);
  c.heal();
  c.tick(1, 2); // heartbeats make the followers ask for the entries
  c.stabilize();
  t.equal(c.node(1).status().commit, 3, 'the held entries commit');
  t.equal(
    errorCode(() => c.node(1).propose(bytes('d'.repeat(60)))),
    undefined,
    'and the budget is free again',
  );
});

t.test('proposals between two Readys go out in one append per follower (batching)', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1 });
  c.elect(1);
  for (let i = 0; i < 5; i++) c.node(1).propose(bytes(`cmd${i}`));
  c.processReady(1);
  for (const to of [2, 3]) {
    const appends = appendsTo(c, to);
    t.equal(appends.length, 1, `one append to node ${to}`);
    t.equal(appends[0]?.entries.length, 5, 'carrying all five proposals');
  }
});

t.test('a follower whose in-flight appends were all lost catches up once heartbeats resume (regression: 6ee24c1)', async (t) => {
  const c = new TestCluster({ size: 3, seed: 1, config: { inflightAppendsMax: 2, messageBytesMax: 30 } });
  c.elect(1);
  for (let i = 0; i < 4; i++) {
    c.node(1).propose(bytes(`e${i}xx`));
    c.processReady(1);
  }
  // The network loses both appends to node 3: the window to node 3 is full of lost messages.
  for (const m of appendsTo(c, 3)) c.dropAt(c.inFlight.indexOf(m));
  c.stabilize();
  for (let round = 0; round < 10; round++) {
    c.tickAll();
    c.stabilize();
  }
  t.equal(c.node(3).status().lastIndex, c.node(1).status().lastIndex, 'node 3 has every entry');
  t.equal(c.node(3).status().commit, c.node(1).status().commit, 'and knows they committed');
});
