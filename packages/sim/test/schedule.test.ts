import fc from 'fast-check';
import t from 'tap';
import { checkSchedule, profileFromSeed, scheduleArbitrary, scheduleFromSeed } from '../src/schedule.js';

t.test('a seed decides its profile and schedule, within the limits', async (t) => {
  t.strictSame(profileFromSeed(42), profileFromSeed(42));
  t.strictSame(scheduleFromSeed(42, profileFromSeed(42)), scheduleFromSeed(42, profileFromSeed(42)));
  const mixes = new Set<string>();
  for (let seed = 1; seed <= 300; seed++) {
    const profile = profileFromSeed(seed);
    mixes.add(profile.faultKinds.join(','));
    const schedule = scheduleFromSeed(seed, profile);
    const bad = checkSchedule(schedule);
    if (bad !== null) t.fail(`seed ${seed}: ${bad}`);
    for (let i = 1; i < schedule.length; i++) if (schedule[i]!.atMs < schedule[i - 1]!.atMs) t.fail(`seed ${seed}: not sorted`);
  }
  t.ok(mixes.size > 20, `swarm: each seed picks its own mix of faults (${mixes.size} mixes in 300 seeds)`);
  const withMembership = Array.from({ length: 300 }, (_, i) => scheduleFromSeed(i + 1, profileFromSeed(i + 1))).filter((s) =>
    s.some((f) => f.kind === 'membership'),
  ).length;
  t.ok(withMembership > 50 && withMembership < 150, `about 30% of seeds change membership (${withMembership} of 300)`);
});

t.test('fast-check schedules are within the limits', async (t) => {
  t.doesNotThrow(() =>
    fc.assert(
      fc.property(scheduleArbitrary, (schedule) => checkSchedule(schedule) === null),
      { numRuns: 500, seed: 7 },
    ),
  );
});

t.test('checkSchedule rejects bad input', async (t) => {
  t.match(checkSchedule([{ kind: 'meteor' } as never]), /unknown kind/);
  t.match(checkSchedule([{ kind: 'pause', atMs: -1, node: 1, durationMs: 5 }]), /atMs/);
  t.match(checkSchedule([{ kind: 'pause', atMs: 1, node: 1, durationMs: 1e9 }]), /duration/);
});
