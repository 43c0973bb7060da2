import t from 'tap';
import fc from 'fast-check';
import { AssertionError, type Entry, type Snapshot } from '../../src/index.js';
import { Unstable } from '../../src/raft/unstable.js';
import { checkProperty } from '../support/property.js';

/** Entries from `first` on, one per term given. */
function entries(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ index: first + i, term, type: 'normal' as const, data: new Uint8Array(0) }));
}

function snapshot(index: number, term: number): Snapshot {
  return { meta: { index, term, conf: { voters: [1], learners: [], votersOutgoing: [] } }, data: new Uint8Array(0) };
}

function unstable(offset: number, ents: Entry[] = [], snap: Snapshot | null = null): Unstable {
  const u = new Unstable(offset);
  u.entries = ents;
  u.snapshot = snap;
  return u;
}

const layout = (u: Unstable): string => `offset ${u.offset}: ${u.entries.map((e) => `${e.index}@${e.term}`).join(' ')}`;

t.test('first and last index: known only from what is unstable', async (t) => {
  t.equal(unstable(5).firstIndexIfKnown(), undefined, 'no snapshot: the first index is the storage’s');
  t.equal(unstable(5, entries(5, 1)).firstIndexIfKnown(), undefined, 'entries alone do not say where the log starts');
  t.equal(unstable(5, [], snapshot(4, 1)).firstIndexIfKnown(), 5, 'a pending snapshot does');
  t.equal(unstable(5, entries(5, 1), snapshot(4, 1)).firstIndexIfKnown(), 5);

  t.equal(unstable(5).lastIndexIfKnown(), undefined, 'nothing unstable');
  t.equal(unstable(5, entries(5, 1, 1)).lastIndexIfKnown(), 6, 'the last unstable entry');
  t.equal(unstable(5, [], snapshot(4, 1)).lastIndexIfKnown(), 4, 'a snapshot without entries after it');
  t.equal(unstable(5, entries(5, 1), snapshot(4, 1)).lastIndexIfKnown(), 5, 'entries after the snapshot');
});

t.test('termIfKnown: unstable entries and the pending snapshot, nothing else', async (t) => {
  const withEntries = unstable(5, entries(5, 1, 2));
  t.equal(withEntries.termIfKnown(5), 1);
  t.equal(withEntries.termIfKnown(6), 2);
  t.equal(withEntries.termIfKnown(7), undefined, 'past the end');
  t.equal(withEntries.termIfKnown(4), undefined, 'before the offset: the storage knows');

  const withSnapshot = unstable(5, entries(5, 3), snapshot(4, 2));
  t.equal(withSnapshot.termIfKnown(4), 2, 'the snapshot’s own index');
  t.equal(withSnapshot.termIfKnown(5), 3);
  t.equal(withSnapshot.termIfKnown(3), undefined, 'before the snapshot');
  t.equal(withSnapshot.termIfKnown(6), undefined);

  t.equal(unstable(5, [], snapshot(4, 2)).termIfKnown(5), undefined, 'a snapshot and no entries: nothing after it');
  t.equal(unstable(5).termIfKnown(5), undefined, 'nothing unstable');
});

t.test('stableTo drops entries the caller made durable, and only if they are still the same', async (t) => {
  const cases: [Unstable, number, number, string, string][] = [
    [unstable(5), 5, 1, 'offset 5: ', 'nothing unstable: ignored'],
    [unstable(5, entries(5, 1)), 5, 1, 'offset 6: ', 'the only entry'],
    [unstable(5, entries(5, 1, 1)), 5, 1, 'offset 6: 6@1', 'a prefix'],
    [unstable(5, entries(5, 1, 2)), 6, 2, 'offset 7: ', 'everything'],
    [unstable(6, entries(6, 2)), 6, 1, 'offset 6: 6@2', 'term mismatch: the entry was replaced meanwhile'],
    [unstable(5, entries(5, 1)), 4, 1, 'offset 5: 5@1', 'before the offset: already stable'],
    [unstable(5, entries(5, 1)), 6, 1, 'offset 5: 5@1', 'past the end: not ours'],
    [unstable(5, [], snapshot(4, 1)), 4, 1, 'offset 5: ', 'the snapshot’s index is not an entry'],
  ];
  for (const [u, index, term, expected, what] of cases) {
    u.stableTo(index, term);
    t.equal(layout(u), expected, what);
  }
});

t.test('stableTo asserts that the snapshot before the entries was made durable first', async (t) => {
  const u = unstable(5, entries(5, 1), snapshot(4, 1));
  t.throws(() => u.stableTo(5, 1), AssertionError, 'entries after a pending snapshot');
  t.equal(layout(u), 'offset 5: 5@1', 'unchanged');
  u.stableSnapshotTo(4);
  u.stableTo(5, 1);
  t.equal(layout(u), 'offset 6: ', 'in order, both become durable');
});

t.test('stableSnapshotTo clears only the matching snapshot', async (t) => {
  const u = unstable(5, [], snapshot(4, 1));
  u.stableSnapshotTo(3);
  t.not(u.snapshot, null, 'another index: still pending');
  u.stableSnapshotTo(4);
  t.equal(u.snapshot, null);
  u.stableSnapshotTo(4);
  t.equal(u.snapshot, null, 'twice is harmless');
});

t.test('restore replaces everything with the snapshot', async (t) => {
  const u = unstable(5, entries(5, 1, 1, 1));
  const snap = snapshot(20, 3);
  u.restore(snap);
  t.equal(u.offset, 21);
  t.equal(u.entries.length, 0);
  t.equal(u.snapshot, snap);
  t.equal(u.termIfKnown(20), 3);
  t.equal(u.lastIndexIfKnown(), 20);
});

t.test('truncateAndAppend in each overlap case', async (t) => {
  const cases: [Unstable, Entry[], string, string][] = [
    [unstable(5, entries(5, 1)), entries(6, 1, 1), 'offset 5: 5@1 6@1 7@1', 'right after the last: appended'],
    [unstable(5), entries(5, 2), 'offset 5: 5@2', 'nothing unstable: appended at the offset'],
    [unstable(5, entries(5, 1)), entries(5, 2, 2), 'offset 5: 5@2 6@2', 'at the offset: replaces every unstable entry'],
    [unstable(5, entries(5, 1)), entries(4, 2, 2, 2), 'offset 4: 4@2 5@2 6@2', 'before the offset: shadows stable entries too'],
    [unstable(5, entries(5, 1, 1, 1)), entries(6, 2), 'offset 5: 5@1 6@2', 'in the middle: truncates there'],
    [unstable(5, entries(5, 1, 1, 1)), entries(7, 2, 2), 'offset 5: 5@1 6@1 7@2 8@2', 'at the last: replaces it'],
    [unstable(5, [], snapshot(4, 1)), entries(5, 2), 'offset 5: 5@2', 'right after a pending snapshot'],
  ];
  for (const [u, ents, expected, what] of cases) {
    u.truncateAndAppend(ents);
    t.equal(layout(u), expected, what);
  }

  const caller = entries(5, 1, 1);
  const u = unstable(5);
  u.truncateAndAppend(caller);
  u.truncateAndAppend(entries(6, 2));
  t.equal(caller.length, 2, "the caller's array is not modified");
  t.equal(caller[1]!.term, 1);
});

t.test('truncateAndAppend asserts: no empty batch, no gap, no rewriting a pending snapshot', async (t) => {
  t.throws(() => unstable(5).truncateAndAppend([]), AssertionError, 'an empty batch');
  const gap = unstable(5, entries(5, 1));
  t.throws(() => gap.truncateAndAppend(entries(7, 1)), AssertionError, 'a batch after a gap');
  t.equal(layout(gap), 'offset 5: 5@1', 'unchanged');
  const snap = unstable(5, entries(5, 1), snapshot(4, 1));
  t.throws(() => snap.truncateAndAppend(entries(4, 2)), AssertionError, 'a batch that rewrites the pending snapshot’s entry');
  t.equal(snap.offset, 5, 'the snapshot still sits right before the offset');
});

t.test('slice is bounded by the unstable entries', async (t) => {
  const u = unstable(5, entries(5, 1, 2, 3));
  t.strictSame(
    u.slice(5, 8).map((e) => e.index),
    [5, 6, 7],
  );
  t.strictSame(
    u.slice(6, 7).map((e) => e.index),
    [6],
  );
  t.strictSame(u.slice(8, 8), [], 'an empty range at the end');
  t.throws(() => u.slice(4, 6), AssertionError, 'below the offset');
  t.throws(() => u.slice(6, 9), AssertionError, 'past the last entry');
  t.throws(() => u.slice(7, 6), AssertionError, 'lo above hi');
});

// ---- property: the index invariant under any sequence of operations ---------------------------

type Op =
  | { kind: 'append'; back: number; terms: number[] }
  | { kind: 'stable'; back: number; sameTerm: boolean }
  | { kind: 'restore'; ahead: number }
  | { kind: 'stableSnapshot' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('append' as const),
    back: fc.nat(4),
    terms: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('stable' as const), back: fc.nat(4), sameTerm: fc.boolean() }),
  fc.record({ kind: fc.constant('restore' as const), ahead: fc.nat(3) }),
  fc.constant({ kind: 'stableSnapshot' as const }),
);

t.test('property: entries[i].index = offset + i, a snapshot sits at offset - 1, and unstable terms follow a model log', async (t) => {
  checkProperty(
    t,
    'unstable invariants',
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const u = new Unstable(1);
      // The whole log as the caller would see it: index -> term (stable or not).
      const model = new Map<number, number>();
      for (const op of ops) {
        const last = u.offset + u.entries.length - 1;
        switch (op.kind) {
          case 'append': {
            // Anywhere from a few entries back to right after the last, but never over a pending snapshot.
            const floor = u.snapshot ? u.snapshot.meta.index + 1 : 1;
            const first = Math.max(floor, last + 1 - op.back);
            u.truncateAndAppend(entries(first, ...op.terms));
            for (const index of [...model.keys()]) if (index >= first) model.delete(index);
            op.terms.forEach((term, i) => model.set(first + i, term));
            break;
          }
          case 'stable': {
            if (u.snapshot) u.stableSnapshotTo(u.snapshot.meta.index);
            const index = last - op.back;
            const term = u.termIfKnown(index);
            u.stableTo(index, op.sameTerm ? (term ?? 0) : 99);
            break;
          }
          case 'restore': {
            const index = last + op.ahead;
            u.restore(snapshot(index, 7));
            model.clear();
            model.set(index, 7);
            break;
          }
          case 'stableSnapshot':
            if (u.snapshot) u.stableSnapshotTo(u.snapshot.meta.index);
            break;
        }
        u.entries.forEach((e, i) => {
          if (e.index !== u.offset + i) throw new Error(`after ${JSON.stringify(op)}: entry ${i} has index ${e.index}, ${layout(u)}`);
          if (model.get(e.index) !== e.term)
            throw new Error(`after ${JSON.stringify(op)}: ${e.index}@${e.term}, the model says ${model.get(e.index)}`);
        });
        if (u.snapshot && u.snapshot.meta.index !== u.offset - 1) {
          throw new Error(`after ${JSON.stringify(op)}: snapshot at ${u.snapshot.meta.index}, offset ${u.offset}`);
        }
      }
      return true;
    }),
  );
});
