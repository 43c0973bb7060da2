import t, { type Test } from 'tap';
import {
  appendFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/nemesis/partitions.js';
import type { Random } from '../../src/nemesis/partitions.js';
import {
  applyPowerCut,
  journalBytesMax,
  parseDiskJournal,
  PowerCutError,
  readDiskJournal,
  removedListedMax,
} from '../../src/nemesis/power-cut.js';

/** A PRNG that returns the given draws in order and fails the test when asked for more. */
function scripted(draws: number[]): Random {
  const left = [...draws];
  return () => {
    const next = left.shift();
    if (next === undefined) throw new Error('more draws than scripted');
    return next;
  };
}

/** A data dir and journal beside it, as a node run by the harness has them. */
function fixture(t: Test): { dataDir: string; journal: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), 'power-cut-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data', '1');
  mkdirSync(join(dataDir, 'wal'), { recursive: true });
  mkdirSync(join(dataDir, 'snap'), { recursive: true });
  mkdirSync(join(root, 'faults'));
  return { dataDir, journal: join(root, 'faults', '1.disk-journal.jsonl'), root };
}

const ino = (path: string): number => lstatSync(path).ino;

/** Lines as the node's disk probe writes them. */
const fileLine = (path: string, durable: number): string => `${JSON.stringify({ ino: ino(path), durable, path })}\n`;
const dirLine = (dir: string, names: readonly string[]): string =>
  `${JSON.stringify({ dir, entries: Object.fromEntries(names.map((n) => [n, ino(join(dir, n))])) })}\n`;

function bytes(n: number, fill = 0xab): Buffer {
  return Buffer.alloc(n, fill);
}

/** Every directory of the fixture made durable with the names it has now. */
function dirsDurable(dataDir: string): string {
  return (
    dirLine(dataDir, ['snap', 'wal']) + dirLine(join(dataDir, 'wal'), readdir(join(dataDir, 'wal'))) + dirLine(join(dataDir, 'snap'), [])
  );
}

/** A directory's names, sorted. */
function readdir(dir: string): string[] {
  return readdirSync(dir).sort();
}

t.test('an unsynced tail is cut back to the durable bytes', async (t) => {
  const { dataDir, journal } = fixture(t);
  const seg = join(dataDir, 'wal', '0001.wal');
  writeFileSync(seg, bytes(1000));
  writeFileSync(journal, dirsDurable(dataDir) + fileLine(seg, 300) + fileLine(seg, 600));
  const counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.9]) });
  t.equal(statSync(seg).size, 600, 'the later line wins: 600 bytes durable');
  t.same(counts, {
    filesTruncated: 1,
    bytesCut: 400,
    filesRemoved: 0,
    dirsRemoved: 0,
    tornPieces: 0,
    tornSectors: 0,
    undetermined: 0,
    removed: [],
  });
});

t.test('a fully synced file is left alone; a file without a line is cut to nothing', async (t) => {
  const { dataDir, journal } = fixture(t);
  const synced = join(dataDir, 'wal', '0001.wal');
  const never = join(dataDir, 'wal', '0002.wal');
  writeFileSync(synced, bytes(500));
  writeFileSync(never, bytes(70));
  writeFileSync(journal, dirsDurable(dataDir) + fileLine(synced, 500));
  const counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.9]) });
  t.equal(statSync(synced).size, 500);
  t.equal(statSync(never).size, 0, 'its name is durable, its bytes never were');
  t.equal(counts.filesTruncated, 1);
  t.equal(counts.bytesCut, 70);
});

t.test('a torn piece of the cut bytes may stay, its end zeroed like a torn sector', async (t) => {
  const { dataDir, journal } = fixture(t);
  const seg = join(dataDir, 'wal', '0001.wal');
  writeFileSync(seg, Buffer.concat([bytes(600, 0x11), bytes(400, 0x22)]));
  writeFileSync(journal, dirsDurable(dataDir) + fileLine(seg, 600));
  // torn (0.1 < 0.5), piece = 1 + floor(0.5 * 400) = 201 bytes, no zeroing (0.7)
  let counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.1, 0.5, 0.7]) });
  t.equal(statSync(seg).size, 801);
  const left = readFileSync(seg);
  t.ok(
    left.subarray(0, 600).every((b) => b === 0x11) && left.subarray(600).every((b) => b === 0x22),
    'the piece is the bytes that were there',
  );
  t.same(counts, {
    filesTruncated: 1,
    bytesCut: 199,
    filesRemoved: 0,
    dirsRemoved: 0,
    tornPieces: 1,
    tornSectors: 0,
    undetermined: 0,
    removed: [],
  });

  writeFileSync(seg, Buffer.concat([bytes(600, 0x11), bytes(400, 0x22)]));
  writeFileSync(journal, dirsDurable(dataDir) + fileLine(seg, 600));
  // torn, piece = 1 + floor(0.25 * 400) = 101 bytes, zeroed (0.2), 1 + floor(0.1 * 512) = 52 bytes of it
  counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.1, 0.25, 0.2, 0.1]) });
  const torn = readFileSync(seg);
  t.equal(torn.length, 701);
  t.ok(
    torn.subarray(0, 600).every((b) => b === 0x11),
    'the durable bytes are untouched',
  );
  t.ok(
    torn.subarray(600, 649).every((b) => b === 0x22),
    'the start of the piece stays',
  );
  t.ok(
    torn.subarray(649).every((b) => b === 0),
    'its last 52 bytes are zeros',
  );
  t.equal(counts.tornSectors, 1);

  writeFileSync(seg, Buffer.concat([bytes(600, 0x11), bytes(3, 0x22)]));
  writeFileSync(journal, dirsDurable(dataDir) + fileLine(seg, 600));
  // a 1-byte piece (1 + floor(0.1 * 3)), zeroing asked for 512 bytes: only the piece is zeroed
  applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.1, 0.1, 0.2, 0.9999]) });
  const small = readFileSync(seg);
  t.equal(small.length, 601);
  t.ok(small.subarray(0, 600).every((b) => b === 0x11) && small[600] === 0, 'zeroing never reaches into the durable bytes');
});

t.test('a file whose creation was never made durable by a directory fsync is removed', async (t) => {
  const { dataDir, journal } = fixture(t);
  const old = join(dataDir, 'snap', '00000000000000000100.snap');
  const fresh = join(dataDir, 'snap', '00000000000000000200.snap');
  writeFileSync(old, bytes(64));
  writeFileSync(
    journal,
    dirLine(dataDir, ['snap', 'wal']) +
      dirLine(join(dataDir, 'wal'), []) +
      dirLine(join(dataDir, 'snap'), ['00000000000000000100.snap']) +
      fileLine(old, 64),
  );
  writeFileSync(fresh, bytes(64));
  appendFileSync(journal, fileLine(fresh, 64)); // its bytes were fsynced, its name never
  const counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.notOk(existsSync(fresh), 'the new snapshot is gone');
  t.equal(statSync(old).size, 64, 'the old one stays whole');
  t.same(counts, {
    filesTruncated: 0,
    bytesCut: 0,
    filesRemoved: 1,
    dirsRemoved: 0,
    tornPieces: 0,
    tornSectors: 0,
    undetermined: 0,
    removed: ['snap/00000000000000000200.snap'],
  });
});

t.test('a directory never made durable goes with everything in it; with no journal, the whole data dir', async (t) => {
  const { dataDir, journal } = fixture(t);
  writeFileSync(join(dataDir, 'wal', '0001.wal'), bytes(10));
  mkdirSync(join(dataDir, 'wal', 'inner'));
  writeFileSync(join(dataDir, 'wal', 'inner', 'x'), bytes(10));
  writeFileSync(join(dataDir, 'LOCK'), bytes(10));
  writeFileSync(
    journal,
    dirLine(dataDir, ['LOCK', 'snap']) + fileLine(join(dataDir, 'LOCK'), 10) + dirLine(join(dataDir, 'wal'), ['0001.wal', 'inner']),
  );
  const counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.notOk(existsSync(join(dataDir, 'wal')), "wal/ is not among the data dir's durable names: its own listing does not save it");
  t.ok(existsSync(join(dataDir, 'snap')) && existsSync(join(dataDir, 'LOCK')));
  t.equal(counts.dirsRemoved, 2);
  t.equal(counts.filesRemoved, 2);
  t.same(counts.removed, ['wal'], 'a removed directory is listed once, its contents counted');

  rmSync(journal);
  writeFileSync(join(dataDir, 'snap', 'a'), bytes(5));
  const all = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.same(readdir(dataDir), [], 'a node that never synced anything keeps nothing');
  t.ok(existsSync(dataDir), 'the data dir itself stays (its name lives in the run folder)');
  t.same([all.filesRemoved, all.dirsRemoved], [2, 1]);
});

t.test('a durable name renamed over without a directory fsync is kept and counted undetermined', async (t) => {
  const { dataDir, journal } = fixture(t);
  const boot = join(dataDir, 'bootstrap.json');
  writeFileSync(boot, '{"v":1}\n');
  let text =
    dirLine(dataDir, ['bootstrap.json', 'snap', 'wal']) +
    fileLine(boot, 8) +
    dirLine(join(dataDir, 'wal'), []) +
    dirLine(join(dataDir, 'snap'), []);
  const tmp = join(dataDir, 'bootstrap.json.tmp');
  writeFileSync(tmp, '{"v":22}\n');
  text += fileLine(tmp, 9); // the temp file's fsync, then the rename, and no directory fsync
  renameSync(tmp, boot);
  writeFileSync(journal, text);
  const counts = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.equal(readFileSync(boot, 'utf8'), '{"v":22}\n', 'the new file stays, whole: its bytes were synced');
  t.equal(counts.undetermined, 1);
  t.equal(counts.filesRemoved, 0);
});

t.test('afterwards the journal declares what is on disk durable: a second cut changes nothing', async (t) => {
  const { dataDir, journal } = fixture(t);
  const seg = join(dataDir, 'wal', '0001.wal');
  writeFileSync(seg, bytes(1000));
  writeFileSync(join(dataDir, 'snap', 'never'), bytes(3));
  writeFileSync(
    journal,
    dirLine(dataDir, ['snap', 'wal']) +
      dirLine(join(dataDir, 'wal'), ['0001.wal']) +
      fileLine(seg, 100) +
      dirLine(join(dataDir, 'snap'), []),
  );
  applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.1, 0.5, 0.9]) });
  const size = statSync(seg).size;
  t.equal(size, 100 + 1 + Math.floor(0.5 * 900));
  const after = readDiskJournal(journal);
  t.equal(after.files.get(ino(seg)), size, "the segment's size now is durable");
  t.same(Object.fromEntries(after.dirs.get(join(dataDir, 'snap'))!), {}, 'snap/ as it is now');
  t.same(Object.fromEntries(after.dirs.get(dataDir)!), { snap: ino(join(dataDir, 'snap')), wal: ino(join(dataDir, 'wal')) });
  const again = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.same(again, {
    filesTruncated: 0,
    bytesCut: 0,
    filesRemoved: 0,
    dirsRemoved: 0,
    tornPieces: 0,
    tornSectors: 0,
    undetermined: 0,
    removed: [],
  });
  t.equal(statSync(seg).size, size);
});

t.test('a torn last journal line is ignored; garbage anywhere else refuses the cut and changes nothing', async (t) => {
  const { dataDir, journal } = fixture(t);
  const seg = join(dataDir, 'wal', '0001.wal');
  writeFileSync(seg, bytes(1000));
  const good = dirsDurable(dataDir) + fileLine(seg, 400);
  writeFileSync(journal, `${good}{"ino":${ino(seg)},"dura`);
  applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.9]) });
  t.equal(statSync(seg).size, 400, 'the torn line promised nothing');

  const refused = (text: string, pattern: RegExp, why: string): void => {
    writeFileSync(seg, bytes(1000));
    writeFileSync(join(dataDir, 'wal', 'new'), bytes(5));
    writeFileSync(journal, text);
    t.throws(() => applyPowerCut({ dataDir, journalPath: journal, random: scripted([0.9]) }), pattern, why);
    t.equal(statSync(seg).size, 1000, `${why}: nothing cut`);
    t.ok(existsSync(join(dataDir, 'wal', 'new')), `${why}: nothing removed`);
    rmSync(join(dataDir, 'wal', 'new'));
  };
  refused(`garbage\n${good}`, /line 1 is not JSON: "garbage"/, 'a line that is not JSON');
  refused(`${good}{"ino":1,"dura\n${good}`, /line \d+ is not JSON/, 'a torn line that is not the last');
  refused(`${good}{"hello":"world"}\n`, /line \d+ is not a disk-probe record/, 'JSON that is not a record');
  refused(`${good}{"ino":-1,"durable":5,"path":"x"}\n`, /not a disk-probe record/, 'a negative inode');
  refused(`${good}{"ino":5,"durable":1.5,"path":"x"}\n`, /not a disk-probe record/, 'a fractional size');
  refused(`${good}{"dir":"/x","entries":{"a":"b"}}\n`, /not a disk-probe record/, 'an entry that is not an inode');
  refused(`${good}[1,2]\n`, /not a disk-probe record/, 'an array');
  t.throws(
    () => parseDiskJournal('\u0000\u0001binary', 'j'),
    PowerCutError,
    'a binary file, torn or not, is no journal: it is a single torn line',
  );
});

t.test('a journal past the size bound is refused', async (t) => {
  const { dataDir, journal } = fixture(t);
  writeFileSync(join(dataDir, 'wal', 'x'), bytes(3));
  writeFileSync(journal, '');
  truncateSync(journal, journalBytesMax + 1);
  t.throws(() => applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) }), /is \d+ bytes, above/);
  t.ok(existsSync(join(dataDir, 'wal', 'x')));
});

t.test('the same seed cuts the same tree the same way', async (t) => {
  const run = (seed: number): { sizes: number[]; tails: string[] } => {
    const { dataDir, journal } = fixture(t);
    const files = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => join(dataDir, 'wal', n));
    for (const f of files) writeFileSync(f, bytes(2000, 0x5a));
    writeFileSync(journal, dirsDurable(dataDir) + files.map((f) => fileLine(f, 1000)).join(''));
    applyPowerCut({ dataDir, journalPath: journal, random: seededRandom(seed) });
    return {
      sizes: files.map((f) => statSync(f).size),
      tails: files.map((f) => readFileSync(f).subarray(1000).toString('hex')),
    };
  };
  t.same(run(7), run(7));
  const spread = new Set([1, 2, 3, 4, 5].flatMap((s) => run(s).sizes));
  t.ok(
    spread.has(1000) && [...spread].some((s) => s > 1000),
    `cut to the durable bytes and torn pieces both drawn: ${[...spread].join(',')}`,
  );
});

t.test('the result lists what it removed, up to a bound; the counts count everything', async (t) => {
  const { dataDir, journal } = fixture(t);
  for (let i = 0; i < removedListedMax + 5; i++) writeFileSync(join(dataDir, 'wal', `seg-${String(i).padStart(2, '0')}`), bytes(1));
  writeFileSync(journal, dirLine(dataDir, ['snap', 'wal']) + dirLine(join(dataDir, 'wal'), []) + dirLine(join(dataDir, 'snap'), []));
  const result = applyPowerCut({ dataDir, journalPath: journal, random: scripted([]) });
  t.equal(result.filesRemoved, removedListedMax + 5);
  t.equal(result.removed.length, removedListedMax);
  t.equal(result.removed[0], join('wal', 'seg-00'), 'relative to the data dir, in name order');
});
