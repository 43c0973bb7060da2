import t from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { realClock, skewS, switchElapsedS, withRate } from '../../src/nemesis/fake-clock.js';
import type { FakeClock } from '../../src/nemesis/fake-clock.js';
import { clockFile, fakeClockEnv, libfaketimePath, libfaketimeUnder, readClock, writeClock } from '../../src/nemesis/libfaketime.js';

/**
 * Real processes under Debian's libfaketime (npm test's pretest installs it): the timestamp file
 * really moves a running Node process's clocks and timers, and fake-clock.ts's arithmetic keeps a
 * rate change continuous where writing the rate alone makes the clock jump.
 */

/** Answers each stdin line: "now" → its Date.now(); "timer" → "fired" once a 2 000 ms setTimeout fired. */
const childProgram = `
const rl = require('node:readline').createInterface({ input: process.stdin });
rl.on('line', (l) => {
  if (l === 'now') process.stdout.write(Date.now() + '\\n');
  if (l === 'timer') setTimeout(() => process.stdout.write('fired\\n'), 2000);
});
process.stdout.write('ready\\n');
`;

interface FakedChild {
  /** performance.now() just after spawn returned: the start its libfaketime clock counts from. */
  readonly startedAt: number;
  /** Sends one line and waits for the child's next line. */
  ask(line: string): Promise<string>;
  /** Its skew in ms (its Date.now minus ours at the middle of the question), and the question's round trip. */
  skewMs(): Promise<{ readonly skewMs: number; readonly roundTripMs: number }>;
  /** Real seconds since it started. */
  elapsedS(): number;
  close(): void;
}

async function startChild(dir: string, id: string): Promise<FakedChild> {
  const env = { ...process.env, NODE_OPTIONS: '', ...fakeClockEnv(dir, id) };
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['-e', childProgram], { env, stdio: 'pipe' });
  const startedAt = performance.now();
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done === true) throw new Error('the child ended');
    return r.value;
  };
  if ((await next()) !== 'ready') throw new Error('the child did not start');
  const ask = async (line: string): Promise<string> => {
    child.stdin.write(`${line}\n`);
    return next();
  };
  return {
    startedAt,
    ask,
    skewMs: async () => {
      const before = Date.now();
      const theirs = Number(await ask('now'));
      const after = Date.now();
      return { skewMs: theirs - (before + after) / 2, roundTripMs: after - before };
    },
    elapsedS: () => (performance.now() - startedAt) / 1000,
    close: () => child.kill('SIGKILL'),
  };
}

/** How long after spawn returns libfaketime may start its clock (node-clock.ts's bound). */
const startDelayMaxS = 0.25;
/** How far the skew measured by one question may be off, beyond its round trip. */
const noiseMs = 30;

const dir = mkdtempSync(join(tmpdir(), 'kvapp-faketime-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the library is found where Debian puts it', async (t) => {
  const lib = libfaketimePath();
  t.match(lib, /^\/usr\/lib\/[^/]+\/faketime\/libfaketime\.so\.1$/);
  t.ok(existsSync(lib));
});

t.test("a machine without it: none found; this machine's triplet is preferred", async (t) => {
  const root = join(dir, 'usr-lib');
  t.equal(libfaketimeUnder(root), null, 'no folder at all');
  mkdirSync(join(root, 'aa-other-gnu', 'faketime'), { recursive: true });
  t.equal(libfaketimeUnder(root), null, 'a faketime folder without the library');
  writeFileSync(join(root, 'aa-other-gnu', 'faketime', 'libfaketime.so.1'), '');
  t.equal(libfaketimeUnder(root), join(root, 'aa-other-gnu', 'faketime', 'libfaketime.so.1'), 'the only one there is');
  const own = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch as 'x64' | 'arm64'];
  if (own !== undefined) {
    mkdirSync(join(root, own, 'faketime'), { recursive: true });
    writeFileSync(join(root, own, 'faketime', 'libfaketime.so.1'), '');
    t.equal(libfaketimeUnder(root), join(root, own, 'faketime', 'libfaketime.so.1'), 'the own triplet over another');
  }
});

t.test("a node's file starts at the real clock and is never reset by a new environment", async (t) => {
  const env = fakeClockEnv(dir, 'a');
  t.equal(env.FAKETIME_TIMESTAMP_FILE, clockFile(dir, 'a'));
  t.equal(env.FAKETIME_NO_CACHE, '1');
  t.equal(env.LD_PRELOAD, libfaketimePath());
  t.same(readClock(clockFile(dir, 'a')), realClock);
  writeClock(clockFile(dir, 'a'), { offsetS: -2, rate: 1 });
  fakeClockEnv(dir, 'a');
  t.same(readClock(clockFile(dir, 'a')), { offsetS: -2, rate: 1 }, 'the offset gathered is kept');
  writeFileSync(clockFile(dir, 'b'), 'garbage');
  t.same(readClock(clockFile(dir, 'b')), realClock, 'a file not of ours reads as the real clock');
  t.same(readClock(join(dir, 'missing')), realClock);
});

t.test('a restarted process keeps the offset its node gathered (rate 1: independent of its start)', async (t) => {
  writeClock(clockFile(dir, 'restarted'), { offsetS: -2, rate: 1 });
  const child = await startChild(dir, 'restarted');
  t.teardown(() => child.close());
  const { skewMs, roundTripMs } = await child.skewMs();
  t.ok(Math.abs(skewMs + 2000) < noiseMs + roundTripMs, `2 s behind from its start: ${skewMs} ms`);
});

t.test("at x4 a process's timers run four times as fast", async (t) => {
  writeClock(clockFile(dir, 'timer'), { offsetS: 0, rate: 4 });
  const child = await startChild(dir, 'timer');
  t.teardown(() => child.close());
  const asked = performance.now();
  t.equal(await child.ask('timer'), 'fired');
  const realMs = performance.now() - asked;
  // 500 ms at x4; 2 000 ms would be the real clock. The margin is for a loaded machine.
  t.ok(realMs < 1500, `a 2 000 ms setTimeout fired after ${Math.round(realMs)} real ms`);
});

t.test('a rate change through withRate steps the clock a little at most, and only forward; writing the rate alone jumps', async (t) => {
  const child = await startChild(dir, 'smooth');
  t.teardown(() => child.close());
  const file = clockFile(dir, 'smooth');
  await sleep(1500);
  const before = await child.skewMs();
  t.ok(Math.abs(before.skewMs) < 50 + before.roundTripMs, `x1: ${before.skewMs} ms skew`);
  let clock: FakeClock = withRate(readClock(file), 4, switchElapsedS(1, 4, child.elapsedS(), startDelayMaxS));
  writeClock(file, clock);
  const switched = await child.skewMs();
  // libfaketime starts its clock when the child's loader runs it, 0–250 ms after spawn returned;
  // switchElapsedS turns that error into a step forward of at most 3 × 250 ms (never back). The
  // naive jump below is over 4.5 s.
  const step = switched.skewMs - before.skewMs;
  t.ok(step > -(noiseMs + switched.roundTripMs), `no step back at the switch: ${step} ms`);
  t.ok(step < 3 * startDelayMaxS * 1000 + noiseMs + switched.roundTripMs, `at most a small step forward: ${step} ms`);
  await sleep(500);
  const fast = await child.skewMs();
  t.ok(fast.skewMs - switched.skewMs > 1000, `then it runs ahead: ${fast.skewMs} ms after 500 real ms at x4`);
  const predicted = skewS(clock, child.elapsedS()) * 1000;
  t.ok(
    Math.abs(fast.skewMs - predicted) < 3 * startDelayMaxS * 1000 + noiseMs + fast.roundTripMs,
    `as the arithmetic predicts (${Math.round(predicted)} ms)`,
  );
  clock = withRate(clock, 1, switchElapsedS(4, 1, child.elapsedS(), startDelayMaxS));
  writeClock(file, clock);
  const healed = await child.skewMs();
  const healStep = healed.skewMs - fast.skewMs;
  t.ok(healStep > -(noiseMs + healed.roundTripMs), `no step back at the heal: ${healStep} ms`);
  t.ok(healStep < 3 * startDelayMaxS * 1000 + noiseMs + healed.roundTripMs, `at most a small step forward: ${healStep} ms`);
  await sleep(300);
  const after = await child.skewMs();
  t.ok(Math.abs(after.skewMs - healed.skewMs) < noiseMs + after.roundTripMs, `and x1 again, still ahead: ${after.skewMs} ms`);

  const naive = await startChild(dir, 'naive');
  t.teardown(() => naive.close());
  await sleep(1500);
  const naiveBefore = await naive.skewMs();
  writeFileSync(clockFile(dir, 'naive'), '+0 x4\n');
  const naiveAfter = await naive.skewMs();
  t.ok(naiveAfter.skewMs - naiveBefore.skewMs > 4000, `"+0 x4" after 1.5 s jumps ${naiveAfter.skewMs - naiveBefore.skewMs} ms at once`);
  t.equal(readFileSync(clockFile(dir, 'naive'), 'utf8'), '+0 x4\n');
});
