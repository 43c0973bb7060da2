import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunOptions, RunResult, ScenarioSpec } from '@kvapp/harness';
import { exitError, exitFailed, exitPassed, main, type MainIo } from '../src/main.js';
import type { Totals } from '../src/totals.js';

/** A nemesis.jsonl period: a start and an end line (end detail as given). */
function period(time: number, nemesis: string, end: Record<string, unknown> = {}): string[] {
  return [
    JSON.stringify({ time, nemesis, phase: 'start', detail: {} }),
    JSON.stringify({ time: time + 1, nemesis, phase: 'end', detail: end }),
  ];
}

interface RunFolder {
  readonly results?: Record<string, unknown>;
  readonly nemesis?: readonly string[];
  /** Extra raw text at the end of nemesis.jsonl (a torn line). */
  readonly tail?: string;
  readonly history?: boolean;
}

function results(scenario: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    scenario,
    seed: 7,
    nodes: 5,
    durationMs: 60_000,
    verdict: 'valid',
    expect: 'valid',
    ops: { total: 100, ok: 80, fail: 15, info: 5, byF: {} },
    ackedWrites: { checked: 40, lost: 0, lostKeys: [] },
    ...over,
  };
}

/** A store of run folders `<scenario>/<name>/`. */
function store(runs: Record<string, RunFolder>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-totals-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, run] of Object.entries(runs)) {
    const at = join(dir, name);
    mkdirSync(at, { recursive: true });
    if (run.results !== undefined) writeFileSync(join(at, 'results.json'), JSON.stringify(run.results));
    if (run.nemesis !== undefined) writeFileSync(join(at, 'nemesis.jsonl'), `${run.nemesis.join('\n')}\n${run.tail ?? ''}`);
    if (run.history) writeFileSync(join(at, 'history.jsonl'), '');
  }
  return dir;
}

function io(): MainIo & { text: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  return {
    runner: async (_spec: ScenarioSpec, _options: RunOptions): Promise<RunResult> => {
      throw new Error('totals must run nothing');
    },
    out: (s) => (out += s),
    err: (s) => (err += s),
    isTTY: false,
    text: () => ({ out, err }),
  };
}

async function totalsOf(dir: string, ...extra: string[]): Promise<{ code: number; totals: Totals }> {
  const h = io();
  const code = await main(['--totals', '--json', '--store', dir, ...extra], h);
  return { code, totals: JSON.parse(h.text().out) as Totals };
}

/** Five runs of every sort: kill, a mix of many kinds, membership with a kill and lost writes, the planted bug, one that never finished. */
function mixedStore(): string {
  const dir = store({
    'kill/2026-01-01T00-00-00-000Z': {
      results: results('kill', {
        rssMb: { '1': { min: 40, max: 60, last: 50, samples: 60 }, '2': { min: 41, max: 70, last: 60, samples: 60 } },
      }),
      nemesis: [...period(10, 'kill', { nodes: ['1'] }), ...period(20, 'kill', { nodes: ['2', '3'] })],
    },
    'mix/2026-01-01T01-00-00-000Z': {
      results: results('mix', {
        rssMb: { '1': { min: 38, max: 90, last: 80, samples: 150 }, '3': { min: 45, max: 55, last: 50, samples: 150 } },
      }),
      nemesis: [
        ...period(10, 'partition-halves'),
        ...period(20, 'power-cut', { nodes: ['2'] }),
        ...period(30, 'failpoint-crash', { node: '1', crashes: 3 }),
        ...period(40, 'pause'),
        ...period(50, 'delay'),
        ...period(60, 'slow-disk'),
        // A shape from an older engine, no longer registered: a partition by its name.
        ...period(70, 'partition-old-shape'),
        JSON.stringify({ time: 80, nemesis: 'kill', phase: 'start', detail: {} }),
        JSON.stringify({ time: 81, nemesis: 'kill', phase: 'end', detail: { unterminated: true } }),
      ],
      tail: '{"time": 90, "nemesis": "pau',
    },
    'membership/2026-01-01T02-00-00-000Z': {
      results: results('membership', { verdict: 'invalid', ackedWrites: { checked: 30, lost: 2, lostKeys: ['k1'] } }),
      nemesis: [
        ...period(10, 'membership', { step: 'kill-mid-change', actions: ['remove 2', 'kill 3 (leader) 12 ms later', 'restart 3'] }),
        ...period(20, 'membership', { step: 'remove-rejoin', actions: ['remove 1', 'add 1', 'promote 1'] }),
        ...period(30, 'membership', { step: 'replace', actions: ['join 4'], healError: 'change not seen' }),
      ],
    },
    'bug-local-reads/2026-01-01T03-00-00-000Z': {
      results: results('bug-local-reads', { verdict: 'invalid', expect: 'invalid' }),
      nemesis: period(10, 'partition-isolate-leader'),
    },
    // The harness died: a history, no results.json.
    'partition-bridge/2026-01-01T04-00-00-000Z': {
      history: true,
      nemesis: [JSON.stringify({ time: 1, nemesis: 'partition-bridge', phase: 'start', detail: {} })],
    },
    // Not runs: a scenario folder without run files.
    'kill/empty': {},
  });
  mkdirSync(join(dir, '.hidden', 'x'), { recursive: true });
  writeFileSync(join(dir, '.hidden', 'x', 'results.json'), JSON.stringify(results('hidden')));
  symlinkSync('kill/2026-01-01T00-00-00-000Z', join(dir, 'latest'));
  return dir;
}

t.test('totals of a store: runs, rounds and periods by family, ops, writes, anomalies, memory', async (t) => {
  const { code, totals } = await totalsOf(mixedStore());
  t.equal(code, exitFailed, 'anomalies: exit 1');
  t.same(totals.runs.byVerdict, { valid: 2, invalid: 2, unknown: 1 }, 'latest, dot-folders and folders without run files are not runs');
  t.equal(totals.runs.total, 5);
  t.same(totals.runs.byExpect, { valid: 3, invalid: 1 }, 'the run without results.json expected nothing we know');
  t.same(
    totals.killRounds,
    {
      total: 8,
      byKind: { kill: { kills: 3, crashes: 0 }, 'failpoint-crash': { kills: 1, crashes: 3 }, membership: { kills: 1, crashes: 0 } },
    },
    'kill periods (an unterminated one too), the arming kill and crashes of failpoint-crash, the kill of a membership step',
  );
  t.equal(totals.powerCutRounds, 1);
  t.same(totals.partitionPeriods, {
    total: 4,
    byKind: { 'partition-halves': 1, 'partition-old-shape': 1, 'partition-isolate-leader': 1, 'partition-bridge': 1 },
  });
  t.equal(totals.pausePeriods, 1, 'the torn pause line is skipped');
  t.same(totals.otherPeriods, { 'failpoint-crash': 1, delay: 1, 'slow-disk': 1, membership: 3 }, 'every other kind by its name');
  t.equal(totals.healErrors, 1);
  t.equal(totals.unterminated, 1);
  t.same(totals.ops, { total: 400, ok: 320, fail: 60, info: 20 });
  t.same(totals.ackedWrites, { checked: 150, lost: 2 });
  t.equal(totals.anomalies.unexpectedVerdicts, 1, 'membership invalid where valid was expected; the planted bug caught is no anomaly');
  t.equal(totals.anomalies.lostWrites, 2);
  t.equal(totals.anomalies.errors, 1, 'the run that never finished');
  t.same(
    totals.anomalies.runs.map((a) => a.name),
    ['membership/2026-01-01T02-00-00-000Z', 'partition-bridge/2026-01-01T04-00-00-000Z'],
  );
  t.match(totals.anomalies.runs[0]!.why.join('; '), /invalid where valid was expected; 2 acknowledged write\(s\) lost; 1 heal\(s\) failed/);
  t.match(totals.anomalies.runs[1]!.why.join('; '), /no results\.json/);
  t.same(
    totals.rssMb.byNode,
    { '1': { min: 38, max: 90 }, '2': { min: 41, max: 70 }, '3': { min: 45, max: 55 } },
    'each node id over every run',
  );
  t.same(totals.rssMb.all, { min: 38, max: 90 });
  t.equal(totals.rssMb.runsSampled, 2);
  t.same(
    totals.perRun.find((r) => r.scenario === 'mix')!.notes,
    ['nemesis.jsonl: 1 unreadable line(s) skipped'],
    'a torn line is a note, not an anomaly',
  );
});

t.test('the text says the same in lines people read', async (t) => {
  const h = io();
  const dir = mixedStore();
  t.equal(await main(['--totals', '--store', dir], h), exitFailed);
  const { out, err } = h.text();
  t.equal(err, '');
  t.match(out, /^store .*: 5 run\(s\)/);
  t.match(out, /\nruns: valid 2, invalid 2, unknown 1; expected valid 3, expected invalid 1\n/);
  t.match(out, /\nkill -9 rounds: 8 \(failpoint-crash 1 \+ 3 crashes at the failpoint, kill 3, membership 1\)\n/);
  t.match(out, /\npower-cut rounds: 1\n/);
  t.match(out, /\npartition periods: 4 \(partition-bridge 1, partition-halves 1, partition-isolate-leader 1, partition-old-shape 1\)\n/);
  t.match(out, /\npause periods: 1\n/);
  t.match(out, /\nother periods: delay 1, failpoint-crash 1, membership 3, slow-disk 1\n/);
  t.match(out, /\noperations: 400 \(ok 320, fail 60, info 20\)\n/);
  t.match(out, /\nacknowledged writes: 150 verified, 2 lost\n/);
  t.match(out, /\nanomalies: 2 run\(s\) \(unexpected verdicts 1, lost acknowledged writes 2, errors 1\)\n {2}membership\//);
  t.match(out, /\nnode RSS MB \(min–max\): 1 38\.0–90\.0, 2 41\.0–70\.0, 3 45\.0–55\.0 over 2 run\(s\); all nodes 38\.0–90\.0\n/);
  t.match(out, /\n {2}mix\/2026-01-01T01-00-00-000Z \(mix seed 7\): node RSS MB \(min–max\): 1 38\.0–90\.0, 3 45\.0–55\.0\n/);
});

t.test('--scenario keeps those scenarios; clean runs exit 0', async (t) => {
  const dir = mixedStore();
  const kill = await totalsOf(dir, '--scenario', 'kill');
  t.equal(kill.code, exitPassed);
  t.equal(kill.totals.runs.total, 1);
  t.equal(kill.totals.killRounds.total, 2);
  t.same(kill.totals.anomalies.runs, []);
  const two = await totalsOf(dir, '--scenario', 'kill', '--scenario', 'mix');
  t.equal(two.totals.runs.total, 2);
  t.equal(two.totals.killRounds.total, 7, '2 + 1 unterminated kill + failpoint-crash 1 + 3');
});

t.test('bad input: one line, no stack trace', async (t) => {
  const missing = io();
  t.equal(await main(['--totals', '--store', join(tmpdir(), 'kvapp-totals-no-such-store')], missing), exitError);
  t.match(missing.text().err, /^error: store .*kvapp-totals-no-such-store does not exist\n$/);
  const empty = io();
  t.equal(await main(['--totals', '--store', store({})], empty), exitError);
  t.match(empty.text().err, /^error: no run folder under .*\n$/);
  const none = io();
  t.equal(await main(['--totals', '--store', mixedStore(), '--scenario', 'clock'], none), exitError);
  t.match(none.text().err, /^error: no run folder of clock under /);
  const file = io();
  const notDir = join(store({}), 'file');
  writeFileSync(notDir, 'x');
  t.equal(await main(['--totals', '--store', notDir], file), exitError);
  t.match(file.text().err, /is not a directory\n$/);
  const json = io();
  t.equal(await main(['--json'], json), exitError);
  t.match(json.text().err, /--json goes with --totals/);
  const damaged = io();
  const d = store({ 'kill/a': { history: true } });
  writeFileSync(join(d, 'kill/a/results.json'), '{"verdict": "val');
  t.equal(await main(['--totals', '--store', d], damaged), exitFailed, 'an unreadable results.json is an anomaly of its run');
  t.match(damaged.text().out, /\n {2}kill\/a: results\.json: /);
});
