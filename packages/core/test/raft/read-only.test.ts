import t from 'tap';
import fc from 'fast-check';
import { AssertionError } from '../../src/index.js';
import { ReadOnly } from '../../src/raft/read-only.js';
import { checkProperty } from '../support/property.js';

const ctx = (...bytes: number[]): Uint8Array => new Uint8Array(bytes);
const released = (list: { context: Uint8Array }[]): number[][] => list.map((r) => [...r.context]);

t.test('add queues requests in arrival order; a context already waiting is not queued twice', async (t) => {
  const ro = new ReadOnly(10);
  t.equal(ro.size, 0);
  t.equal(ro.lastContext(), null, 'nothing waiting: heartbeats carry no context');
  ro.add(5, ctx(1), 2);
  ro.add(6, ctx(2), 1);
  t.equal(ro.size, 2);
  t.strictSame([...ro.lastContext()!], [2], 'heartbeats carry the newest context');
  ro.add(9, ctx(1), 3);
  t.equal(ro.size, 2, 'a duplicate context is ignored');
  const [first] = ro.advance(ctx(1));
  t.equal(first!.index, 5, 'the first request keeps its index');
  t.equal(first!.from, 2, 'and its requester');
});

t.test('contexts are told apart by their bytes, not by a lossy rendering', async (t) => {
  const ro = new ReadOnly(10);
  ro.add(1, ctx(0x12), 1);
  ro.add(2, ctx(0x1, 0x2), 1);
  ro.add(3, ctx(0x0, 0x12), 1);
  ro.add(4, ctx(), 1);
  t.equal(ro.size, 4, 'four distinct contexts');
  t.strictSame(released(ro.advance(ctx(0x1, 0x2))), [[0x12], [0x1, 0x2]]);
});

t.test('recvAck collects the acks of a waiting request', async (t) => {
  const ro = new ReadOnly(10);
  t.equal(ro.recvAck(2, ctx(7)), undefined, 'an ack for no request');
  ro.add(3, ctx(7), 1);
  t.strictSame([...ro.recvAck(1, ctx(7))!], [1]);
  t.strictSame([...ro.recvAck(2, ctx(7))!].sort(), [1, 2]);
  t.strictSame([...ro.recvAck(2, ctx(7))!].sort(), [1, 2], 'a duplicate ack counts once');
  t.equal(ro.recvAck(2, ctx(8)), undefined, 'an ack for another context');
});

t.test('advance releases the acknowledged request and every earlier one, in order', async (t) => {
  const ro = new ReadOnly(10);
  for (let i = 1; i <= 4; i++) ro.add(10 + i, ctx(i), 1);
  const out = ro.advance(ctx(2));
  t.strictSame(released(out), [[1], [2]], 'an ack of request 2 also confirms request 1, which arrived before it');
  t.strictSame(
    out.map((r) => r.index),
    [11, 12],
  );
  t.equal(ro.size, 2, 'requests 3 and 4 still wait');
  t.equal(ro.recvAck(2, ctx(1)), undefined, 'a released request takes no more acks');
  t.strictSame(ro.advance(ctx(1)), [], 'advancing to a released request releases nothing');
  t.strictSame(ro.advance(ctx(9)), [], 'an unknown context releases nothing');
  t.equal(ro.size, 2, 'and removes nothing');
  t.strictSame(released(ro.advance(ctx(4))), [[3], [4]], 'the newest releases all that remain');
  t.equal(ro.size, 0);
  t.equal(ro.lastContext(), null);
});

t.test('the queue is bounded: full at pendingMax, and adding a new request then asserts', async (t) => {
  const ro = new ReadOnly(2);
  ro.add(1, ctx(1), 1);
  t.notOk(ro.full());
  ro.add(1, ctx(2), 1);
  t.ok(ro.full());
  t.throws(() => ro.add(1, ctx(3), 1), AssertionError, 'the caller must check full() (READ_QUEUE_FULL) first');
  t.equal(ro.size, 2);
  ro.add(1, ctx(2), 1);
  t.equal(ro.size, 2, 'a duplicate of a waiting request is still a harmless no-op');
  ro.advance(ctx(1));
  t.notOk(ro.full(), 'a release makes room');
  ro.add(1, ctx(3), 1);
  t.equal(ro.size, 2);
});

t.test('clear drops every waiting request', async (t) => {
  const ro = new ReadOnly(4);
  ro.add(1, ctx(1), 1);
  ro.add(2, ctx(2), 1);
  ro.clear();
  t.equal(ro.size, 0);
  t.equal(ro.lastContext(), null);
  t.equal(ro.recvAck(1, ctx(1)), undefined);
  t.strictSame(ro.advance(ctx(2)), []);
  ro.add(3, ctx(1), 1);
  t.equal(ro.size, 1, 'a context can be used again after a clear');
});

type Op = { kind: 'add'; key: number } | { kind: 'advance'; key: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), key: fc.nat(7) }),
  fc.record({ kind: fc.constant('advance' as const), key: fc.nat(7) }),
);

t.test('property: reads are released exactly once, in arrival order, each with its own index', async (t) => {
  checkProperty(
    t,
    'read-only = queue model',
    fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
      const ro = new ReadOnly(5);
      const model: { key: number; index: number }[] = [];
      let index = 0;
      for (const op of ops) {
        if (op.kind === 'add') {
          index++;
          if (model.some((r) => r.key === op.key)) {
            ro.add(index, ctx(op.key), 1);
          } else if (model.length < 5) {
            ro.add(index, ctx(op.key), 1);
            model.push({ key: op.key, index });
          }
        } else {
          const at = model.findIndex((r) => r.key === op.key);
          const expected = at < 0 ? [] : model.splice(0, at + 1);
          const got = ro.advance(ctx(op.key)).map((r) => ({ key: r.context[0]!, index: r.index }));
          if (JSON.stringify(got) !== JSON.stringify(expected)) {
            throw new Error(`advance(${op.key}) released ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
          }
        }
        if (ro.size !== model.length) throw new Error(`size ${ro.size}, model ${model.length}`);
        const last = ro.lastContext();
        if ((last === null ? undefined : last[0]) !== model.at(-1)?.key) throw new Error('lastContext is not the newest request');
      }
      return true;
    }),
  );
});
