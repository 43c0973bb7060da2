import t, { type Test } from 'tap';
import { createHook } from 'node:async_hooks';
import type { Entry, HardState } from '@kvapp/core';
import { Wal, type WalOptions } from '../../src/wal/wal.js';
import { tmpDir } from './tmp-dir.js';

// Counts the fs requests (each one libuv thread-pool job: a write, an fdatasync, ...) that WAL
// batches issue, through async_hooks: every fs/promises call creates one FSREQPROMISE resource,
// every callback-style call one FSREQCALLBACK. A count, not a time.

const e = (index: number): Entry => ({ term: 1, index, type: 'normal', data: new Uint8Array(50).fill(index & 0xff) });
const hs = (commit: number): HardState => ({ term: 1, vote: 1, commit });

async function fsRequestsDuring(body: () => Promise<void>): Promise<number> {
  let n = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'FSREQPROMISE' || type === 'FSREQCALLBACK') n++;
    },
  });
  hook.enable();
  try {
    await body();
  } finally {
    hook.disable();
  }
  return n;
}

async function openWal(t: Test, options: WalOptions = {}): Promise<Wal> {
  const { wal } = await Wal.open(tmpDir(t), options);
  t.teardown(() => wal.close());
  return wal;
}

const BATCHES = 20;

/** BATCHES synced saves, each awaited before the next: BATCHES batches. */
async function serialSyncedSaves(wal: Wal, from = 1): Promise<void> {
  for (let i = from; i < from + BATCHES; i++) await wal.save(hs(i - 1), [e(i)]);
}

t.test('with no failpoint installed, a synced batch is ONE fs request (an O_DSYNC writev)', async (t) => {
  const wal = await openWal(t);
  const before = wal.stats();
  const requests = await fsRequestsDuring(() => serialSyncedSaves(wal));
  t.equal(wal.stats().batches - before.batches, BATCHES);
  t.equal(requests, BATCHES, 'one thread-pool job per synced batch');
  t.equal(wal.stats().fsyncs - before.fsyncs, BATCHES, 'each O_DSYNC write counts as a sync');
});

t.test('syncMethod fdatasync: a synced batch is two fs requests (write, fdatasync)', async (t) => {
  const wal = await openWal(t, { syncMethod: 'fdatasync' });
  const requests = await fsRequestsDuring(() => serialSyncedSaves(wal));
  t.equal(requests, 2 * BATCHES);
});

t.test('an unsynced batch is one write; the synced batch after it is still one request', async (t) => {
  const wal = await openWal(t);
  await wal.save(hs(0), [e(1)]);
  const unsynced = await fsRequestsDuring(() => wal.save(hs(1), [], { sync: false }));
  t.equal(unsynced, 1);
  const synced = await fsRequestsDuring(() => wal.save(null, [e(2)]));
  t.equal(synced, 1, 'the unsynced bytes are rewritten in the same writev');
});

t.test('installed failpoint hooks cost three fs requests per synced batch (two writes, fdatasync)', async (t) => {
  const noop = () => {};
  const wal = await openWal(t, { failpoints: { 'wal-mid-record': noop, 'wal-before-fsync': noop } });
  const requests = await fsRequestsDuring(() => serialSyncedSaves(wal));
  t.equal(requests, 3 * BATCHES);
});
