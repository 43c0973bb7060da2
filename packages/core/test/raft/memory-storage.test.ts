// MemoryStorage against a plain model of a Raft log: appends that extend, overlap, replace a
// conflicting suffix or reach below the first index; compaction; and the arrays it hands out,
// which later appends must never change (it appends in place).
import t from 'tap';
import fc from 'fast-check';
import { AssertionError, MemoryStorage, type Entry } from '../../src/index.js';
import { checkProperty } from '../support/property.js';

const conf = { voters: [1], learners: [], votersOutgoing: [] };

function entries(first: number, ...terms: number[]): Entry[] {
  return terms.map((term, i) => ({ index: first + i, term, type: 'normal' as const, data: new Uint8Array([term]) }));
}

/** "index@term" of every entry from firstIndex to lastIndex. */
function terms(storage: MemoryStorage): string {
  const out: string[] = [];
  for (let i = storage.firstIndex(); i <= storage.lastIndex(); i++) out.push(`${i}@${storage.term(i)}`);
  return out.join(' ');
}

t.test('append extends, replaces a conflicting suffix, skips what lies below the first index', async (t) => {
  const storage = new MemoryStorage(conf);
  storage.append(entries(1, 1, 1, 1));
  t.equal(terms(storage), '1@1 2@1 3@1');
  storage.append(entries(4, 2, 2));
  t.equal(terms(storage), '1@1 2@1 3@1 4@2 5@2', 'at the end');
  storage.append(entries(3, 3));
  t.equal(terms(storage), '1@1 2@1 3@3', 'from inside: the suffix after it goes');
  storage.createSnapshot(2, conf, new Uint8Array());
  storage.compact(2);
  storage.append(entries(1, 3, 3, 3, 4));
  t.equal(terms(storage), '3@3 4@4', 'entries at or below the snapshot are skipped');
  storage.append(entries(1, 9));
  t.equal(terms(storage), '3@3 4@4', 'all below the first index: nothing');
  t.throws(() => storage.append(entries(6, 4)), AssertionError, 'a gap after 4');
  t.equal(terms(storage), '3@3 4@4', 'the refused append changed nothing');
});

t.test('what entries() returned does not change when the log is appended to or truncated', async (t) => {
  const storage = new MemoryStorage(conf);
  storage.append(entries(1, 1, 1, 1));
  const before = storage.entries(1, 4, Number.MAX_SAFE_INTEGER);
  storage.append(entries(2, 2, 2, 2));
  storage.append(entries(5, 2));
  t.same(
    before.map((e) => `${e.index}@${e.term}`),
    ['1@1', '2@1', '3@1'],
  );
  t.equal(terms(storage), '1@1 2@2 3@2 4@2 5@2');
});

type Op = { kind: 'append'; at: number; terms: number[] } | { kind: 'compact'; at: number };

t.test('property: any sequence of appends and compactions matches a plain array model', async (t) => {
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant('append' as const),
      at: fc.nat({ max: 40 }),
      terms: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 8 }),
    }),
    fc.record({ kind: fc.constant('compact' as const), at: fc.nat({ max: 40 }) }),
  );
  checkProperty(
    t,
    'MemoryStorage matches the model',
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const storage = new MemoryStorage(conf);
      let model: { index: number; term: number }[] = []; // entries after the snapshot
      let snapIndex = 0;
      for (const o of ops) {
        const last = snapIndex + model.length;
        if (o.kind === 'append') {
          const at = Math.min(o.at, last + 1); // never a gap
          if (at < 1) continue;
          storage.append(entries(at, ...o.terms));
          const incoming = o.terms.map((term, i) => ({ index: at + i, term })).filter((e) => e.index > snapIndex);
          if (incoming.length === 0) continue;
          model = model.filter((e) => e.index < incoming[0]!.index).concat(incoming);
        } else {
          if (o.at <= snapIndex || o.at > last) continue;
          storage.createSnapshot(o.at, conf, new Uint8Array());
          storage.compact(o.at);
          model = model.filter((e) => e.index > o.at);
          snapIndex = o.at;
        }
        if (storage.firstIndex() !== snapIndex + 1 || storage.lastIndex() !== snapIndex + model.length) return false;
        for (const e of model) if (storage.term(e.index) !== e.term) return false;
        if (model.length > 0) {
          const got = storage.entries(snapIndex + 1, snapIndex + model.length + 1, Number.MAX_SAFE_INTEGER);
          if (got.map((e) => `${e.index}@${e.term}`).join() !== model.map((e) => `${e.index}@${e.term}`).join()) return false;
        }
      }
      return true;
    }),
  );
});
