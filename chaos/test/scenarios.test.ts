import t from 'tap';
import { nemeses, nemesisKinds } from '@kvapp/harness';
import { profiles } from '../src/scenarios.js';

const kebab = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** A planted bug's scenario (named bug-*): a node flag that breaks a rule, which the run must catch. */
const plantedBug = (s: { readonly name: string }): boolean => s.name.startsWith('bug-');

for (const profile of Object.values(profiles)) {
  t.test(`profile ${profile.name}`, async (t) => {
    const names = profile.scenarios.map((s) => s.name);
    t.equal(new Set(names).size, names.length, 'names are unique');
    for (const s of profile.scenarios) {
      t.match(s.name, kebab, `${s.name} is kebab-case`);
      t.ok(nemesisKinds.includes(s.nemesis), `${s.name}: known nemesis ${s.nemesis}`);
      t.ok(s.nodes === 3 || s.nodes === 5, `${s.name}: 3 or 5 nodes`);
      t.ok(s.timeLimitS > 0 && s.workload.keys > 0 && s.workload.clients > 0, `${s.name}: runs something`);
      t.ok(s.description.length > 10, `${s.name}: described`);
    }
    const faultKinds = new Set(profile.scenarios.filter((s) => s.expect === 'valid').map((s) => s.nemesis));
    for (const k of nemesisKinds.filter((k) => nemeses[k].start !== null)) t.ok(faultKinds.has(k), `every fault kind is covered: ${k}`);
    // The scenarios of the nemeses are the registry's, in its order, as its modules describe them.
    const suite = nemesisKinds.filter((k) => nemeses[k].suiteNodes !== null);
    const fromRegistry = profile.scenarios.filter((s) => !plantedBug(s));
    t.same(
      fromRegistry.map((s) => s.name),
      suite,
      'one scenario per nemesis with suite nodes, in registry order',
    );
    for (const s of fromRegistry) {
      const m = nemeses[s.nemesis];
      t.equal(s.nemesis, s.name, `${s.name}: named by its nemesis`);
      t.equal(s.description, m.description, `${s.name}: the module's description`);
      t.equal(s.nodes, profile.name === 'ci' ? m.suiteNodes!.ci : m.suiteNodes!.nightly, `${s.name}: the module's nodes`);
    }
    const bug = profile.scenarios.find((s) => s.name === 'bug-local-reads');
    t.ok(bug, 'the planted-bug run is in the profile');
    t.equal(bug!.expect, 'invalid', 'and must be caught');
    t.same(bug!.nodeArgs, ['--unsafe-local-reads']);
    t.same(bug!.nodeEnv, { KVAPP_ALLOW_UNSAFE: '1' });
    t.equal(bug!.nemesis, 'partition-isolate-leader');
    t.same(
      profile.scenarios.filter((s) => s.expect === 'invalid'),
      profile.scenarios.filter(plantedBug),
      'only planted bugs expect invalid, and every one does',
    );
    const lease = profile.scenarios.find((s) => s.name === 'bug-lease-reads');
    t.ok(lease, 'the lease-read bug is in the profile');
    t.same(lease!.nodeArgs, ['--unsafe-lease-reads']);
    t.same(lease!.nodeEnv, { KVAPP_ALLOW_UNSAFE: '1' });
    t.equal(lease!.nemesis, 'clock-isolate-leader', 'caught by a slow clock on the isolated leader');
    t.equal(profile.scenarios.find((s) => s.nemesis === 'mix')!.nodes, 5, 'mix runs on 5 nodes');
  });
}

t.test('CI profile fits in about eight minutes; nightly is longer and uses several seeds', async (t) => {
  const ci = profiles.ci;
  const faultS = ci.scenarios.reduce((sum, s) => sum + s.timeLimitS, 0) * ci.seedsPerScenario;
  // .ci/run has about 20 minutes on this 2-core machine: ~10 for `npm test`, the rest for chaos.
  t.ok(ci.scenarios.length >= 8 && ci.scenarios.length <= 22, `${ci.scenarios.length} CI runs`);
  t.ok(faultS <= 400, `CI workload time ${faultS} s leaves room for setup, checks and reports`);
  t.ok(ci.scenarios.every((s) => s.timeLimitS <= 30));
  const nightly = profiles.nightly;
  t.ok(nightly.seedsPerScenario >= 2);
  t.ok(
    nightly.scenarios.filter((s) => s.expect === 'valid').every((s) => s.timeLimitS >= 120),
    'several minutes each',
  );
  t.ok(nightly.scenarios.filter((s) => s.nodes === 5).length >= 5, '5 nodes where it makes sense');
  t.equal(ci.defaultSeed(), ci.defaultSeed(), 'CI seeds are fixed');
});

t.test('the snapshot scenario: in both profiles, at most 30 s in CI, minutes nightly', async (t) => {
  const ci = profiles.ci.scenarios.find((s) => s.name === 'snapshot-catch-up');
  const nightly = profiles.nightly.scenarios.find((s) => s.name === 'snapshot-catch-up');
  t.ok(ci, 'in the CI profile');
  t.ok(nightly, 'in the nightly profile');
  for (const s of [ci!, nightly!]) {
    t.equal(s.nemesis, 'snapshot-catch-up');
    t.equal(s.expect, 'valid', 'it must be valid');
    t.equal(s.nodeArgs, undefined, "the nemesis' own node flags (a low --snapshot-entries) come from its module at set-up");
  }
  t.ok(ci!.timeLimitS <= 30, `CI: ${ci!.timeLimitS} s of workload`);
  t.ok(ci!.recoverS! >= ci!.timeLimitS, 'CI: one fault, then quiet until the time limit (a second would not fit)');
  t.equal(ci!.nodes, 3);
  t.ok(nightly!.timeLimitS >= 120, `nightly: ${nightly!.timeLimitS} s, minutes`);
  t.ok(nightly!.faultS! + nightly!.recoverS! < nightly!.timeLimitS / 4, 'nightly: several faults');
  t.equal(nightly!.nodes, 5);
  t.same(nemeses['snapshot-catch-up'].nodeArgs, ['--snapshot-entries', '200']);
});

t.test("a nemesis' suite timing replaces the default; the others keep it", async (t) => {
  for (const [profile, def] of [
    [profiles.ci, { faultS: 4, recoverS: 2, timeLimitS: 20 }],
    [profiles.nightly, { faultS: 8, recoverS: 4, timeLimitS: 240 }],
  ] as const) {
    for (const s of profile.scenarios.filter((x) => !plantedBug(x))) {
      const own = nemeses[s.nemesis].suiteTiming;
      const want = own === undefined ? def : profile.name === 'ci' ? own.ci : own.nightly;
      t.same({ faultS: s.faultS, recoverS: s.recoverS, timeLimitS: s.timeLimitS }, want, `${profile.name} ${s.name}`);
    }
  }
});

t.test('the membership scenario: in both profiles, valid, at most 30 s in CI, minutes nightly', async (t) => {
  const ci = profiles.ci.scenarios.find((s) => s.name === 'membership');
  const nightly = profiles.nightly.scenarios.find((s) => s.name === 'membership');
  t.ok(ci, 'in the CI profile');
  t.ok(nightly, 'in the nightly profile');
  for (const s of [ci!, nightly!]) {
    t.equal(s.nemesis, 'membership');
    t.equal(s.expect, 'valid', 'it must be valid');
    t.equal(s.nodes, 3, 'starts from 3 voters (a step grows it to 5 and back)');
    t.ok(s.faultS! <= 2, 'a fault is one step: the heal waits for the step, so the period is about as long as the step');
  }
  t.ok(ci!.timeLimitS <= 20, `CI: ${ci!.timeLimitS} s of steps, about 25 s with set-up and check`);
  t.ok(nightly!.timeLimitS >= 120, `nightly: ${nightly!.timeLimitS} s, minutes`);
  t.equal(nemeses.membership.inMix, false, 'not drawn by mix: it changes which nodes the other nemeses may pick');
});

t.test('the power-cut planted bugs: in both profiles, under power cuts, the skipped directory fsync with snapshots to lose', async (t) => {
  for (const profile of Object.values(profiles)) {
    const ack = profile.scenarios.find((s) => s.name === 'bug-ack-before-fsync');
    const dir = profile.scenarios.find((s) => s.name === 'bug-skip-dir-fsync');
    t.ok(ack && dir, `${profile.name}: both in the profile`);
    for (const s of [ack!, dir!]) {
      t.equal(s.nemesis, 'power-cut', `${s.name}: caught by power cuts`);
      t.equal(s.expect, 'invalid');
      t.same(s.nodeEnv, { KVAPP_ALLOW_UNSAFE: '1' });
      // Each cut of every node takes one fault in three; the run must hold at least three.
      t.ok(s.faultS! + s.recoverS! <= s.timeLimitS / 6, `${s.name}: room for several faults`);
    }
    t.same(ack!.nodeArgs, ['--unsafe-ack-before-fsync']);
    t.equal(dir!.nodeArgs![0], '--unsafe-skip-dir-fsync');
    const entries = Number(dir!.nodeArgs![dir!.nodeArgs!.indexOf('--snapshot-entries') + 1]);
    t.ok(entries > 0 && entries <= 200, `snapshots every ${entries} entries: snapshot files are written during the run`);
  }
});
