import t from 'tap';
import assert from 'node:assert';
import fc from 'fast-check';
import { bruteForceLinearizable } from '../src/brute-force.js';
import { checkHistorySync } from '../src/check.js';
import { simulate, toEvents } from '../src/generate.js';
import { historyFromEvents } from '../src/read-history.js';

/**
 * Random tiny histories, built from a schedule of steps: each step invokes an operation on an idle
 * process or completes a busy one with a random outcome. Values come from a small set, so they repeat.
 */
const step = fc.record({
  process: fc.integer({ min: 0, max: 2 }),
  f: fc.constantFrom('read', 'write', 'cas'),
  a: fc.constantFrom(null, 0, 1, 2),
  b: fc.integer({ min: 0, max: 2 }),
  outcome: fc.constantFrom('ok', 'ok', 'ok', 'info', 'mismatch', 'fail', 'none'),
  key: fc.constantFrom('x', 'x', 'x', 'y'),
}, { noNullPrototype: true });

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
      const value = s.f === 'read' ? null : s.f === 'write' ? s.b : [s.a, s.b];
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

t.test('on generated histories with unique values, reductions and zones agree with the plain search and brute force', async (t) => {
  const seed = Date.now() % 1_000_000;
  let valid = 0;
  let invalid = 0;
  const property = fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 }),
    (s, mutateAt, newValue) => {
      const ops = simulate({ seed: s, clients: 3, keys: 1, ops: 7, infoRate: 0.25, latencyNs: 3000, thinkNs: 500 });
      // Mutate one observation to a value that may or may not be consistent.
      const target = ops.filter((o) => o.status !== 'info')[mutateAt % ops.length];
      if (target && target.f === 'read') target.output = newValue % 9 === 0 ? null : newValue % 9;
      else if (target && target.f === 'cas') target.input = [newValue % 9 === 0 ? null : newValue % 9, (target.input as [number | null, number])[1]];
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
    });
  const run = fc.check(property, { numRuns: Number(process.env.CHECKER_RUNS ?? 1500), seed });
  t.notOk(run.failed, `seed ${seed}: ${run.counterexample ? fc.stringify(run.counterexample) : ''} ${String(run.errorInstance ?? '')}`);
  t.ok(valid > 100 && invalid > 100, `both verdicts exercised (${valid} valid, ${invalid} invalid)`);
});
