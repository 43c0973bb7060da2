import t from 'tap';
import type { RunOptions, RunProgress, RunResult, ScenarioSpec } from '@kvapp/harness';
import { exitError, exitFailed, exitPassed, main, type MainIo, type Runner } from '../src/main.js';
import { profiles } from '../src/scenarios.js';

/** The CI profile's runs: one per scenario, one seed each. */
const ciRuns = profiles.ci.scenarios.length;

interface Call {
  spec: ScenarioSpec;
  options: RunOptions;
}

function result(spec: ScenarioSpec, options: RunOptions, over: Partial<RunResult> = {}): RunResult {
  const verdict = over.verdict ?? spec.expect;
  return {
    scenario: spec.name,
    seed: options.seed,
    dir: `${options.storeDir}/${spec.name}/t`,
    nodes: options.nodes ?? spec.nodes,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 21_500,
    verdict,
    expect: spec.expect,
    passed: verdict === spec.expect,
    checker: { valid: verdict === 'valid', ops: 100, keys: 6, ms: 3, failedKeys: [] },
    ackedWrites: { checked: 10, lost: 0, lostKeys: [] },
    ops: { total: 1234, ok: 1000, fail: 200, info: 34, byF: {} },
    availability: [
      // Answered (ok or a definite fail such as a cas-mismatch) is what counts as available.
      { nemesis: spec.nemesis, startS: 1, endS: 5, ops: 100, ok: 40, answered: 50, share: 0.5 },
      { nemesis: spec.nemesis, startS: 7, endS: 11, ops: 100, ok: 60, answered: 70, share: 0.7 },
      { nemesis: 'none', startS: 0, endS: 20, ops: 1034, ok: 900, answered: 1034, share: 1 },
    ],
    latencyMs: { p50: 1, p90: 2, p99: 5, max: 9 },
    ...over,
  };
}

/** A fake engine: records calls and answers per scenario name. */
function harness(answer: (spec: ScenarioSpec, options: RunOptions) => Partial<RunResult> | Error = () => ({}), isTTY = false) {
  const calls: Call[] = [];
  let out = '';
  let err = '';
  const runner: Runner = async (spec, options) => {
    calls.push({ spec, options });
    options.onProgress?.({ phase: 'setup', elapsedS: 0, ops: 0, ok: 0, nemesis: null } satisfies RunProgress);
    options.onProgress?.({ phase: 'faults', elapsedS: 1.5, ops: 10, ok: 9, nemesis: spec.nemesis });
    options.onProgress?.({ phase: 'faults', elapsedS: 1.6, ops: 11, ok: 10, nemesis: spec.nemesis });
    const a = answer(spec, options);
    if (a instanceof Error) throw a;
    return result(spec, options, a);
  };
  const io: MainIo = {
    runner,
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    isTTY,
  };
  return { io, calls, out: () => out, err: () => err };
}

t.test('no arguments: the whole CI profile, seed 1, store/ under the cwd; exit 0 when all pass', async (t) => {
  const h = harness();
  t.equal(await main([], h.io), exitPassed);
  t.same(
    h.calls.map((c) => c.spec.name),
    profiles.ci.scenarios.map((s) => s.name),
  );
  t.ok(h.calls.every((c) => c.options.seed === 1 && c.options.storeDir === `${process.cwd()}/store`));
  t.ok(
    h.calls.every((c) => c.options.timeLimitS === undefined && c.options.nodes === undefined),
    'no overrides',
  );
  t.match(h.out(), /scenario\s+seed\s+verdict\s+expected\s+result\s+ops\s+avail\. in faults\s+duration/);
  t.match(
    h.out(),
    /bug-local-reads\s+1\s+invalid\s+invalid\s+pass\s+1234\s+60\.0%\s+21\.5 s/,
    'avail. in faults: answered / ops of the fault periods',
  );
  t.match(h.out(), /run folders \(report\.html in each\):\n {2}\S+\/store\/partition-halves\/t/);
  t.match(h.out(), new RegExp(`\\nchaos: ${ciRuns} passed, 0 failed\\n$`));
});

t.test('flags reach runScenario', async (t) => {
  const h = harness();
  const code = await main(
    [
      '--profile',
      'nightly',
      '--scenario',
      'kill',
      '--scenario',
      'pause',
      '--seed',
      '40',
      '--nodes',
      '5',
      '--time-limit',
      '7.5',
      '--store',
      '/tmp/x',
    ],
    h.io,
  );
  t.equal(code, exitPassed);
  t.same(
    h.calls.map((c) => [c.spec.name, c.options.seed]),
    [
      ['kill', 40],
      ['kill', 41],
      ['kill', 42],
      ['pause', 40],
      ['pause', 41],
      ['pause', 42],
    ],
  );
  t.ok(h.calls.every((c) => c.options.nodes === 5 && c.options.timeLimitS === 7.5 && c.options.storeDir === '/tmp/x'));
  t.ok(
    h.calls.every((c) => c.spec.timeLimitS === 240),
    'the nightly specs',
  );
});

t.test('--list prints the profile and runs nothing', async (t) => {
  const h = harness();
  t.equal(await main(['--list'], h.io), exitPassed);
  t.equal(h.calls.length, 0);
  const lines = h.out().trim().split('\n');
  t.match(lines[0], new RegExp(`^profile ci: ${ciRuns} scenarios × 1 seed\\(s\\)$`));
  t.equal(lines.length, ciRuns + 1);
  t.match(h.out(), /\nbug-local-reads +3 nodes +12 s +expect invalid +planted bug/);
  const n = harness();
  await main(['--list', '--profile', 'nightly', '--nodes', '3'], n.io);
  t.match(n.out(), /× 3 seed\(s\)/);
  t.match(n.out(), /\nmix +3 nodes +240 s/, 'overrides shown');
});

t.test('--seeds: a soak is one long run of the nightly mix', async (t) => {
  const h = harness();
  const soak = ['--profile', 'nightly', '--scenario', 'mix', '--nodes', '5', '--seeds', '1', '--time-limit', '1800', '--seed', '9'];
  t.equal(await main(soak, h.io), exitPassed);
  t.same(
    h.calls.map((c) => [c.spec.name, c.options.seed, c.options.nodes, c.options.timeLimitS, c.spec.workload.clients]),
    [['mix', 9, 5, 1800, 8]],
    "one run, not the profile's three, with the nightly workload",
  );
  const two = harness();
  t.equal(await main(['--scenario', 'kill', '--seeds', '2', '--seed', '3'], two.io), exitPassed);
  t.same(
    two.calls.map((c) => c.options.seed),
    [3, 4],
    'more seeds than the CI profile has',
  );
  const list = harness();
  await main(['--list', '--profile', 'nightly', '--seeds', '1'], list.io);
  t.match(list.out(), /^profile nightly: \d+ scenarios × 1 seed\(s\)/);
  for (const bad of ['0', '101', 'x']) {
    const b = harness();
    t.equal(await main(['--seeds', bad], b.io), exitError, `--seeds ${bad}`);
    t.match(b.err(), /--seeds must be an integer from 1 to 100/);
  }
});

t.test("a run's fault notes (e.g. the snapshot's size and install time) are printed under its line", async (t) => {
  const note =
    'snapshot-catch-up: follower 2 (cut-off) back by a chunked snapshot from node 1: 22.0 MiB (23106434 bytes) at index 602, installed in 2.20 s';
  const h = harness((spec) => (spec.name === 'snapshot-catch-up' ? { faultNotes: [note] } : {}));
  t.equal(await main(['--scenario', 'snapshot-catch-up', '--scenario', 'kill'], h.io), exitPassed);
  const lines = h.out().split('\n');
  const at = lines.findIndex((l) => l.startsWith('[2/2] snapshot-catch-up seed 1: pass'));
  t.ok(at >= 0, 'the run line');
  t.equal(lines[at + 1], `  ${note}`, 'its note follows, indented');
  const kill = lines.findIndex((l) => l.startsWith('[1/2] kill seed 1: pass'));
  t.ok(kill >= 0 && kill < at && !lines.slice(kill + 1, at).some((l) => l.startsWith('  ')), 'a run without notes prints none');
});

t.test("each node's memory is one line under its run, after the notes", async (t) => {
  const rssMb = { '10': { min: 60, max: 61.25, last: 61, samples: 20 }, '2': { min: 40.04, max: 55.5, last: 50, samples: 20 } };
  const h = harness((spec) => (spec.name === 'kill' ? { rssMb, faultNotes: ['kill: a note'] } : {}));
  t.equal(await main(['--scenario', 'kill', '--scenario', 'pause'], h.io), exitPassed);
  const lines = h.out().split('\n');
  const at = lines.findIndex((l) => l.startsWith('[1/2] kill seed 1: pass'));
  t.same(lines.slice(at + 1, at + 3), ['  kill: a note', '  node RSS MB (min–max): 2 40.0–55.5, 10 60.0–61.3'], 'ids in numeric order');
  const pause = lines.findIndex((l) => l.startsWith('[2/2] pause seed 1: pass'));
  t.notOk(lines[pause + 1]!.startsWith('  '), 'a run without figures prints none');
});

t.test('a run that misses its expectation exits 1, and 1 wins over an error', async (t) => {
  const h = harness((spec) => (spec.name === 'bug-local-reads' ? { verdict: 'valid' } : {}));
  t.equal(await main([], h.io), exitFailed);
  t.match(h.out(), /bug-local-reads\s+1\s+valid\s+invalid\s+FAIL/);
  t.match(h.out(), new RegExp(`chaos: ${ciRuns - 1} passed, 1 failed`));
  const both = harness((spec) =>
    spec.name === 'kill' ? { verdict: 'invalid' } : spec.name === 'pause' ? { verdict: 'unknown', error: 'boom' } : {},
  );
  t.equal(await main([], both.io), exitFailed);
  t.match(both.out(), new RegExp(`chaos: ${ciRuns - 2} passed, 2 failed`));
});

t.test('unknown verdicts, harness errors and a throwing runner exit 2', async (t) => {
  const u = harness((spec) => (spec.name === 'delay' ? { verdict: 'unknown' } : {}));
  t.equal(await main(['--scenario', 'delay'], u.io), exitError);
  t.match(u.out(), /delay\s+1\s+unknown\s+valid\s+ERROR/);
  const e = harness(() => ({ verdict: 'unknown', error: 'EADDRINUSE\nstack' }));
  t.equal(await main(['--scenario', 'kill'], e.io), exitError);
  t.match(e.out(), /error: EADDRINUSE →/);
  const thrown = harness(() => new Error('engine exploded'));
  t.equal(await main(['--scenario', 'kill'], thrown.io), exitError);
  t.match(thrown.out(), /runner threw: Error: engine exploded/);
  t.match(thrown.out(), /chaos: 0 passed, 1 failed/);
});

t.test('usage errors exit 2 before anything runs', async (t) => {
  for (const argv of [
    ['--scenario', 'nope'],
    ['--profile', 'weekly'],
    ['--nodes', '0'],
    ['--seed', 'x'],
    ['--time-limit', '-1'],
    ['--bogus'],
    ['extra'],
  ]) {
    const h = harness();
    t.equal(await main(argv, h.io), exitError, argv.join(' '));
    t.equal(h.calls.length, 0);
    t.match(h.err(), /error/, `${argv.join(' ')}: says why`);
  }
  const help = harness();
  t.equal(await main(['--help'], help.io), exitPassed);
  t.match(help.out(), /--time-limit <s>/);
});

t.test("--nodes below what a scenario's nemesis needs is a usage error naming them", async (t) => {
  const h = harness();
  t.equal(await main(['--nodes', '2'], h.io), exitError);
  t.equal(h.calls.length, 0, 'nothing ran');
  t.match(
    h.err(),
    /^error: --nodes 2 is too few: partition-majorities-ring needs 3, partition-bridge needs 3, snapshot-catch-up needs 3, membership needs 3, mix needs 3 /,
  );
  t.equal(h.err().trim().split('\n').length, 1, 'one line');
  const fits = harness();
  t.equal(
    await main(['--nodes', '2', '--scenario', 'kill', '--scenario', 'partition-halves'], fits.io),
    exitPassed,
    'the scenarios that fit run',
  );
  t.same(
    fits.calls.map((c) => [c.spec.name, c.options.nodes]),
    [
      ['partition-halves', 2],
      ['kill', 2],
    ],
  );
});

t.test('Ctrl-C: the signal reaches the run, no further run starts, exit 2', async (t) => {
  const abort = new AbortController();
  const h = harness((spec, options) => {
    t.equal(options.signal, abort.signal);
    abort.abort();
    return { verdict: 'unknown', error: 'aborted' };
  });
  t.equal(await main([], { ...h.io, signal: abort.signal }), exitError);
  t.equal(h.calls.length, 1);
  t.match(h.out(), new RegExp(`chaos: 0 passed, ${ciRuns} failed \\(aborted\\)`));
});

t.test('progress: rewritten in place on a TTY, plain lines on change otherwise', async (t) => {
  const tty = harness(() => ({}), true);
  await main(['--scenario', 'kill'], tty.io);
  t.match(tty.out(), /\r\[1\/1\] kill seed 1 · faults · 1\.6 s · 11 ops \(10 ok\) · kill\x1b\[K/);
  t.match(tty.out(), /\r\x1b\[K\[1\/1\] kill seed 1: pass/, 'the line is cleared before the result');
  const plain = harness();
  await main(['--scenario', 'kill'], plain.io);
  t.notMatch(plain.out(), /\r|\x1b/);
  t.equal(plain.out().match(/· faults ·/g)?.length, 1, 'one line per phase change');
  t.match(plain.out(), /\[1\/1\] kill seed 1 · setup · 0\.0 s · 0 ops \(0 ok\)\n/);
});
