import t from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@kvapp/core';
import { WalDurableLog } from '../../src/node/wal-log.js';
import { SnapshotFileError } from '../../src/snapshot/snapshot-file.js';

const conf = { voters: [1, 2, 3], learners: [], votersOutgoing: [] };
const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(text),
});
const range = (from: number, to: number, term: number) => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvapp-wal-log-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('what was persisted is what a reopen finds', async (t) => {
  const dir = await tempDir(t);
  const first = await WalDurableLog.open(dir, conf);
  t.equal(first.snapshot.meta.index, 0);
  await first.log.persist({ hardState: { term: 2, vote: 1, commit: 3 }, entries: range(1, 5, 2), snapshot: null, mustSync: true });
  t.equal(first.log.storage.lastIndex(), 5);
  await first.log.close();

  const again = await WalDurableLog.open(dir, conf);
  t.equal(again.log.storage.lastIndex(), 5);
  t.same(again.log.storage.initialState().hardState, { term: 2, vote: 1, commit: 3 });
  t.same(again.log.storage.initialState().confState, conf);
  await again.log.close();
});

t.test('compaction keeps a snapshot and the suffix, across a reopen', async (t) => {
  const dir = await tempDir(t);
  const { log } = await WalDurableLog.open(dir, conf);
  await log.persist({ hardState: { term: 1, vote: 1, commit: 10 }, entries: range(1, 10, 1), snapshot: null, mustSync: true });
  await log.compact(6, conf, new TextEncoder().encode('state@6'));
  t.equal(log.storage.firstIndex(), 7);
  await log.close();

  const again = await WalDurableLog.open(dir, conf);
  t.equal(again.snapshot.meta.index, 6);
  t.equal(new TextDecoder().decode(again.snapshot.data), 'state@6');
  t.equal(again.log.storage.firstIndex(), 7);
  t.equal(again.log.storage.lastIndex(), 10);
  t.equal(again.log.storage.term(6), 1);
  t.same((await readdir(join(dir, 'snap'))).length, 1);
  await again.log.close();
});

t.test('a snapshot installed from the leader replaces a divergent log for good', async (t) => {
  const dir = await tempDir(t);
  const { log } = await WalDurableLog.open(dir, conf);
  await log.persist({ hardState: { term: 3, vote: 0, commit: 2 }, entries: range(1, 8, 3), snapshot: null, mustSync: true });
  const snapshot = { meta: { index: 6, term: 5, conf }, data: new TextEncoder().encode('leader@6') };
  await log.persist({ hardState: { term: 5, vote: 0, commit: 6 }, entries: [], snapshot, mustSync: true });
  t.equal(log.storage.lastIndex(), 6, 'stale entries 7..8 of term 3 are gone');
  await log.close();

  const again = await WalDurableLog.open(dir, conf);
  t.equal(again.snapshot.meta.index, 6);
  t.equal(again.log.storage.lastIndex(), 6, 'and they do not come back on restart');
  t.equal(again.log.storage.term(6), 5);
  await again.log.close();
});

t.test('a corrupt snapshot file refuses to start, naming the file', async (t) => {
  const dir = await tempDir(t);
  const { log } = await WalDurableLog.open(dir, conf);
  await log.persist({ hardState: { term: 1, vote: 1, commit: 4 }, entries: range(1, 4, 1), snapshot: null, mustSync: true });
  await log.compact(3, conf, new TextEncoder().encode('state@3'));
  await log.close();
  const [name] = await readdir(join(dir, 'snap'));
  const path = join(dir, 'snap', name!);
  const bytes = await readFile(path);
  bytes[bytes.length - 1] ^= 0x01;
  await writeFile(path, bytes);
  const error = await WalDurableLog.open(dir, conf).catch((e: unknown) => e);
  t.ok(error instanceof SnapshotFileError, 'refused');
  t.match((error as Error).message, path);
  t.match((error as Error).message, /checksum mismatch/);
});
