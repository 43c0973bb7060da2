import t from 'tap';
import { expectedFailureOf, shrinkSchedule, type Fault, type SimFailure, type SimOptions } from '../src/index.js';

// A fake run whose failure depends only on which faults the schedule holds, so the test decides
// what every candidate the shrinker tries does: faults a and b together break LOG_MATCHING;
// a without b only times out (liveness); b without a breaks another invariant (ELECTION_SAFETY).
const crash = (node: number, atMs: number): Fault => ({ kind: 'crash', atMs, node, downMs: 50, moment: 'now' });
const a = crash(1, 100);
const b = crash(2, 200);
const noise = [crash(3, 300), crash(4, 400), crash(5, 500), crash(1, 600)];
const schedule = [noise[0]!, a, noise[1]!, noise[2]!, b, noise[3]!];

async function fakeRun(options: SimOptions): Promise<{ failure: SimFailure | null }> {
  const has = (f: Fault): boolean => options.schedule!.includes(f);
  if (has(a) && has(b)) return { failure: { kind: 'invariant', code: 'LOG_MATCHING', message: 'logs diverge', atMs: 1 } };
  if (has(a)) return { failure: { kind: 'liveness', message: 'no leader', atMs: 2 } };
  if (has(b)) return { failure: { kind: 'invariant', code: 'ELECTION_SAFETY', message: 'two leaders', atMs: 3 } };
  return { failure: null };
}

t.test('the shrinker keeps the failure it was given: a smaller schedule that fails otherwise is rejected', async (t) => {
  const original = (await fakeRun({ seed: 1, schedule })).failure!;
  const keep = expectedFailureOf(original);
  t.same(keep, { kind: 'invariant', code: 'LOG_MATCHING' });
  const r = await shrinkSchedule({ seed: 1, bugs: [], keep, run: fakeRun }, schedule);
  t.ok(r, 'shrunk');
  t.same(r!.schedule, [a, b], 'both faults the invariant needs stay, the noise goes');
  t.match(r!.failure, { kind: 'invariant', code: 'LOG_MATCHING' });
  t.ok(r!.otherFailures > 0, `candidates that failed otherwise were seen and rejected (${r!.otherFailures})`);
});

t.test('a predicate works as well, and accepting any failure drifts to another one', async (t) => {
  const logMatching = (f: SimFailure): boolean => f.kind === 'invariant' && f.code === 'LOG_MATCHING';
  const kept = await shrinkSchedule({ seed: 1, bugs: [], keep: logMatching, run: fakeRun }, schedule);
  t.same(kept!.schedule, [a, b]);
  // What the shrinker did before it took `keep`: any failure will do, and it ends on a single fault
  // whose failure is not the one that was found.
  const any = await shrinkSchedule({ seed: 1, bugs: [], keep: () => true, run: fakeRun }, schedule);
  t.equal(any!.schedule.length, 1, 'down to one fault');
  t.notSame(
    expectedFailureOf(any!.failure),
    { kind: 'invariant', code: 'LOG_MATCHING' },
    `a different failure: ${JSON.stringify(any!.failure)}`,
  );
});

t.test('the same kind with another invariant code is another failure; none kept gives null', async (t) => {
  const r = await shrinkSchedule({ seed: 1, bugs: [], keep: { kind: 'invariant', code: 'STATE_MACHINE_SAFETY' }, run: fakeRun }, schedule);
  t.equal(r, null, 'no candidate fails with STATE_MACHINE_SAFETY');
  const electionSafety = await shrinkSchedule({ seed: 1, bugs: [], keep: { kind: 'invariant', code: 'ELECTION_SAFETY' }, run: fakeRun }, [
    b,
    ...noise,
  ]);
  t.same(electionSafety!.schedule, [b]);
});
