import t from 'tap';
import fc from 'fast-check';
import { AssertionError, MemoryStorage, entryBytes, type Entry, type Snapshot } from '../../src/index.js';
import { RaftLog } from '../../src/raft/raft-log.js';
import { checkProperty } from '../support/property.js';

const conf = { voters: [1], learners: [], votersOutgoing: [] };

/** Entries from `first` on, one per term given; each carries 4 bytes of data. */
function entries(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ index: first + i, term, type: 'normal' as const, data: new Uint8Array(4) }));
}

function snapshot(index: number, term: number): Snapshot {
  return { meta: { index, term, conf }, data: new Uint8Array(0) };
}

/** A storage compacted up to a snapshot at `snapIndex` (of `snapTerm`), then holding `stable`. */
function storageWith(stable: Entry[], snapIndex = 0, snapTerm = 0): MemoryStorage {
  const storage = new MemoryStorage(conf);
  if (snapIndex > 0) storage.applySnapshot(snapshot(snapIndex, snapTerm));
  storage.append(stable);
  return storage;
}

/** Terms of the whole log from firstIndex - 1 (the snapshot's entry) to lastIndex, as "index@term". */
function terms(log: RaftLog): string {
  const out: string[] = [];
  for (let i = log.firstIndex() - 1; i <= log.lastIndex(); i++) out.push(`${i}@${log.term(i)}`);
  return out.join(' ');
}

const indexes = (ents: readonly Entry[] | undefined): number[] | undefined => ents?.map((e) => e.index);

t.test('a new log starts where its storage ends, with everything in it committed and applied', async (t) => {
  const empty = new RaftLog(new MemoryStorage(conf));
  t.equal(empty.firstIndex(), 1);
  t.equal(empty.lastIndex(), 0);
  t.equal(empty.lastTerm(), 0, 'the empty log’s last term is the dummy entry’s');
  t.equal(empty.committed, 0);
  t.equal(empty.applied, 0);

  const log = new RaftLog(storageWith(entries(11, 2, 3), 10, 2));
  t.equal(log.firstIndex(), 11);
  t.equal(log.lastIndex(), 12);
  t.equal(log.lastTerm(), 3);
  t.equal(log.committed, 10, 'the snapshot is committed');
  t.equal(log.applied, 10, 'and applied');
  t.equal(log.unstable.offset, 13, 'nothing is unstable');
});

t.test('term: answered from the snapshot boundary to the last index, across stable and unstable', async (t) => {
  const log = new RaftLog(storageWith(entries(11, 2, 3), 10, 2));
  log.append(entries(13, 4));
  t.equal(log.term(9), undefined, 'compacted');
  t.equal(log.term(10), 2, 'the snapshot’s index: its term is kept for matching');
  t.equal(log.term(11), 2, 'stable');
  t.equal(log.term(12), 3, 'stable');
  t.equal(log.term(13), 4, 'unstable');
  t.equal(log.term(14), undefined, 'past the end');
  t.ok(log.isCompacted(9));
  t.notOk(log.isCompacted(10), 'the boundary entry is not compacted: its term is known');
  t.ok(log.matchTerm(10, 2));
  t.notOk(log.matchTerm(9, 0), 'a compacted index matches no term');
  t.notOk(log.matchTerm(14, 0), 'an index past the end matches no term');
});

t.test('term with a pending snapshot: the unstable snapshot hides the older stable log', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1, 1, 1, 1)));
  log.restore(snapshot(8, 3));
  t.equal(log.firstIndex(), 9);
  t.equal(log.lastIndex(), 8);
  t.equal(log.lastTerm(), 3);
  t.equal(log.term(8), 3, 'from the pending snapshot');
  t.equal(log.term(5), undefined, 'the storage still has 5, but it is below the snapshot');
  t.equal(log.committed, 8, 'a restored snapshot is committed');
  t.equal(log.snapshot().meta.index, 8, 'the pending snapshot is the one to send');
  t.equal(log.nextUnstableSnapshot()?.meta.index, 8);
  log.stableSnapshotTo(8);
  t.equal(log.nextUnstableSnapshot(), null);
});

t.test('restore asserts that the snapshot is past the commit index', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1, 1)));
  log.commitTo(3);
  t.throws(() => log.restore(snapshot(3, 1)), AssertionError, 'a snapshot at the commit index');
  t.throws(() => log.restore(snapshot(2, 1)), AssertionError, 'an older snapshot would move commit back');
  t.equal(log.committed, 3);
  t.equal(log.lastIndex(), 3, 'the log was left alone');
  log.restore(snapshot(4, 1));
  t.equal(log.committed, 4);
});

t.test('isUpToDate (§5.4.1): a higher last term wins, an equal one needs at least our length', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 2, 3)));
  const cases: [number, number, boolean, string][] = [
    [2, 4, true, 'higher term, shorter log'],
    [3, 4, true, 'higher term, same length'],
    [4, 4, true, 'higher term, longer log'],
    [2, 2, false, 'lower term, shorter log'],
    [4, 2, false, 'lower term, longer log'],
    [2, 3, false, 'same term, shorter log'],
    [3, 3, true, 'same term, same length'],
    [4, 3, true, 'same term, longer log'],
  ];
  for (const [lastIndex, lastTerm, expected, what] of cases) t.equal(log.isUpToDate(lastIndex, lastTerm), expected, what);
});

t.test('maybeAppend: matching, extending, conflicting and stale appends', async (t) => {
  // The log is 1@1 2@2 3@3, committed 1.
  const fresh = (): RaftLog => {
    const log = new RaftLog(storageWith(entries(1, 1, 2, 3)));
    log.commitTo(1);
    return log;
  };
  const cases: [number, number, number, Entry[], number | undefined, number, string, string][] = [
    // [prev index, prev term, leader commit, entries, lastNew, committed after, log after, what]
    [3, 2, 3, entries(4, 4), undefined, 1, '0@0 1@1 2@2 3@3', 'prev term mismatch: refused, nothing changes'],
    [4, 3, 3, entries(5, 4), undefined, 1, '0@0 1@1 2@2 3@3', 'prev index past our end: refused'],
    [3, 3, 3, [], 3, 3, '0@0 1@1 2@2 3@3', 'a heartbeat-like append that matches our last entry'],
    [3, 3, 4, [], 3, 3, '0@0 1@1 2@2 3@3', 'commit is capped at the last new entry'],
    [3, 3, 0, [], 3, 1, '0@0 1@1 2@2 3@3', 'a lower leader commit never lowers ours'],
    [3, 3, 5, entries(4, 4, 4), 5, 5, '0@0 1@1 2@2 3@3 4@4 5@4', 'new entries after our last'],
    [1, 1, 3, entries(2, 2), 2, 2, '0@0 1@1 2@2 3@3', 'entries we already have: lastNew is the message’s, our tail stays'],
    [1, 1, 3, entries(2, 2, 3), 3, 3, '0@0 1@1 2@2 3@3', 'all of them already here'],
    [1, 1, 1, entries(2, 4), 2, 1, '0@0 1@1 2@4', 'a conflict truncates our tail there'],
    [2, 2, 2, entries(3, 4, 4), 4, 2, '0@0 1@1 2@2 3@4 4@4', 'conflict at the last entry, then more'],
    [0, 0, 1, entries(1, 1, 2, 5), 3, 1, '0@0 1@1 2@2 3@5', 'matching prefix skipped, conflict found after it'],
  ];
  for (const [index, logTerm, commit, ents, lastNew, committed, after, what] of cases) {
    const log = fresh();
    t.equal(log.maybeAppend(index, logTerm, commit, ents), lastNew, `${what}: lastNew`);
    t.equal(log.committed, committed, `${what}: committed`);
    t.equal(terms(log), after, `${what}: log`);
  }
  const committed = fresh();
  committed.commitTo(2);
  t.throws(() => committed.maybeAppend(1, 1, 3, entries(2, 5)), AssertionError, 'a conflict at a committed entry is a broken leader');
  t.equal(terms(committed), '0@0 1@1 2@2 3@3', 'and changes nothing');
});

t.test('append: truncates what conflicts, asserts against rewriting committed entries or leaving gaps', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1, 1)));
  t.equal(log.append([]), 3, 'nothing to append: the last index');
  t.equal(log.append(entries(4, 2)), 4);
  t.equal(log.append(entries(3, 3, 3)), 4, 'replaces a stable entry and the unstable one after it');
  t.equal(terms(log), '0@0 1@1 2@1 3@3 4@3');
  t.strictSame(indexes(log.nextUnstableEntries()), [3, 4], 'the replacement is unstable until the caller persists it');
  log.commitTo(2);
  t.throws(() => log.append(entries(2, 9)), AssertionError, 'rewriting committed entry 2');
  t.throws(() => log.append(entries(6, 9)), AssertionError, 'a gap after 4');
  t.equal(terms(log), '0@0 1@1 2@1 3@3 4@3', 'the refused appends changed nothing');
  t.equal(log.append(entries(3, 4)), 3, 'right after the commit index is allowed');
});

t.test('firstIndexOfTermAt: the start of the term run, not below commit + 1 or the first index', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1, 2, 2, 2, 3)));
  t.equal(log.firstIndexOfTermAt(5), 3, 'the run of term 2 starts at 3');
  t.equal(log.firstIndexOfTermAt(6), 6, 'a run of one');
  t.equal(log.firstIndexOfTermAt(2), 1, 'down to the first index');
  log.commitTo(3);
  t.equal(log.firstIndexOfTermAt(5), 4, 'not below commit + 1: those entries match the leader already');
  t.throws(() => log.firstIndexOfTermAt(7), AssertionError, 'an index past the end has no term');

  const compacted = new RaftLog(storageWith(entries(11, 2, 2, 2), 10, 2));
  t.equal(compacted.firstIndexOfTermAt(13), 11, 'the run continues into the snapshot, but the search stops at the first index');
});

t.test('lastIndexOfTerm: the last index at or below `from` with the term, scanning down while terms are higher', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1, 2, 2, 4)));
  t.equal(log.lastIndexOfTerm(2, 5), 4);
  t.equal(log.lastIndexOfTerm(2, 3), 3, 'from bounds the search');
  t.equal(log.lastIndexOfTerm(1, 99), 2, 'from past the end starts at the last index');
  t.equal(log.lastIndexOfTerm(3, 5), undefined, 'no entry of term 3: stops at the first lower term');
  t.equal(log.lastIndexOfTerm(4, 3), undefined, 'term 4 only after from');
  t.equal(log.lastIndexOfTerm(0, 5), 0, 'the dummy entry has term 0');

  const compacted = new RaftLog(storageWith(entries(11, 3, 3), 10, 2));
  t.equal(compacted.lastIndexOfTerm(2, 12), 10, 'the snapshot’s entry is found at the boundary');
  t.equal(compacted.lastIndexOfTerm(1, 12), undefined, 'nothing below the boundary is searched');
});

t.test('slice and entriesFrom: across storage and unstable, bounded by bytes, undefined when compacted', async (t) => {
  const log = new RaftLog(storageWith(entries(11, 1, 1, 1), 10, 1));
  log.append(entries(14, 2, 2));
  const size = entryBytes(entries(1, 1)[0]!);
  const all = Number.MAX_SAFE_INTEGER;
  t.strictSame(indexes(log.slice(11, 16, all)), [11, 12, 13, 14, 15], 'stable then unstable');
  t.strictSame(indexes(log.slice(12, 15, all)), [12, 13, 14], 'a middle range across the boundary');
  t.strictSame(indexes(log.slice(14, 16, all)), [14, 15], 'unstable only');
  t.strictSame(indexes(log.slice(11, 13, all)), [11, 12], 'stable only');
  t.strictSame(log.slice(12, 12, all), [], 'an empty range');
  t.strictSame(log.slice(13, 12, all), [], 'a reversed range is empty');
  t.equal(log.slice(10, 12, all), undefined, 'the snapshot’s entry is compacted');
  t.equal(log.slice(5, 12, all), undefined, 'compacted');
  t.throws(() => log.slice(14, 17, all), AssertionError, 'past the last index');

  t.strictSame(indexes(log.slice(11, 16, 0)), [11], 'at least one entry, whatever the limit');
  t.strictSame(indexes(log.slice(11, 16, 2 * size)), [11, 12], 'the limit stops inside the stable part');
  t.strictSame(indexes(log.slice(12, 16, 3 * size)), [12, 13, 14], 'the limit stops inside the unstable part');
  t.strictSame(indexes(log.slice(11, 16, 5 * size - 1)), [11, 12, 13, 14], 'one byte short of five entries');

  const mixed = new RaftLog(storageWith([...entries(1, 1), { index: 2, term: 1, type: 'normal', data: new Uint8Array(100) }]));
  mixed.append(entries(3, 1));
  t.strictSame(indexes(mixed.slice(1, 4, 2 * size)), [1], 'a large stable entry stops the slice: what follows it is not spliced on');

  t.strictSame(indexes(log.entriesFrom(13, all)), [13, 14, 15]);
  t.strictSame(log.entriesFrom(16, all), [], 'from past the end: nothing to send');
  t.equal(log.entriesFrom(10, all), undefined, 'compacted: a snapshot must be sent');
});

t.test('compaction boundaries: after the storage compacts, terms and slices stop at the new first index', async (t) => {
  const storage = storageWith(entries(1, 1, 1, 2, 2, 2, 3));
  const log = new RaftLog(storage);
  log.commitTo(3);
  log.appliedTo(3);
  storage.createSnapshot(3, conf, new Uint8Array(0));
  storage.compact(3);
  t.equal(log.firstIndex(), 4);
  t.equal(log.term(3), 2, 'the compacted boundary entry keeps its term');
  t.equal(log.term(2), undefined);
  t.ok(log.isCompacted(2));
  t.notOk(log.isCompacted(3));
  t.equal(log.slice(3, 5, Number.MAX_SAFE_INTEGER), undefined, 'slicing from the boundary: compacted');
  t.strictSame(indexes(log.slice(4, 6, Number.MAX_SAFE_INTEGER)), [4, 5]);
  t.equal(log.entriesFrom(3, Number.MAX_SAFE_INTEGER), undefined, 'a follower that needs 3 needs the snapshot');
  t.equal(log.lastIndexOfTerm(1, 6), undefined, 'the term-1 entries are gone');
  t.equal(log.lastIndexOfTerm(2, 6), 5);
  t.equal(log.firstIndexOfTermAt(5), 4, 'the run of term 2 (from 3) is cut at the first index');
  t.notOk(log.hasNextCommittedEntries());
  log.commitTo(5);
  t.strictSame(indexes(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER)), [4, 5], 'committed but not applied: from the first index');
});

t.test('commitTo never lowers the commit index and asserts it stays within the log', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 2, 3)));
  log.commitTo(2);
  t.equal(log.committed, 2);
  log.commitTo(1);
  t.equal(log.committed, 2, 'a lower index is ignored');
  log.commitTo(3);
  t.equal(log.committed, 3);
  t.throws(() => log.commitTo(4), AssertionError, 'committing past the last index means the log was lost');
  t.equal(log.committed, 3);
});

t.test('maybeCommit (§5.4.2): only an entry of the current term commits by counting', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 2, 2, 3)));
  t.notOk(log.maybeCommit(3, 3), 'entry 3 is of term 2, not the current term 3');
  t.equal(log.committed, 0);
  t.ok(log.maybeCommit(3, 2), 'the right term');
  t.equal(log.committed, 3);
  t.notOk(log.maybeCommit(2, 2), 'not above the commit index');
  t.notOk(log.maybeCommit(3, 2), 'already committed');
  t.notOk(log.maybeCommit(9, 3), 'past the end (an empty voter set answers every index)');
  t.notOk(log.maybeCommit(Number.MAX_SAFE_INTEGER, 3));
  t.ok(log.maybeCommit(4, 3));
  t.equal(log.committed, 4);
});

t.test('appliedTo and the committed entries handed to the application', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1)));
  log.append(entries(3, 2, 2));
  t.notOk(log.hasNextCommittedEntries());
  t.strictSame(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER), []);
  log.commitTo(3);
  t.ok(log.hasNextCommittedEntries());
  t.strictSame(indexes(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER)), [1, 2, 3], 'stable and unstable committed entries');
  t.strictSame(indexes(log.nextCommittedEntries(0)), [1], 'bounded by bytes, at least one');
  log.appliedTo(0);
  t.equal(log.applied, 0, 'appliedTo(0) is a no-op');
  log.appliedTo(2);
  t.strictSame(indexes(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER)), [3]);
  t.throws(() => log.appliedTo(4), AssertionError, 'applying past the commit index');
  t.throws(() => log.appliedTo(1), AssertionError, 'applied never goes back');
  log.appliedTo(3);
  t.notOk(log.hasNextCommittedEntries());
  t.strictSame(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER), []);
});

t.test('a restored snapshot hands out no committed entries: the snapshot is applied instead', async (t) => {
  const log = new RaftLog(storageWith(entries(1, 1, 1)));
  log.commitTo(1);
  log.restore(snapshot(10, 2));
  t.notOk(log.hasNextCommittedEntries(), 'applied 0 < committed 10, but everything up to 10 is in the snapshot');
  t.strictSame(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER), []);
  log.append(entries(11, 2));
  log.commitTo(11);
  t.strictSame(indexes(log.nextCommittedEntries(Number.MAX_SAFE_INTEGER)), [11], 'entries after the snapshot');
});

t.test('stableTo moves entries from unstable to durable only when they still match', async (t) => {
  const storage = storageWith(entries(1, 1));
  const log = new RaftLog(storage);
  log.append(entries(2, 1, 1));
  storage.append(log.nextUnstableEntries());
  log.stableTo(3, 9);
  t.strictSame(indexes(log.nextUnstableEntries()), [2, 3], 'a term mismatch is ignored');
  log.stableTo(3, 1);
  t.strictSame(log.nextUnstableEntries(), []);
  t.equal(terms(log), '0@0 1@1 2@1 3@1', 'read from storage now');
});

// ---- property: the log against a plain array of terms -----------------------------------------

type Op =
  | { kind: 'append'; at: number; prevTermRight: boolean; terms: number[]; commit: number }
  | { kind: 'persist' }
  | { kind: 'compact'; back: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      at: fc.nat(20),
      prevTermRight: fc.boolean(),
      terms: fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }),
      commit: fc.nat(20),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'persist' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(3) }) },
);

t.test('property: maybeAppend, persistence and compaction keep the log equal to a model array', async (t) => {
  checkProperty(
    t,
    'raft log = model log',
    fc.property(fc.array(opArb, { maxLength: 50 }), (ops) => {
      const storage = new MemoryStorage(conf);
      const log = new RaftLog(storage);
      // model[i] is the term at index i; index 0 is the dummy of term 0.
      let model: number[] = [0];
      let committed = 0;
      for (const op of ops) {
        const fail = (what: string): never => {
          throw new Error(`after ${JSON.stringify(op)}: ${what}\nlog   ${terms(log)}\nmodel ${model.join(',')} committed ${committed}`);
        };
        switch (op.kind) {
          case 'append': {
            // As a follower receives it: prev at or after our commit index (handleAppend answers older ones itself).
            const index = Math.max(committed, log.firstIndex() - 1, Math.min(op.at, model.length));
            const prevTerm = op.prevTermRight && index < model.length ? model[index]! : 9;
            const ents = entries(index + 1, ...op.terms);
            const expectedMatch = index < model.length && model[index] === prevTerm;
            const lastNew = log.maybeAppend(index, prevTerm, op.commit, ents);
            if (!expectedMatch) {
              if (lastNew !== undefined) fail('an append that does not match was accepted');
              break;
            }
            if (lastNew !== index + ents.length) fail(`lastNew ${lastNew}`);
            const conflict = ents.findIndex((e) => model[e.index] !== e.term);
            if (conflict >= 0) model = model.slice(0, ents[conflict]!.index).concat(ents.slice(conflict).map((e) => e.term));
            committed = Math.max(committed, Math.min(op.commit, index + ents.length));
            break;
          }
          case 'persist': {
            storage.append(log.nextUnstableEntries());
            const last = log.nextUnstableEntries().at(-1);
            if (last) log.stableTo(last.index, last.term);
            if (log.nextUnstableEntries().length > 0) fail('persisted entries stayed unstable');
            break;
          }
          case 'compact': {
            // Only committed entries that are durable (below the unstable offset) can be compacted.
            const index = Math.min(committed, log.unstable.offset - 1) - op.back;
            if (index < storage.firstIndex()) break;
            storage.compact(index);
            break;
          }
        }
        if (log.committed !== committed) fail(`committed ${log.committed}`);
        if (log.lastIndex() !== model.length - 1) fail(`last index ${log.lastIndex()}`);
        for (let i = 0; i < model.length; i++) {
          const expected = i < log.firstIndex() - 1 ? undefined : model[i];
          if (log.term(i) !== expected) fail(`term(${i}) = ${log.term(i)}, expected ${expected}`);
        }
        const all = log.slice(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
        if (!all || all.some((e, i) => e.index !== log.firstIndex() + i || e.term !== model[e.index])) fail('slice of the whole log');
      }
      return true;
    }),
  );
});
