// The two small benches end to end in their smallest shape, so that they keep running: the
// tables they print have a row per case, and a bad flag gets one line and exit 2. No figure is
// asserted (performance lives in the benches).
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bench = (name: string) => fileURLToPath(new URL(`../../bench/${name}`, import.meta.url));
/** Only turns a bench that never ends into a failure. */
const RUN_MS_MAX = 120_000;

async function runBench(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bench(name), ...args], { timeout: RUN_MS_MAX });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

t.test('compression-bench: a row per kind of value and codec', async (t) => {
  const r = await runBench('compression-bench.mjs', ['--mb', '1', '--runs', '1', '--seed', '7']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /seed 7/, 'the seed is printed');
  for (const kind of ['random', 'records'])
    for (const codec of ['deflate-1', 'brotli-1']) t.match(r.stdout, new RegExp(`\\| ${kind} \\| ${codec} \\| 1\\.0 \\| [0-9.]+ \\|`));
});

t.test('codec-bench: JSON and msgpackr', async (t) => {
  const r = await runBench('codec-bench.mjs', ['--runs', '1']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /\| json \| [0-9.]+ \| 1\.00 \|/);
  t.match(r.stdout, /\| msgpackr \| [0-9.]+ \| [0-9.]+ \|/);
});

t.test('a bad or unknown flag: one line naming the bench, exit 2', async (t) => {
  for (const [name, args] of [
    ['compression-bench.mjs', ['--mb', '0']],
    ['compression-bench.mjs', ['--no-such-flag']],
    ['codec-bench.mjs', ['--runs', 'x']],
    ['codec-bench.mjs', ['an-argument']],
  ] as const) {
    const r = await runBench(name, [...args]);
    t.equal(r.code, 2, name);
    t.equal(r.stderr.trim().split('\n').length, 1, `${name}: ${r.stderr.trim()}`);
    t.match(r.stderr, new RegExp(`^${name.replace('.mjs', '')}: `), 'names the bench, no stack trace');
  }
});
