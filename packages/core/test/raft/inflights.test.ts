import t from 'tap';
import fc from 'fast-check';
import { AssertionError } from '../../src/index.js';
import { Inflights } from '../../src/raft/inflights.js';
import { checkProperty } from '../support/property.js';

t.test('the count limit: full at countMax, adding to a full window asserts', async (t) => {
  t.throws(() => new Inflights(0, 0), AssertionError, 'a window of no appends could never send');
  const w = new Inflights(3, 0);
  t.equal(w.count, 0);
  t.notOk(w.full());
  w.add(1, 10);
  w.add(2, 10);
  t.notOk(w.full(), 'two of three');
  w.add(5, 10);
  t.ok(w.full(), 'three of three');
  t.equal(w.count, 3);
  t.throws(() => w.add(6, 10), AssertionError, 'no fourth append');
  t.equal(w.count, 3, 'the refused add left the window as it was');
  t.equal(w.inflightBytes, 30);
});

t.test('the bytes limit: full once the bytes reach bytesMax; 0 means no byte limit', async (t) => {
  const w = new Inflights(10, 100);
  w.add(1, 60);
  t.notOk(w.full(), '60 of 100 bytes');
  w.add(2, 39);
  t.notOk(w.full(), '99 of 100 bytes');
  w.add(3, 1);
  t.ok(w.full(), '100 of 100 bytes');
  w.freeFirstOne();
  t.equal(w.inflightBytes, 40);
  t.notOk(w.full(), 'freeing the big one makes room');

  const big = new Inflights(10, 100);
  big.add(1, 500);
  t.ok(big.full(), 'one append larger than the limit is let through, then the window is full');

  const unlimited = new Inflights(2, 0);
  unlimited.add(1, 1_000_000);
  t.notOk(unlimited.full(), 'bytesMax 0: only the count limits');
});

t.test('appends must be added in log order', async (t) => {
  const w = new Inflights(5, 0);
  w.add(4, 1);
  t.throws(() => w.add(4, 1), AssertionError, 'the same last index twice');
  t.throws(() => w.add(3, 1), AssertionError, 'an earlier last index');
  t.equal(w.count, 1);
});

t.test('freeLE frees every append ending at or before the index, and nothing after', async (t) => {
  const w = new Inflights(10, 0);
  for (const [index, bytes] of [
    [2, 1],
    [4, 2],
    [6, 4],
    [8, 8],
  ] as const) {
    w.add(index, bytes);
  }
  w.freeLE(1);
  t.equal(w.count, 4, 'an index below the first frees nothing');
  w.freeLE(5);
  t.equal(w.count, 2, 'frees 2 and 4 (5 is inside the append ending at 6)');
  t.equal(w.inflightBytes, 12);
  w.freeLE(6);
  t.equal(w.count, 1, 'the bound is inclusive');
  w.freeLE(3);
  t.equal(w.count, 1, 'a stale ack below what is already freed changes nothing');
  w.freeLE(100);
  t.equal(w.count, 0, 'an index past the last frees all');
  t.equal(w.inflightBytes, 0);
  w.add(9, 1);
  t.equal(w.count, 1, 'an emptied window accepts the next append');
});

t.test('freeFirstOne frees exactly the oldest append; on an empty window it does nothing', async (t) => {
  const w = new Inflights(3, 0);
  w.freeFirstOne();
  t.equal(w.count, 0);
  w.add(1, 5);
  w.add(2, 6);
  w.add(3, 7);
  w.freeFirstOne();
  t.equal(w.count, 2);
  t.equal(w.inflightBytes, 13, 'the oldest one (5 bytes) went');
  t.notOk(w.full());
  w.add(4, 1);
  t.ok(w.full(), 'the freed slot was used again');
});

t.test('reset empties the window and forgets the order', async (t) => {
  const w = new Inflights(2, 10);
  w.add(5, 6);
  w.add(7, 6);
  t.ok(w.full());
  w.reset();
  t.equal(w.count, 0);
  t.equal(w.inflightBytes, 0);
  t.notOk(w.full());
  w.add(3, 1);
  t.equal(w.count, 1, 'after a reset (a state change), any index may come first');
});

t.test('a long run through a small window: the storage is reused and the order kept', async (t) => {
  const w = new Inflights(4, 0);
  let next = 1;
  let freed = 0;
  // Far more than the 64 freed slots after which the window compacts its arrays.
  for (let round = 0; round < 1000; round++) {
    while (!w.full()) w.add(next++, 1);
    freed += 1 + (round % 3);
    w.freeLE(freed);
    const expected = Math.max(0, next - 1 - freed);
    if (w.count !== expected) {
      t.fail(`round ${round}: ${w.count} in flight, expected ${expected}`);
      return;
    }
  }
  t.equal(w.inflightBytes, w.count, 'bytes follow the count (1 byte each)');
  w.freeFirstOne();
  t.equal(w.count, Math.max(0, next - 2 - freed), 'the oldest survivor was the one after the last ack');
});

// ---- property: a bounded FIFO ------------------------------------------------------------------

type Op = { kind: 'add'; gap: number; bytes: number } | { kind: 'freeLE'; back: number } | { kind: 'freeFirstOne' } | { kind: 'reset' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('add' as const), gap: fc.integer({ min: 1, max: 3 }), bytes: fc.nat(40) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('freeLE' as const), back: fc.nat(8) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('freeFirstOne' as const) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reset' as const }) },
);

t.test('property: the window behaves like a FIFO bounded by count and bytes', async (t) => {
  checkProperty(
    t,
    'inflights = bounded FIFO model',
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.constantFrom(0, 30, 100),
      fc.array(opArb, { maxLength: 200 }),
      (countMax, bytesMax, ops) => {
        const w = new Inflights(countMax, bytesMax);
        let model: { index: number; bytes: number }[] = [];
        let last = 0;
        const modelBytes = (): number => model.reduce((sum, a) => sum + a.bytes, 0);
        const modelFull = (): boolean => model.length >= countMax || (bytesMax > 0 && modelBytes() >= bytesMax);
        for (const op of ops) {
          switch (op.kind) {
            case 'add': {
              last += op.gap;
              if (modelFull()) {
                let refused = false;
                try {
                  w.add(last, op.bytes);
                } catch (error) {
                  refused = error instanceof AssertionError;
                }
                if (!refused) throw new Error(`add to a full window (${model.length} appends, ${modelBytes()} bytes) was accepted`);
              } else {
                w.add(last, op.bytes);
                model.push({ index: last, bytes: op.bytes });
              }
              break;
            }
            case 'freeLE':
              w.freeLE(last - op.back);
              model = model.filter((a) => a.index > last - op.back);
              break;
            case 'freeFirstOne':
              w.freeFirstOne();
              model.shift();
              break;
            case 'reset':
              w.reset();
              model = [];
              break;
          }
          if (w.count !== model.length || w.inflightBytes !== modelBytes() || w.full() !== modelFull()) {
            throw new Error(
              `after ${JSON.stringify(op)}: window ${w.count}/${w.inflightBytes}/${w.full()}, model ${model.length}/${modelBytes()}/${modelFull()}`,
            );
          }
        }
        return true;
      },
    ),
  );
});
