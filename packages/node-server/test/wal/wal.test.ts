import t from 'tap';
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, HardState } from '@kvapp/core';
import { Wal, type WalOptions, type WalRecovered } from '../../src/wal/wal.js';
import { WalError } from '../../src/wal/errors.js';
import { SEGMENT_HEADER_BYTES, segmentName } from '../../src/wal/segment.js';
import { FRAME_HEADER_BYTES } from '../../src/wal/record.js';
import { tmpDir } from './tmp-dir.js';

const e = (index: number, term = 1, size = 3): Entry => ({
  term,
  index,
  type: index % 7 === 0 ? 'conf-change' : 'normal',
  data: new Uint8Array(size).fill(index & 0xff),
});
const hs = (term: number, vote = 1, commit = 0): HardState => ({ term, vote, commit });
const range = (lo: number, hi: number, term = 1) => Array.from({ length: hi - lo + 1 }, (_, i) => e(lo + i, term));
const ids = (es: Entry[]) => es.map((x) => `${x.index}@${x.term}`);
const seg1 = (dir: string) => join(dir, segmentName(1));
/** Opens (recovering) and closes again: what a restart would see. */
async function reopen(dir: string, opts: WalOptions = {}): Promise<WalRecovered> {
  const { wal, recovered } = await Wal.open(dir, opts);
  await wal.close();
  return recovered;
}
/** Size on disk of one entry record with `size` data bytes. */
const entryRecordBytes = (size = 3) => FRAME_HEADER_BYTES + 17 + size;

t.test('round trip: a new WAL, saved and reopened, gives back entries and hard state', async (t) => {
  const dir = tmpDir(t);
  const first = await Wal.open(dir);
  t.strictSame(first.recovered, { hardState: null, entries: [], snapshotMarker: null, truncatedTail: null });
  await first.wal.save(hs(1), range(1, 3));
  await first.wal.save(hs(2, 3, 2), [e(4, 2)]);
  await first.wal.close();
  const { wal, recovered } = await Wal.open(dir);
  t.strictSame(recovered.hardState, hs(2, 3, 2));
  t.strictSame(recovered.entries, [...range(1, 3), e(4, 2)]);
  t.equal(recovered.truncatedTail, null);
  await wal.save(null, [e(5, 2)]);
  await wal.close();
  t.strictSame(ids((await reopen(dir)).entries), ['1@1', '2@1', '3@1', '4@2', '5@2']);
});

t.test('an entry with large binary data survives byte for byte', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  const data = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 0xff);
  await wal.save(null, [{ term: 3, index: 1, type: 'normal', data }]);
  await wal.close();
  const got = (await reopen(dir)).entries[0]!;
  t.ok(Buffer.from(got.data).equals(Buffer.from(data)));
  t.equal(got.term, 3);
});

t.test('group commit: saves of one tick share one write and fsync', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  const before = wal.stats();
  await Promise.all(Array.from({ length: 10 }, (_, i) => wal.save(hs(1, 1, i), [e(i + 1)])));
  const after = wal.stats();
  t.equal(after.batches - before.batches, 1);
  t.equal(after.fsyncs - before.fsyncs, 1);
  t.equal(after.saves - before.saves, 10);
  await wal.close();
  t.equal((await reopen(dir)).entries.length, 10);
});

t.test('group commit: saves issued while an fsync is in progress are coalesced into the next one', async (t) => {
  const dir = tmpDir(t);
  let release: () => void = () => {};
  let held = 0;
  const gate = () => {
    held++;
    if (held > 1) return undefined;
    return new Promise<void>((resolve) => (release = resolve));
  };
  const { wal } = await Wal.open(dir, { failpoints: { 'wal-before-fsync': gate } });
  const base = wal.stats().fsyncs;
  const first = wal.save(null, [e(1)]);
  while (held === 0) await new Promise((r) => setImmediate(r));
  // The first batch is now stalled before its fsync; these 20 arrive meanwhile.
  const rest = Array.from({ length: 20 }, (_, i) => wal.save(null, [e(i + 2)]));
  release();
  await Promise.all([first, ...rest]);
  t.equal(wal.stats().batches, 2, 'one batch for the first save, one for the other twenty');
  t.equal(wal.stats().fsyncs - base, 2);
  await wal.close();
  t.equal((await reopen(dir)).entries.length, 21);
});

t.test('sync: false writes without an fsync unless a synced save shares the batch', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  const base = wal.stats().fsyncs;
  await wal.save(hs(1, 1, 0), [e(1)]);
  t.equal(wal.stats().fsyncs - base, 1);
  await wal.save(hs(1, 1, 1), [], { sync: false });
  t.equal(wal.stats().fsyncs - base, 1, 'commit-only change: no fsync');
  await Promise.all([wal.save(hs(1, 1, 1), [], { sync: false }), wal.save(null, [e(2)])]);
  t.equal(wal.stats().fsyncs - base, 2, 'a mixed batch is fsynced');
  await wal.close();
  t.strictSame((await reopen(dir)).hardState, hs(1, 1, 1));
});

t.test('O_DSYNC: unsynced bytes are rewritten in place by the next synced batch, not appended again', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1, 1, 0), [e(1)]);
  await wal.save(hs(1, 1, 1), [], { sync: false });
  await wal.save(hs(1, 1, 1), [], { sync: false });
  const unsyncedEnd = statSync(seg1(dir)).size;
  await wal.save(null, [e(2)]);
  t.equal(statSync(seg1(dir)).size, unsyncedEnd + entryRecordBytes(), 'the file grew by the new record only');
  await wal.close();
  const recovered = await reopen(dir);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1']);
  t.strictSame(recovered.hardState, hs(1, 1, 1));
  t.equal(recovered.truncatedTail, null);
});

t.test('unsynced saves beyond batchBytesMax are written durably, so the bytes kept for rewriting stay bounded', async (t) => {
  const dir = tmpDir(t);
  const hardStateRecordBytes = FRAME_HEADER_BYTES + 24;
  const { wal } = await Wal.open(dir, { batchBytesMax: 3 * hardStateRecordBytes });
  const base = wal.stats().fsyncs;
  for (let commit = 1; commit <= 3; commit++) await wal.save(hs(1, 1, commit), [], { sync: false });
  t.equal(wal.stats().fsyncs - base, 0, 'three fit: no sync');
  await wal.save(hs(1, 1, 4), [], { sync: false });
  t.equal(wal.stats().fsyncs - base, 1, 'the fourth would not fit: written durably with the three');
  await wal.save(hs(1, 1, 5), [], { sync: false });
  t.equal(wal.stats().fsyncs - base, 1, 'and the count starts again');
  await wal.close();
  t.strictSame((await reopen(dir)).hardState, hs(1, 1, 5));
});

t.test('rollover first syncs the unsynced tail of the segment it leaves', async (t) => {
  const dir = tmpDir(t);
  const opts = { segmentBytesMax: SEGMENT_HEADER_BYTES + 2 * entryRecordBytes() };
  const { wal } = await Wal.open(dir, opts);
  await wal.save(hs(1, 1, 0), [e(1)]);
  await wal.save(hs(1, 1, 1), [], { sync: false });
  const before = wal.stats();
  await wal.save(null, [e(2), e(3)]);
  const after = wal.stats();
  t.equal(after.segments - before.segments, 1, 'rolled over');
  // The old tail's fdatasync, the new segment's file and directory fsyncs, the batch's sync.
  t.equal(after.fsyncs - before.fsyncs, 4);
  await wal.close();
  const recovered = await reopen(dir, opts);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1', '3@1']);
  t.strictSame(recovered.hardState, hs(1, 1, 1));
});

t.test('syncMethod fdatasync: the same contract (round trip, unsynced then synced, torn tail cut)', async (t) => {
  const dir = tmpDir(t);
  const opts: WalOptions = { syncMethod: 'fdatasync' };
  const { wal } = await Wal.open(dir, opts);
  await wal.save(hs(1, 1, 0), range(1, 3));
  await wal.save(hs(1, 1, 2), [], { sync: false });
  const base = wal.stats().fsyncs;
  await wal.save(null, [e(4)]);
  t.equal(wal.stats().fsyncs - base, 1);
  await wal.close();
  truncateSync(seg1(dir), statSync(seg1(dir)).size - 2);
  const recovered = await reopen(dir, opts);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1', '3@1']);
  t.strictSame(recovered.hardState, hs(1, 1, 2));
  t.ok(recovered.truncatedTail !== null);
});

t.test('group commit respects batchBytesMax', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir, { batchBytesMax: 3 * entryRecordBytes() });
  await Promise.all(range(1, 10).map((x) => wal.save(null, [x])));
  t.equal(wal.stats().batches, 4, '3 + 3 + 3 + 1');
  await wal.close();
});

async function twoSaves(dir: string): Promise<{ secondAt: number; end: number }> {
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1), range(1, 2));
  const secondAt = statSync(seg1(dir)).size;
  await wal.save(hs(2), [e(3, 2)]);
  await wal.close();
  return { secondAt, end: statSync(seg1(dir)).size };
}

t.test('torn tail: a final record cut short is removed and kept in a .broken file', async (t) => {
  const dir = tmpDir(t);
  const { secondAt, end } = await twoSaves(dir);
  const original = readFileSync(seg1(dir));
  const cutAt = end - 5; // inside the entry record of the second save
  truncateSync(seg1(dir), cutAt);
  const logged: string[] = [];
  const { wal, recovered } = await Wal.open(dir, { log: (_lvl, msg) => logged.push(msg) });
  t.strictSame(ids(recovered.entries), ['1@1', '2@1']);
  t.strictSame(recovered.hardState, hs(2), 'the hard state record before the torn one is intact');
  const tail = recovered.truncatedTail!;
  const entryAt = secondAt + FRAME_HEADER_BYTES + 24;
  t.equal(tail.file, seg1(dir));
  t.equal(tail.offset, entryAt);
  t.equal(tail.bytes, cutAt - entryAt);
  t.ok(readFileSync(tail.brokenFile).equals(original.subarray(entryAt, cutAt)), '.broken holds exactly the cut bytes');
  t.equal(statSync(seg1(dir)).size, entryAt, 'segment truncated');
  t.ok(
    logged.some((m) => /torn or corrupt/.test(m)),
    'logged',
  );
  await wal.save(null, [e(3, 3)]);
  await wal.close();
  const again = await reopen(dir);
  t.strictSame(ids(again.entries), ['1@1', '2@1', '3@3']);
  t.equal(again.truncatedTail, null);
  t.ok(readdirSync(dir).includes(`${segmentName(1)}.broken`));
});

t.test('a second cut keeps the first .broken file', async (t) => {
  const dir = tmpDir(t);
  const { end } = await twoSaves(dir);
  truncateSync(seg1(dir), end - 1);
  const first = await Wal.open(dir);
  await first.wal.save(null, [e(3, 3)]);
  await first.wal.close();
  truncateSync(seg1(dir), statSync(seg1(dir)).size - 1);
  const second = await Wal.open(dir);
  t.equal(second.recovered.truncatedTail!.brokenFile, `${seg1(dir)}.1.broken`);
  t.ok(readFileSync(`${seg1(dir)}.broken`).length > 0, 'the first .broken file is still there');
  await second.wal.close();
});

function flipBit(path: string, offset: number, bit = 0): void {
  const b = readFileSync(path);
  b[offset]! ^= 1 << bit;
  writeFileSync(path, b);
}

t.test('a flipped bit in the final record: cut like a torn write', async (t) => {
  const dir = tmpDir(t);
  const { end } = await twoSaves(dir);
  flipBit(seg1(dir), end - 2);
  const { wal, recovered } = await Wal.open(dir);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1']);
  t.equal(recovered.truncatedTail!.reason, 'checksum mismatch');
  await wal.close();
});

t.test('a flipped bit in an earlier record: open refuses, naming file and offset', async (t) => {
  const dir = tmpDir(t);
  await twoSaves(dir);
  const secondRecord = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 24; // hard state, then entry 1
  flipBit(seg1(dir), secondRecord + FRAME_HEADER_BYTES + 3);
  const err = await Wal.open(dir).then(
    () => null,
    (x: unknown) => x,
  );
  t.ok(err instanceof WalError);
  t.match(err, { code: 'WAL_CORRUPT_RECORD', file: seg1(dir), offset: secondRecord });
  t.match((err as Error).message, seg1(dir));
  t.match((err as Error).message, `offset ${secondRecord}`);
});

t.test("a flipped bit in an earlier record's length field: still refused, not mistaken for a tail", async (t) => {
  const dir = tmpDir(t);
  await twoSaves(dir);
  const secondRecord = SEGMENT_HEADER_BYTES + FRAME_HEADER_BYTES + 24;
  flipBit(seg1(dir), secondRecord + 2, 3); // length becomes huge: looks torn
  await t.rejects(Wal.open(dir), { code: 'WAL_CORRUPT_RECORD', offset: secondRecord });
});

t.test('a damaged header of a segment is refused', async (t) => {
  const dir = tmpDir(t);
  await twoSaves(dir);
  flipBit(seg1(dir), 3);
  await t.rejects(Wal.open(dir), { code: 'WAL_CORRUPT_SEGMENT', file: seg1(dir) });
});

t.test('overwriting a suffix: the later records win on replay', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1), range(1, 6));
  await wal.save(hs(2), [e(4, 2), e(5, 2)]);
  await wal.save(null, [e(6, 2)]);
  await wal.save(hs(3), [e(3, 3)]);
  await wal.close();
  const recovered = await reopen(dir);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1', '3@3']);
  t.strictSame(recovered.hardState, hs(3));
});

t.test('save refuses gaps and non-contiguous batches as programmer errors', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(null, range(1, 3));
  t.throws(() => wal.save(null, [e(5)]), /gap/);
  t.throws(() => wal.save(null, [e(4), e(6)]), /contiguous/);
  await wal.saveSnapshotMarker({ index: 2, term: 1 });
  t.throws(() => wal.save(null, [e(2)]), /snapshot/);
  await wal.close();
});

t.test('rollover and releaseTo: old segments go once a snapshot covers them; the rest replays', async (t) => {
  const dir = tmpDir(t);
  const opts = { segmentBytesMax: SEGMENT_HEADER_BYTES + 4 * entryRecordBytes() };
  const { wal } = await Wal.open(dir, opts);
  await wal.save(hs(1, 2, 0), []);
  for (let i = 1; i <= 20; i++) await wal.save(i === 10 ? hs(2, 3, 9) : null, [e(i)]);
  const segs = readdirSync(dir).filter((n) => n.endsWith('.wal'));
  t.ok(segs.length >= 5, `rolled over into ${segs.length} segments`);
  t.equal(wal.stats().segments, segs.length);
  t.notOk(
    readdirSync(dir).some((n) => n.endsWith('.tmp')),
    'no temp files left',
  );
  t.throws(() => wal.releaseTo(5), /durable snapshot marker/);
  await wal.saveSnapshotMarker({ index: 12, term: 1 });
  const released = await wal.releaseTo(12);
  t.ok(released >= 2, `released ${released} segments`);
  t.equal(readdirSync(dir).filter((n) => n.endsWith('.wal')).length, segs.length - released);
  t.notOk(readdirSync(dir).includes(segmentName(1)), 'the first segment is gone');
  await wal.close();
  const recovered = await reopen(dir, opts);
  t.strictSame(recovered.snapshotMarker, { index: 12, term: 1 });
  t.strictSame(
    ids(recovered.entries),
    range(13, 20).map((x) => `${x.index}@1`),
  );
  t.strictSame(recovered.hardState, hs(2, 3, 9), 'hard state survives though its segment may be gone');
});

t.test('releaseTo keeps a segment that still holds entries past the index, and the active one', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir, { segmentBytesMax: SEGMENT_HEADER_BYTES + 2 * entryRecordBytes() });
  for (let i = 1; i <= 4; i++) await wal.save(null, [e(i)]);
  await wal.saveSnapshotMarker({ index: 3, term: 1 });
  t.equal(await wal.releaseTo(3), 1, 'segment 1 (entries 1-2) goes; segment 2 (3-4) stays');
  await wal.saveSnapshotMarker({ index: 4, term: 1 });
  const n = await wal.releaseTo(4);
  t.ok(wal.stats().segments >= 1, `${n} more released, the active segment stays`);
  await wal.close();
  const recovered = await reopen(dir);
  t.strictSame(recovered.entries, []);
  t.strictSame(recovered.snapshotMarker, { index: 4, term: 1 });
});

t.test('a snapshot past the log (installed from a leader) discards the log; new entries follow it', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  await wal.save(hs(1), range(1, 5));
  await wal.saveSnapshotMarker({ index: 50, term: 4 });
  await wal.save(hs(4), [e(51, 4)]);
  await wal.close();
  const recovered = await reopen(dir);
  t.strictSame(ids(recovered.entries), ['51@4']);
});

t.test('a failpoint mid-record that crashes leaves a torn record that the next open cuts', async (t) => {
  const dir = tmpDir(t);
  let armed = false;
  const { wal } = await Wal.open(dir, {
    failpoints: {
      'wal-mid-record': () => {
        if (armed) throw new Error('crash here');
      },
    },
  });
  await wal.save(hs(1), range(1, 2));
  armed = true;
  await t.rejects(wal.save(null, [e(3, 1, 100)]), { code: 'WAL_FAILED' });
  await t.rejects(wal.save(null, [e(3)]), { code: 'WAL_FAILED' }, 'a failed WAL refuses further writes');
  await wal.close();
  const recovered = await reopen(dir);
  t.strictSame(ids(recovered.entries), ['1@1', '2@1']);
  t.ok(recovered.truncatedTail !== null && recovered.truncatedTail.bytes > 0, 'a torn record was cut');
});

t.test('a failed fsync fails the WAL and every waiting save', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir, {
    failpoints: {
      'wal-before-fsync': () => {
        throw new Error('EIO');
      },
    },
  });
  const a = wal.save(null, [e(1)]);
  const b = wal.save(null, [e(2)]);
  await t.rejects(a, { code: 'WAL_FAILED' });
  await t.rejects(b, { code: 'WAL_FAILED' });
  await wal.close();
});

t.test('after close, calls are refused with WAL_CLOSED; close waits for pending saves', async (t) => {
  const dir = tmpDir(t);
  const { wal } = await Wal.open(dir);
  const pending = wal.save(null, [e(1)]);
  const closes = [wal.close(), wal.close()];
  await Promise.all(closes);
  t.equal(wal.stats().saves, 1, 'both closes waited for the pending save');
  await pending;
  await t.rejects(wal.save(null, [e(2)]), { code: 'WAL_CLOSED' });
  await t.rejects(wal.releaseTo(0), { code: 'WAL_CLOSED' });
  await wal.close();
  t.equal((await reopen(dir)).entries.length, 1);
});

t.test('a segment left as .tmp by a crash during rollover is removed on open', async (t) => {
  const dir = tmpDir(t);
  await twoSaves(dir);
  writeFileSync(join(dir, `${segmentName(2)}.tmp`), 'half a segment');
  const recovered = await reopen(dir);
  t.equal(recovered.entries.length, 3);
  t.notOk(readdirSync(dir).some((n) => n.endsWith('.tmp')));
});
