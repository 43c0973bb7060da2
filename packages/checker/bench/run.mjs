// Benchmark of the whole `kvapp-check` process (parsing included) on generated histories.
// Usage: npm run bench -w @kvapp/checker [-- --runs N]
// Prints, per shape: median wall time over N runs, the highest peak RSS, the verdict, and the
// median wall time of a baseline process that only JSON.parses each line (parse-baseline.mjs), run
// interleaved with the checks: the ratio to it is what to compare across machines and runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '@kvapp/core';
import { simulate, toEvents, toJsonl } from '../dist/generate.js';
import { inject } from '../dist/inject.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const cli = new URL('../dist/cli.js', import.meta.url).pathname;
const baseline = new URL('./parse-baseline.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'kvapp-bench-'));
const timeBin = '/usr/bin/time';

const shapes = [
  { name: '100,000 ops, 1,000 keys, 50 clients', ops: 100_000, keys: 1000, clients: 50, expect: true },
  { name: '100,000 ops, 10 keys, 50 clients', ops: 100_000, keys: 10, clients: 50, expect: true },
  { name: '100,000 ops, 1 key, 5 clients', ops: 100_000, keys: 1, clients: 5, expect: true },
  { name: '10,000 ops, 1 key, 50 clients', ops: 10_000, keys: 1, clients: 50, expect: true },
  { name: '1,000 ops, 1 key, 50 clients', ops: 1_000, keys: 1, clients: 50, expect: true },
  { name: '10,000 ops, 1 key, 5 clients, one stale read late', ops: 10_000, keys: 1, clients: 5, anomaly: 'stale-read', expect: false },
  { name: '10,000 ops, 1 key, 50 clients, one stale read late', ops: 10_000, keys: 1, clients: 50, anomaly: 'stale-read', expect: false },
  { name: '10,000 ops, 1 key, 5 clients, one lost write late', ops: 10_000, keys: 1, clients: 5, anomaly: 'lost-write', expect: false },
  {
    name: '10,000 ops, 1 key, 5 clients, one impossible cas late',
    ops: 10_000,
    keys: 1,
    clients: 5,
    anomaly: 'impossible-cas',
    expect: false,
  },
];

function measure(file, script = cli, args = ['--json']) {
  // /usr/bin/time -f "%e %M": elapsed seconds and peak resident set size (KiB) of the whole process.
  if (existsSync(timeBin)) {
    const r = spawnSync(timeBin, ['-f', '%e %M %U %S', process.execPath, script, file, ...args], { encoding: 'utf8' });
    const [wall, kib, user, sys] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
    return { wallS: wall, cpuS: user + sys, peakMiB: kib / 1024, code: r.status, out: JSON.parse(r.stdout) };
  }
  const started = performance.now();
  const out = JSON.parse(execFileSync(process.execPath, [script, file, ...args], { encoding: 'utf8' }));
  return { wallS: (performance.now() - started) / 1000, cpuS: NaN, peakMiB: NaN, code: 0, out };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `kvapp-check benchmark: ${runs} runs per shape, seed 1, ~1% indeterminate results` +
    ` (a dozen writes that never return before the late anomalies)\n`,
);
console.log('| shape | median wall | median CPU (user+sys) | peak memory | verdict | JSON.parse baseline | ratio |');
console.log('|---|---|---|---|---|---|---|');
for (const s of shapes) {
  const ops = simulate({
    rng: seededRng(1),
    clients: s.clients,
    keys: s.keys,
    ops: s.ops,
    ...(s.anomaly ? { stallWrites: { afterShare: 0.85, count: 12 } } : {}),
  });
  if (s.anomaly && inject(ops, s.anomaly, seededRng(1), 0.95) < 0) throw new Error(`no place for ${s.anomaly}`);
  const file = join(dir, `${s.ops}-${s.keys}-${s.clients}-${s.anomaly ?? 'none'}.jsonl`);
  writeFileSync(file, toJsonl(toEvents(ops)));
  const results = [];
  const base = [];
  for (let i = 0; i < runs; i++) {
    results.push(measure(file));
    base.push(measure(file, baseline, []).wallS);
  }
  const verdicts = new Set(results.map((r) => String(r.out.valid)));
  const verdict = [...verdicts].join('/');
  const right = verdicts.size === 1 && results[0].out.valid === s.expect ? 'right' : `WRONG (expected ${s.expect})`;
  const wall = median(results.map((r) => r.wallS));
  console.log(
    `| ${s.name} | ${wall.toFixed(2)} s | ${median(results.map((r) => r.cpuS)).toFixed(2)} s | ${Math.max(...results.map((r) => r.peakMiB)).toFixed(0)} MiB | ${verdict} (${right}) | ${median(base).toFixed(2)} s | ${(wall / median(base)).toFixed(2)} |`,
  );
}
