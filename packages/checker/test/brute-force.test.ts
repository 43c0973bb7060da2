import t from 'tap';
import assert from 'node:assert';
import fc from 'fast-check';
import { bruteForceLinearizable } from '../src/brute-force.js';
import { checkHistorySync } from '../src/check.js';
import { simulate, toEvents } from '../src/generate.js';
import { historyFromEvents } from '../src/read-history.js';
import { seededRng } from '@kvapp/core';

/**
 * Random tiny histories, built from a schedule of steps: each step invokes an operation on an idle
 * process or completes a busy one with a random outcome. Values come from a small set, so they repeat;
 * deletes make a key absent again, so absent has many sources too.
 */
const step = fc.record(
  {
    process: fc.integer({ min: 0, max: 2 }),
    f: fc.constantFrom('read', 'write', 'cas', 'delete'),
    a: fc.constantFrom(null, 0, 1, 2),
    b: fc.integer({ min: 0, max: 2 }),
    outcome: fc.constantFrom('ok', 'ok', 'ok', 'info', 'mismatch', 'fail', 'none'),
    key: fc.constantFrom('x', 'x', 'x', 'y'),
  },
  { noNullPrototype: true },
);

interface Step {
  readonly process: number;
  readonly f: string;
  readonly a: number | null;
  readonly b: number;
  readonly outcome: string;
  readonly key: string;
}

function build(steps: readonly Step[]): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  const busy = new Map<number, Record<string, unknown>>();
  let next = 100;
  const procOf = [0, 1, 2];
  for (const s of steps) {
    const p = procOf[s.process]!;
    const open = busy.get(p);
    if (!open) {
      const value = s.f === 'read' || s.f === 'delete' ? null : s.f === 'write' ? s.b : [s.a, s.b];
      const inv = { process: p, type: 'invoke', f: s.f, key: s.key, value };
      busy.set(p, inv);
      events.push(inv);
      continue;
    }
    if (s.outcome === 'none') continue;
    busy.delete(p);
    const type = s.outcome === 'mismatch' ? 'fail' : s.outcome;
    const done: Record<string, unknown> = { ...open, type };
    if (open['f'] === 'read') done['value'] = s.outcome === 'ok' ? s.a : null;
    if (s.outcome === 'mismatch') done['error'] = open['f'] === 'cas' ? 'cas-mismatch' : 'other';
    events.push(done);
    if (type === 'info') procOf[s.process] = next++;
  }
  return events.map((e, i) => ({ ...e, time: i, index: i }));
}

t.test('the checker agrees with a brute-force checker that tries every order', async (t) => {
  const property = fc.property(fc.array(step, { minLength: 1, maxLength: 14 }), (steps) => {
    const events = build(steps);
    const history = historyFromEvents(events);
    const brute = bruteForceLinearizable(history.operations);
    const fast = checkHistorySync(history).valid;
    const plain = checkHistorySync(history, { reduce: false }).valid;
    // Tiny keys always fit the first pass's budget: 0 makes the memo search (with reductions) decide.
    const memo = checkHistorySync(history, { firstPassStepsMax: 0 }).valid;
    assert.strictEqual(plain, brute, `plain search vs brute force on ${JSON.stringify(events)}`);
    assert.strictEqual(memo, brute, `memo search vs brute force on ${JSON.stringify(events)}`);
    assert.strictEqual(fast, brute, `checker vs brute force on ${JSON.stringify(events)}`);
  });
  const seed = Date.now() % 1_000_000;
  const run = fc.check(property, { numRuns: Number(process.env.CHECKER_RUNS ?? 3000), seed });
  t.notOk(run.failed, `seed ${seed}: ${run.counterexample ? fc.stringify(run.counterexample) : ''} ${String(run.errorInstance ?? '')}`);
});

t.test(
  'on generated histories with unique values and deletes, reductions and zones agree with the plain search and brute force',
  async (t) => {
    const seed = Date.now() % 1_000_000;
    let valid = 0;
    let invalid = 0;
    const property = fc.property(
      fc.integer({ min: 1, max: 2 ** 31 - 1 }),
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 30 }),
      (s, mutateAt, newValue) => {
        const ops = simulate({
          rng: seededRng(s),
          clients: 3,
          keys: 1,
          ops: 7,
          infoRate: 0.25,
          latencyNs: 3000,
          thinkNs: 500,
          deleteShare: s % 2 === 0 ? 0.2 : 0,
        });
        // Mutate one observation to a value that may or may not be consistent.
        const target = ops.filter((o) => o.status !== 'info')[mutateAt % ops.length];
        if (target && target.f === 'read') target.output = newValue % 9 === 0 ? null : newValue % 9;
        else if (target && target.f === 'cas')
          target.input = [newValue % 9 === 0 ? null : newValue % 9, (target.input as [number | null, number])[1]];
        const history = historyFromEvents(toEvents(ops));
        const brute = bruteForceLinearizable(history.operations);
        const fast = checkHistorySync(history).valid;
        const plain = checkHistorySync(history, { reduce: false }).valid;
        const memo = checkHistorySync(history, { firstPassStepsMax: 0 }).valid;
        if (brute) valid++;
        else invalid++;
        assert.strictEqual(plain, brute, 'plain search vs brute force');
        assert.strictEqual(fast, brute, 'checker vs brute force');
        assert.strictEqual(memo, brute, 'memo search (no first pass) vs brute force');
      },
    );
    const run = fc.check(property, { numRuns: Number(process.env.CHECKER_RUNS ?? 1500), seed });
    t.notOk(run.failed, `seed ${seed}: ${run.counterexample ? fc.stringify(run.counterexample) : ''} ${String(run.errorInstance ?? '')}`);
    t.ok(valid > 100 && invalid > 100, `both verdicts exercised (${valid} valid, ${invalid} invalid)`);
  },
);

t.test('a delete makes the key absent: brute force and the checker agree on hand-made cases', async (t) => {
  // Each case: one key, events in order; `expect` is the verdict by the semantics of docs/history-format.md.
  const e = (process: number, type: string, f: string, value: unknown): Record<string, unknown> => ({ process, type, f, key: 'x', value });
  const cases: { name: string; events: Record<string, unknown>[]; expect: boolean }[] = [
    {
      name: 'a read after an ok delete sees absent',
      expect: true,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(1, 'invoke', 'delete', null),
        e(1, 'ok', 'delete', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', null),
      ],
    },
    {
      name: 'a read after an ok delete cannot see the old value',
      expect: false,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(1, 'invoke', 'delete', null),
        e(1, 'ok', 'delete', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', 1),
      ],
    },
    {
      name: 'a cas expecting absent succeeds after a delete',
      expect: true,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(1, 'invoke', 'delete', null),
        e(1, 'ok', 'delete', null),
        e(2, 'invoke', 'cas', [null, 2]),
        e(2, 'ok', 'cas', [null, 2]),
      ],
    },
    {
      name: 'a cas expecting absent cannot succeed on a present value',
      expect: false,
      events: [e(1, 'invoke', 'write', 1), e(1, 'ok', 'write', 1), e(2, 'invoke', 'cas', [null, 2]), e(2, 'ok', 'cas', [null, 2])],
    },
    {
      name: 'a cas-mismatch expecting absent right after a delete is impossible',
      expect: false,
      events: [
        e(1, 'invoke', 'delete', null),
        e(1, 'ok', 'delete', null),
        e(2, 'invoke', 'cas', [null, 2]),
        e(2, 'fail', 'cas', [null, 2]),
      ].map((x, i) => (i === 3 ? { ...x, error: 'cas-mismatch' } : x)),
    },
    {
      name: 'an indeterminate delete may explain absent after a write',
      expect: true,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(3, 'invoke', 'delete', null),
        e(3, 'info', 'delete', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', null),
      ],
    },
    {
      name: 'a delete that failed explains nothing',
      expect: false,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(3, 'invoke', 'delete', null),
        e(3, 'fail', 'delete', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', null),
      ],
    },
    {
      name: 'the unique value 1 is gone after a delete and cannot come back',
      expect: false,
      events: [
        e(1, 'invoke', 'write', 1),
        e(1, 'ok', 'write', 1),
        e(1, 'invoke', 'delete', null),
        e(1, 'ok', 'delete', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', null),
        e(2, 'invoke', 'read', null),
        e(2, 'ok', 'read', 1),
      ],
    },
  ];
  for (const c of cases) {
    const history = historyFromEvents(c.events.map((x, i) => ({ ...x, time: i, index: i })));
    t.equal(bruteForceLinearizable(history.operations), c.expect, `brute force: ${c.name}`);
    t.equal(checkHistorySync(history).valid, c.expect, `checker: ${c.name}`);
    t.equal(checkHistorySync(history, { reduce: false }).valid, c.expect, `plain search: ${c.name}`);
  }
});
