import t from 'tap';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Entry } from '@kvapp/core';
import { WalDurableLog } from '../../src/node/wal-log.js';
import { startNode } from '../../src/node/start-node.js';
import { DiskProbe } from '../../src/wal/disk-probe.js';
import { installDiskProbe } from '../../src/wal/disk-probe.js';
import { segmentName } from '../../src/wal/segment.js';
import { dirLines, installProbe, lastDurable, readJournal } from '../wal/disk-probe-support.js';
import { rawLogCapture } from '../support/log-lines.js';
import { tmpDir } from '../wal/tmp-dir.js';
import { nodeInput } from './node-support.js';

const conf = { voters: [1], learners: [], votersOutgoing: [] };
const entry = (index: number): Entry => ({ index, term: 1, type: 'normal', data: new TextEncoder().encode(`e${index}`) });
const inode = (path: string) => lstatSync(path).ino;

t.test('opening a new data dir makes wal/ and snap/ durable in it right after their mkdir', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  const dataDir = join(root, 'data');
  const { log } = await WalDurableLog.open(dataDir, conf);
  // Before anything else of the node (bootstrap.json, the LOCK) fsyncs the data dir.
  const entries = dirLines(readJournal(journal), dataDir).at(-1)?.entries ?? {};
  t.equal(entries['wal'], inode(join(dataDir, 'wal')), 'wal/ is a durable entry of the data dir');
  t.equal(entries['snap'], inode(join(dataDir, 'snap')), 'snap/ is a durable entry of the data dir');
  t.equal(dirLines(readJournal(journal), root).at(-1)?.entries['data'], inode(dataDir), 'and the data dir in its parent');
  await log.close();
});

t.test('snapshot files: a durable name in snap/, unless the directory fsync is skipped', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  for (const unsafeSkipDirFsync of [false, true]) {
    const dataDir = join(root, unsafeSkipDirFsync ? 'unsafe' : 'safe');
    const { log } = await WalDurableLog.open(dataDir, conf, { unsafeSkipDirFsync });
    await log.persist({ hardState: { term: 1, vote: 1, commit: 5 }, entries: [1, 2, 3, 4, 5].map(entry), snapshot: null, mustSync: true });
    await log.compact(4, conf, new TextEncoder().encode('state@4'));
    await log.close();
    const snapDir = join(dataDir, 'snap');
    const [file] = readdirSync(snapDir);
    const lines = readJournal(journal);
    t.equal(lastDurable(lines, inode(join(snapDir, file!))), lstatSync(join(snapDir, file!)).size, 'the snapshot file itself is fsynced');
    if (unsafeSkipDirFsync) t.equal(dirLines(lines, snapDir).length, 0, 'no directory fsync of snap/');
    else t.equal(dirLines(lines, snapDir).at(-1)?.entries[file!], inode(join(snapDir, file!)), 'snap/ lists the file durable');
  }
});

t.test('a node started with a probe journals its data dir, wal/ and bootstrap.json at first start', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  const dataDir = join(root, 'n1');
  const node = await startNode(nodeInput(1, dataDir), {
    logger: pino({ level: 'silent' }),
    diskProbe: new DiskProbe({ journal, stallFile: null }),
  });
  t.teardown(() => installDiskProbe(null));
  await node.stop();
  const lines = readJournal(journal);
  const top = dirLines(lines, dataDir).at(-1)?.entries ?? {};
  for (const name of ['wal', 'snap', 'bootstrap.json']) t.equal(top[name], inode(join(dataDir, name)), `${name} durable in the data dir`);
  t.notOk('LOCK' in top, 'the LOCK removed at stop is gone from the last listing');
  const walDir = join(dataDir, 'wal');
  t.equal(dirLines(lines, walDir).at(-1)?.entries[segmentName(1)], inode(join(walDir, segmentName(1))), 'segment 1 durable in wal/');
});

t.test('the unsafe switches are logged loudly at start and reach the WAL', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  const dataDir = join(root, 'n1');
  const allowed = process.env['KVAPP_ALLOW_UNSAFE'];
  process.env['KVAPP_ALLOW_UNSAFE'] = '1';
  t.teardown(() => {
    if (allowed === undefined) delete process.env['KVAPP_ALLOW_UNSAFE'];
    else process.env['KVAPP_ALLOW_UNSAFE'] = allowed;
    installDiskProbe(null);
  });
  const { logger, lines } = rawLogCapture('warn');
  const node = await startNode(nodeInput(1, dataDir, { unsafeAckBeforeFsync: true, unsafeSkipDirFsync: true }), {
    logger,
    diskProbe: new DiskProbe({ journal, stallFile: null }),
  });
  await node.stop();
  t.ok(
    lines.some((l) => l.includes('UNSAFE: WAL saves are acknowledged before their fsync')),
    'ack-before-fsync warned',
  );
  t.ok(
    lines.some((l) => l.includes('UNSAFE: new WAL segments and snapshot files are renamed into place without a directory fsync')),
    'skip-dir-fsync warned',
  );
  t.equal(dirLines(readJournal(journal), join(dataDir, 'wal')).length, 0, 'wal/ was never fsynced');
  t.ok(dirLines(readJournal(journal), dataDir).length > 0, "the data dir's own fsyncs stay");
});
