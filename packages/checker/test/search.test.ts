import t from 'tap';
import type { Model, ModelOp } from '../src/model.js';
import { search } from '../src/search.js';

// The search knows nothing of registers: a counter model (add / read) is enough to drive it.
type In = { kind: 'add' | 'read'; n: number };
const counter: Model<number, In, number> = {
  name: 'counter',
  init: () => 0,
  step: (s, input, output) => (input.kind === 'add' ? s + input.n : s === output ? s : undefined),
  equal: (a, b) => a === b,
  hash: (s) => s,
  isReadOnly: (input) => input.kind === 'read',
};
const op = (id: number, call: number, ret: number, input: In, output = 0): ModelOp<In, number> => ({ id, call, ret, input, output });

t.test('a generic model: linearizable, not, and indeterminate operations', async (t) => {
  const concurrent = [op(0, 0, 3, { kind: 'add', n: 1 }), op(1, 1, 4, { kind: 'add', n: 2 }), op(2, 2, 5, { kind: 'read', n: 0 }, 1)];
  for (const plain of [false, true]) {
    const ok = search(counter, concurrent, { plain });
    t.equal(ok.verdict, 'ok');
    t.same([...ok.order].sort(), [0, 1, 2]);
    const stale = [op(0, 0, 1, { kind: 'add', n: 1 }), op(1, 2, 3, { kind: 'add', n: 2 }), op(2, 4, 5, { kind: 'read', n: 0 }, 1)];
    const bad = search(counter, stale, { plain });
    t.equal(bad.verdict, 'illegal');
    t.same(bad.order, [0, 1], 'the longest prefix');
    t.equal(bad.blocker, 2, 'the read could not be placed');
    t.equal(bad.state, 3);
    const maybe = [
      op(0, 0, Infinity, { kind: 'add', n: 5 }),
      op(1, 1, 2, { kind: 'read', n: 0 }, 0),
      op(2, 3, 4, { kind: 'read', n: 0 }, 5),
    ];
    t.equal(search(counter, maybe, { plain }).verdict, 'ok', 'an indeterminate add may land between the reads');
    const never = [op(0, 0, Infinity, { kind: 'add', n: 5 }), op(1, 1, 2, { kind: 'read', n: 0 }, 0)];
    t.same(search(counter, never, { plain }).order, [1], 'or never');
  }
});

t.test('the deadline gives unknown', async (t) => {
  const ops: ModelOp<In, number>[] = [];
  for (let i = 0; i < 40; i++) ops.push(op(i, i, 100 + i, { kind: 'add', n: 1 << (i % 20) }));
  ops.push(op(40, 200, 201, { kind: 'read', n: 0 }, -1));
  // A deadline already past: the search gives up at its first look at the clock, on any machine.
  const r = search(counter, ops, { plain: true, deadlineMs: 0 });
  t.equal(r.verdict, 'unknown');
});

t.test('a step budget gives unknown at exactly that many steps, and the same verdict every time', async (t) => {
  // Twelve concurrent adds and a read no subset of them sums to: illegal, but only after trying the subsets.
  const ops: ModelOp<In, number>[] = [];
  for (let i = 0; i < 12; i++) ops.push(op(i, i, 100 + i, { kind: 'add', n: 1 << i }));
  ops.push(op(12, 200, 201, { kind: 'read', n: 0 }, -1));
  for (const plain of [false, true]) {
    const full = search(counter, ops, { plain });
    t.equal(full.verdict, 'illegal', `plain ${plain}: decided without a budget`);
    t.ok(full.steps > 100, `plain ${plain}: it takes a search (${full.steps} steps)`);
    const short = search(counter, ops, { plain, searchStepsMax: full.steps - 1 });
    t.equal(short.verdict, 'unknown', `plain ${plain}: one step short of the verdict is unknown`);
    t.equal(short.steps, full.steps - 1, `plain ${plain}: stopped at the budget`);
    t.same(search(counter, ops, { plain, searchStepsMax: full.steps - 1 }), short, `plain ${plain}: the same answer again`);
    t.equal(
      search(counter, ops, { plain, searchStepsMax: full.steps }).verdict,
      'illegal',
      `plain ${plain}: a budget of exactly the steps needed decides`,
    );
    // A budget inside the first pass (the default mode runs one without the memo) stops there.
    const tiny = search(counter, ops, { plain, searchStepsMax: 5 });
    t.equal(tiny.verdict, 'unknown');
    t.equal(tiny.steps, 5);
  }
});
