import t from 'tap';
import { MemoryStorage, RaftNode, seededRng, type RaftConfig } from '../../src/index.js';

const base = (): RaftConfig => ({
  id: 1,
  storage: new MemoryStorage({ voters: [1, 2, 3], learners: [], votersOutgoing: [] }),
  rng: seededRng(1),
  electionTicks: 10,
  heartbeatTicks: 1,
});

const bad: readonly [string, Partial<RaftConfig>][] = [
  ['id', { id: 0 }],
  ['electionTicks', { electionTicks: 0 }],
  ['heartbeatTicks', { heartbeatTicks: 1.5 }],
  ['inflightAppendsMax', { inflightAppendsMax: 0 }],
  ['inflightBytesMax', { inflightBytesMax: -1 }],
  ['messageBytesMax', { messageBytesMax: 0 }],
  ['uncommittedBytesMax', { uncommittedBytesMax: Number.NaN }],
  ['committedBytesPerReadyMax', { committedBytesPerReadyMax: 0 }],
  ['pendingReadsMax', { pendingReadsMax: -5 }],
  ['applied', { applied: -1 }],
  ['heartbeatTicks', { heartbeatTicks: 10, electionTicks: 10 }],
];

for (const [field, override] of bad) {
  t.test(`a bad ${field} (${JSON.stringify(override)}) is a RangeError naming it`, async (t) => {
    t.throws(() => new RaftNode({ ...base(), ...override }), { name: 'RangeError', message: new RegExp(`\\b${field}\\b`) });
  });
}

t.test('a valid config builds a follower', async (t) => {
  const node = new RaftNode(base());
  t.equal(node.status().role, 'follower');
});
