// `npm run bench` end to end in its smallest shape: a real 3-node cluster, one load process,
// one put case of one second. Asserts the shape of the --json report and that the bench
// leaves nothing behind in its temp dir; no figure is asserted (performance lives in the bench).
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('../../bench/bench.mjs', import.meta.url));
/** This checkout's root: built, so it can stand in as its own --baseline. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
/** Only turns a bench that never ends into a failure. */
const RUN_MS_MAX = 240_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function runBench(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const child = spawn(process.execPath, [BENCH, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), RUN_MS_MAX);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The smallest shape: one load process, one put case of one second at 1 in flight, 100 keys. */
const tinyShape = (runs: number): string[] => [
  '--duration',
  '1',
  '--warmup',
  '0',
  '--runs',
  String(runs),
  '--concurrency',
  '1',
  '--workloads',
  'put',
  '--procs',
  '1',
  '--keys',
  '100',
];

const isNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

t.test('a tiny kvapp-only run writes the documented JSON and cleans up its data', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-bench-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const benchTmp = join(dir, 'tmp');
  const out = join(dir, 'out.json');
  mkdirSync(benchTmp);
  const run = await runBench([...tinyShape(1), '--json', out], { TMPDIR: benchTmp });
  t.equal(run.code, 0, `exit 0; stderr: ${run.stderr}`);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  t.ok(Array.isArray(report.results), 'results is an array');
  t.equal(report.results.length, 1, 'one result: kvapp, put, 1 in flight');
  const r = report.results[0];
  t.same(
    Object.keys(r).slice(0, 9),
    ['system', 'workload', 'concurrency', 'opsPerSec', 'p50Ms', 'p99Ms', 'p999Ms', 'serverCpuUsPerOp', 'peakRssMb'],
    'the documented fields first',
  );
  t.match(r, { system: 'kvapp', workload: 'put', concurrency: 1 });
  t.ok(isNumber(r.opsPerSec) && r.opsPerSec > 0, `opsPerSec is a positive number: ${r.opsPerSec}`);
  t.ok(isNumber(r.p50Ms) && isNumber(r.p99Ms) && isNumber(r.p999Ms), 'latency percentiles are numbers');
  t.ok(r.p50Ms <= r.p99Ms && r.p99Ms <= r.p999Ms, 'p50 <= p99 <= p99.9');
  t.ok(isNumber(r.serverCpuUsPerOp) && r.serverCpuUsPerOp > 0, `server CPU per op is positive: ${r.serverCpuUsPerOp}`);
  t.ok(isNumber(r.peakRssMb) && r.peakRssMb > 0, `peak RSS is positive: ${r.peakRssMb}`);
  t.equal(r.peakRssMbPerNode.length, 3, 'a peak RSS for each of the three nodes');
  t.equal(r.errors, 0, 'no request failed');
  t.ok(isNumber(report.floors.fdatasync.p50Ms) && report.floors.fdatasync.p50Ms > 0, 'the fdatasync floor was measured');
  t.ok(isNumber(report.floors.wsRtt.p50Ms) && report.floors.wsRtt.p50Ms > 0, 'the WebSocket floor was measured');
  t.same(report.comparison, [], 'no comparison without --vs etcd');
  t.match(run.stdout, /\| kvapp \| put \| 1 \|/, 'the table is printed');
  t.same(readdirSync(benchTmp), [], 'the cluster data under the temp dir is gone');
});

t.test('a bad flag ends in one line and exit code 2, before anything starts', async (t) => {
  const run = await runBench(['--concurrency', '0']);
  t.equal(run.code, 2);
  t.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  t.match(run.stderr, /--concurrency wants an integer >= 1, got '0'/);
  t.notMatch(run.stderr, /^\s+at /m, 'no stack frames');
});

t.test('--baseline runs another checkout as kvapp-baseline, alternating, and prints the ratios', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-bench-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out.json');
  // Two runs, so that each system goes first once.
  const run = await runBench([...tinyShape(2), '--baseline', REPO_ROOT, '--json', out]);
  t.equal(run.code, 0, `exit 0; stderr: ${run.stderr}`);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  t.same(report.results.map((r: { system: string }) => r.system).sort(), ['kvapp', 'kvapp-baseline'], 'both systems measured');
  t.equal(report.baseline.length, 1, 'one ratio row: put at 1 in flight');
  const row = report.baseline[0];
  t.match(row, { workload: 'put', concurrency: 1 });
  for (const key of ['throughputRatio', 'p50Ratio', 'p99Ratio', 'cpuRatio'])
    t.ok(isNumber(row[key]) && row[key] > 0, `${key} is a positive number: ${row[key]}`);
  t.match(run.stdout, /kvapp against kvapp-baseline/, 'the ratio table is printed');
  t.match(run.stdout, /run 1 kvapp-baseline/, 'the baseline ran in run 1');
});

t.test('--baseline naming a dir without a built kvapp-node ends in one line and exit code 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kvapp-bench-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = await runBench(['--baseline', dir]);
  t.equal(run.code, 2);
  t.equal(run.stderr.trim().split('\n').length, 1, `one line: ${run.stderr}`);
  t.match(run.stderr, /--baseline: no .*packages\/node-server\/dist\/cli\.js \(build that checkout first/);
});
