import t from 'tap';
import type { Entry } from '@kvapp/core';
import { VirtualDisk } from '../src/disk.js';
import { SimRng } from '../src/rng.js';

const conf = { voters: [1, 2, 3], learners: [], votersOutgoing: [] };
const entry = (index: number, term = 1): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

t.test('a crash keeps what was synced and loses the rest', async (t) => {
  const disk = new VirtualDisk(conf);
  disk.write({ kind: 'entries', entries: [entry(1), entry(2)] });
  disk.write({ kind: 'hard-state', hardState: { term: 1, vote: 2, commit: 1 } });
  disk.sync();
  disk.write({ kind: 'hard-state', hardState: { term: 1, vote: 2, commit: 2 } });
  t.equal(disk.live.initialState().hardState.commit, 2, 'the node reads its unsynced write');
  // A prefix of 0 unsynced writes survives for this seed's first draw, or 1: check both shapes.
  const outcome = disk.crash(new SimRng(1), false);
  const commit = disk.live.initialState().hardState.commit;
  t.equal(commit, outcome.lost === 1 ? 1 : 2, 'the hard state is the synced one unless the write survived');
  t.equal(disk.live.lastIndex(), 2, 'synced entries survive');
  t.equal(disk.unsyncedWrites, 0);
});

t.test('over many crashes, unsynced writes are sometimes lost, sometimes kept, sometimes torn', async (t) => {
  const seen = { lost: 0, kept: 0, torn: 0 };
  for (let seed = 1; seed <= 200; seed++) {
    const disk = new VirtualDisk(conf);
    disk.write({ kind: 'entries', entries: [entry(1)] });
    disk.sync();
    disk.write({ kind: 'entries', entries: [entry(2), entry(3), entry(4)] });
    const outcome = disk.crash(new SimRng(seed), true);
    const last = disk.live.lastIndex();
    if (outcome.torn) {
      seen.torn++;
      t.ok(last >= 2 && last <= 3, 'a torn write keeps a strict prefix of its entries');
    } else if (last === 1) seen.lost++;
    else if (last === 4) seen.kept++;
    else t.fail(`an untorn write is all or nothing, got last ${last}`);
  }
  t.ok(seen.lost > 0 && seen.kept > 0 && seen.torn > 0, JSON.stringify(seen));
});

t.test('a later write never survives an earlier lost one', async (t) => {
  for (let seed = 1; seed <= 100; seed++) {
    const disk = new VirtualDisk(conf);
    disk.write({ kind: 'entries', entries: [entry(1)] });
    disk.write({ kind: 'hard-state', hardState: { term: 1, vote: 0, commit: 1 } });
    disk.crash(new SimRng(seed), true);
    const { hardState } = disk.live.initialState();
    if (hardState.commit === 1) t.equal(disk.live.lastIndex(), 1, `seed ${seed}: the hard state survived, so did the entry`);
  }
});

t.test('compaction syncs first and trims both views; forgetVote drops the vote', async (t) => {
  const disk = new VirtualDisk(conf);
  disk.write({ kind: 'entries', entries: [entry(1), entry(2), entry(3)] });
  disk.write({ kind: 'hard-state', hardState: { term: 1, vote: 3, commit: 3 } });
  t.ok(disk.compact(2, conf, new Uint8Array([9])), 'compacted');
  t.equal(disk.unsyncedWrites, 0, 'the WAL was synced before the snapshot');
  t.equal(disk.live.firstIndex(), 3);
  disk.crash(new SimRng(1), true);
  t.equal(disk.live.snapshot().meta.index, 2, 'the snapshot is durable');
  t.equal(disk.live.initialState().hardState.commit, 3, 'and never newer than the durable commit');
  disk.forgetVote();
  t.equal(disk.live.initialState().hardState.vote, 0);
  t.equal(disk.durableState().hardState.vote, 0);
  t.notOk(disk.compact(1, conf, new Uint8Array()), 'an older snapshot is refused');
});
