import t from 'tap';
import { appendFileSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry } from '@kvapp/core';
import { Wal } from '../../src/wal/wal.js';
import { segmentName } from '../../src/wal/segment.js';
import { writeFileAtomic } from '../../src/wal/atomic-file.js';
import { fsyncDir } from '../../src/wal/file-sync.js';
import { DiskProbe, DiskProbeError, JOURNAL_LINES_MAX, STALL_REREAD_MS } from '../../src/wal/disk-probe.js';
import type { SyncMethod } from '../../src/wal/segment-writer.js';
import { dirLines, fileLines, installProbe, lastDurable, readJournal } from './disk-probe-support.js';
import { tmpDir } from './tmp-dir.js';

const e = (index: number): Entry => ({ term: 1, index, type: 'normal', data: new Uint8Array(10).fill(index) });

for (const syncMethod of ['o-dsync', 'fdatasync'] as SyncMethod[]) {
  t.test(`a synced WAL save (${syncMethod}) is journaled durable, whole, before save() resolves`, async (t) => {
    const root = tmpDir(t);
    const journal = join(root, 'journal.jsonl');
    installProbe(t, { journal });
    const dir = join(root, 'wal');
    const { wal } = await Wal.open(dir, { syncMethod });
    const seg = join(dir, segmentName(1));
    const ino = statSync(seg).ino;
    await wal.save({ term: 1, vote: 1, commit: 0 }, [e(1), e(2)]);
    const size = statSync(seg).size;
    t.equal(lastDurable(readJournal(journal), ino), size, 'the whole segment is durable once the save resolved');
    // A commit-only save is not synced: nothing new is declared durable.
    await wal.save({ term: 1, vote: 1, commit: 2 }, [], { sync: false });
    t.ok(statSync(seg).size > size);
    t.equal(lastDurable(readJournal(journal), ino), size, 'unsynced bytes are not durable');
    await wal.save(null, [e(3)]);
    t.equal(lastDurable(readJournal(journal), ino), statSync(seg).size, 'the next synced save covers the unsynced bytes too');
    const line = fileLines(readJournal(journal)).at(-1)!;
    t.equal(line.path, seg);
    await wal.close();
  });
}

t.test('writeFileAtomic: the temp file is journaled durable, then the directory lists the new name with its inode', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  const dir = join(root, 'd');
  mkdirSync(dir);
  const bytes = new TextEncoder().encode('hello, disk');
  t.equal(await writeFileAtomic(dir, 'f', bytes), 2);
  const ino = statSync(join(dir, 'f')).ino;
  const lines = readJournal(journal);
  const fileLine = fileLines(lines).find((l) => l.ino === ino);
  t.strictSame(fileLine, { ino, durable: bytes.length, path: join(dir, 'f.tmp') }, 'the temp file fsync, by inode, at its path then');
  t.strictSame(dirLines(lines, dir).at(-1)?.entries, { f: ino }, 'the renamed name, listed before the directory fsync');
  t.ok(
    lines.indexOf(fileLine!) < lines.indexOf(dirLines(lines, dir).at(-1)!),
    'the file line comes before the directory line, as the syncs did',
  );
  t.equal(await writeFileAtomic(dir, 'g', bytes, { unsafeSkipDirFsync: true }), 1, 'one fsync when the directory fsync is skipped');
  t.strictSame(dirLines(readJournal(journal), dir).at(-1)?.entries, { f: ino }, 'g was never made durable in the directory');
});

t.test('a directory fsync journals every entry (files, directories) by inode before it resolves', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  writeFileSync(join(root, 'a'), 'x');
  mkdirSync(join(root, 'sub'));
  await fsyncDir(root);
  const line = dirLines(readJournal(journal), root).at(-1)!;
  t.equal(line.entries['a'], lstatSync(join(root, 'a')).ino);
  t.equal(line.entries['sub'], lstatSync(join(root, 'sub')).ino);
  t.equal(line.entries['journal.jsonl'], lstatSync(journal).ino);
  writeFileSync(join(root, 'after'), 'y');
  t.notOk('after' in dirLines(readJournal(journal), root).at(-1)!.entries, 'a file created after the fsync is not declared durable');
});

t.test('the journal is rewritten to one line per live inode and directory once it passes the bound', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  const probe = installProbe(t, { journal });
  const dir = join(root, 'd');
  mkdirSync(dir);
  writeFileSync(join(dir, 'live'), 'abc');
  await fsyncDir(dir);
  const live = statSync(join(dir, 'live')).ino;
  const gone = live + 1_000_000; // no file of the directory has it
  probe.fileDurable(gone, 7, join(dir, 'gone'));
  for (let i = 0; i < JOURNAL_LINES_MAX + 10; i++) probe.fileDurable(live, i, join(dir, 'live'));
  const lines = readJournal(journal);
  t.ok(lines.length <= JOURNAL_LINES_MAX, `${lines.length} lines, at most ${JOURNAL_LINES_MAX}`);
  t.equal(probe.journalLines, lines.length);
  t.equal(lastDurable(lines, live), JOURNAL_LINES_MAX + 9, 'the newest durable size survives the rewrite');
  t.equal(lastDurable(lines, gone), null, 'an inode found in no journaled directory is dropped');
  t.strictSame(dirLines(lines, dir).at(-1)?.entries, { live }, 'the directory line survives the rewrite');
});

t.test('a restart reads the journal back: state carries over, a torn last line is dropped', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  const dir = join(root, 'd');
  mkdirSync(dir);
  writeFileSync(join(dir, 'f'), 'abcdef');
  const ino = statSync(join(dir, 'f')).ino;
  const first = new DiskProbe({ journal, stallFile: null });
  first.dirDurable(dir, { f: ino });
  first.fileDurable(ino, 4, join(dir, 'f'));
  first.close();
  appendFileSync(journal, '{"ino":1,"dura'); // a kill -9 mid-line (by someone else's hand)
  const second = new DiskProbe({ journal, stallFile: null });
  t.equal(second.journalLines, 2, 'the two whole lines are counted');
  t.ok(readFileSync(journal, 'utf8').endsWith('\n'), 'the torn piece is gone: the next line starts on its own');
  second.fileDurable(ino, 6, join(dir, 'f'));
  const lines = readJournal(journal);
  t.equal(lastDurable(lines, ino), 6);
  t.strictSame(dirLines(lines, dir).at(-1)?.entries, { f: ino }, 'the earlier process directory line is kept');
  second.close();
});

t.test('the probe refuses relative paths and a journal inside the data dir, with one line', async (t) => {
  t.throws(() => DiskProbe.fromEnv({ KVAPP_DISK_JOURNAL: 'journal.jsonl' }), DiskProbeError);
  t.throws(() => DiskProbe.fromEnv({ KVAPP_DISK_STALL_FILE: 'stall' }), /KVAPP_DISK_STALL_FILE: must be an absolute path/);
  t.equal(DiskProbe.fromEnv({}), null, 'neither variable: no probe');
  const root = tmpDir(t);
  mkdirSync(join(root, 'data'));
  const inside = new DiskProbe({ journal: join(root, 'data', 'journal.jsonl'), stallFile: null });
  t.teardown(() => inside.close());
  t.throws(() => inside.checkOutside(join(root, 'data')), /is inside the data dir/);
  t.doesNotThrow(() => inside.checkOutside(join(root, 'data2')), 'a sibling whose name starts the same is outside');
  t.throws(
    () => DiskProbe.fromEnv({ KVAPP_DISK_JOURNAL: join(root, 'new', 'journal.jsonl') }, join(root, 'new')),
    /is inside the data dir/,
    'from the environment: refused before the journal is opened',
  );
  t.throws(() => DiskProbe.fromEnv({ KVAPP_DISK_JOURNAL: join(root, 'no-such-dir', 'j') }), /KVAPP_DISK_JOURNAL: cannot open/);
});

t.test('the stall file delays each sync on a timer: the event loop runs meanwhile', async (t) => {
  const root = tmpDir(t);
  const stallFile = join(root, 'stall');
  const journal = join(root, 'journal.jsonl');
  writeFileSync(stallFile, '100\n');
  const probe = installProbe(t, { journal, stallFile });
  const order: string[] = [];
  const started = performance.now();
  const opened = Wal.open(join(root, 'wal')).then((r) => {
    order.push('opened');
    return r;
  });
  setTimeout(() => order.push('timer'), 20);
  const { wal } = await opened;
  t.strictSame(order, ['timer', 'opened'], 'a 20 ms timer fired while the syncs of the open were stalled');
  // Opening a new WAL makes three syncs (wal/ in its parent, the segment, wal/ itself): each waited.
  t.ok(performance.now() - started >= 3 * 100 - 3, 'each sync waited its stall (a lower bound only)');
  await wal.close();

  // The file is re-read once its value is older than STALL_REREAD_MS: back to 0, no timer at all.
  writeFileSync(stallFile, '0');
  await new Promise((resolve) => setTimeout(resolve, STALL_REREAD_MS + 10));
  let passed = false;
  void probe.stall().then(() => (passed = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(passed, 'a stall of 0 resolves without waiting for a timer');
  writeFileSync(stallFile, '40');
  await new Promise((resolve) => setTimeout(resolve, STALL_REREAD_MS + 10));
  passed = false;
  const stalled = probe.stall().then(() => (passed = true));
  await new Promise((resolve) => setImmediate(resolve));
  t.notOk(passed, 'a stall of 40 ms has not passed by the next turn of the loop');
  await stalled;
  t.ok(passed);
});

t.test('unsafe ack before fsync: a save resolves before the journal declares it durable; the fsync follows', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  const dir = join(root, 'wal');
  const { wal } = await Wal.open(dir, { unsafeAckBeforeFsync: true });
  const seg = join(dir, segmentName(1));
  const ino = statSync(seg).ino;
  await wal.save({ term: 1, vote: 1, commit: 0 }, [e(1)]);
  const size = statSync(seg).size;
  t.ok((lastDurable(readJournal(journal), ino) ?? 0) < size, 'acknowledged, not yet durable');
  for (let i = 0; i < 100 && lastDurable(readJournal(journal), ino) !== size; i++) await new Promise((r) => setTimeout(r, 20));
  t.equal(lastDurable(readJournal(journal), ino), size, 'the background fdatasync made it durable');
  await wal.close();

  // The same save without the switch: durable when it resolves (so the check above can fail).
  const safeDir = join(root, 'safe');
  const safe = await Wal.open(safeDir);
  const safeIno = statSync(join(safeDir, segmentName(1))).ino;
  await safe.wal.save({ term: 1, vote: 1, commit: 0 }, [e(1)]);
  t.equal(lastDurable(readJournal(journal), safeIno), statSync(join(safeDir, segmentName(1))).size);
  await safe.wal.close();
});

t.test('unsafe skip dir fsync: wal/ never gets a directory line, not at creation nor at rollover', async (t) => {
  const root = tmpDir(t);
  const journal = join(root, 'journal.jsonl');
  installProbe(t, { journal });
  for (const unsafeSkipDirFsync of [false, true]) {
    const dir = join(root, unsafeSkipDirFsync ? 'unsafe' : 'safe');
    const { wal } = await Wal.open(dir, { segmentBytesMax: 200, unsafeSkipDirFsync });
    for (let i = 1; i <= 10; i++) await wal.save(null, [e(i)]);
    t.ok(wal.stats().segments > 1, 'rolled over');
    await wal.close();
    const lines = dirLines(readJournal(journal), dir);
    if (unsafeSkipDirFsync) t.equal(lines.length, 0, 'no directory fsync of wal/');
    else t.ok(lines.at(-1)!.entries[segmentName(2)] !== undefined, 'the safe WAL made its second segment durable');
  }
  t.ok(dirLines(readJournal(journal), root).length > 0, 'the parent still got its fsync after the mkdir');
});
