import t from 'tap';
import {
  faketimeText,
  jumpedForward,
  parseFaketimeText,
  realClock,
  skewS,
  switchElapsedS,
  withRate,
} from '../../src/nemesis/fake-clock.js';

/** Faked elapsed seconds of a clock at real elapsed `e`: what libfaketime computes from the file. */
const faked = (c: { offsetS: number; rate: number }, e: number): number => c.offsetS + c.rate * e;

t.test('a rate change keeps the faked time where it was (no jump)', async (t) => {
  const fast = withRate(realClock, 4, 1);
  t.same(fast, { offsetS: -3, rate: 4 }, 'x4 at 1 s: "-3 x4", the measured continuous setting');
  t.equal(faked(fast, 1), faked(realClock, 1), 'same time at the switch');
  t.equal(faked(fast, 2), 5, 'then four seconds per second');
  const healed = withRate(fast, 1, 2);
  t.equal(faked(healed, 2), faked(fast, 2), 'back to x1 at 2 s: same time again');
  t.equal(skewS(healed, 10), 3, 'and it stays 3 s ahead');
  const slow = withRate(healed, 0.25, 4);
  t.equal(faked(slow, 4), faked(healed, 4));
  t.equal(skewS(withRate(slow, 1, 8), 8), 0, 'four real seconds at x0.25 took the 3 s back');
});

t.test('a naive rate change (offset kept) would jump by (new − old rate) · elapsed', async (t) => {
  const naive = { offsetS: 0, rate: 4 };
  t.equal(faked(naive, 1) - faked(realClock, 1), 3, 'what the compensation avoids');
});

t.test('skew: how far ahead the faked clock is', async (t) => {
  t.equal(skewS(realClock, 100), 0);
  t.equal(skewS({ offsetS: 1, rate: 0.5 }, 4), -1);
});

t.test('jumps go forward only', async (t) => {
  t.same(jumpedForward({ offsetS: -2, rate: 0.5 }, 5), { offsetS: 3, rate: 0.5 }, 'the rate is kept');
  t.throws(() => jumpedForward(realClock, -1), /positive number of seconds/);
  t.throws(() => jumpedForward(realClock, 0), /positive/);
  t.throws(() => jumpedForward(realClock, Number.NaN), /positive/);
});

t.test('bad rates and times are refused', async (t) => {
  t.throws(() => withRate(realClock, 0, 1), /rate must be a positive number, got 0/);
  t.throws(() => withRate(realClock, -2, 1), /positive/);
  t.throws(() => withRate(realClock, Infinity, 1), /positive/);
  t.throws(() => withRate(realClock, 2, -1), /elapsed time must be ≥ 0/);
  t.throws(() => faketimeText({ offsetS: Number.NaN, rate: 1 }), /offset must be finite/);
});

t.test('the file text: a signed offset and a rate, read back the same', async (t) => {
  t.equal(faketimeText(realClock), '+0.000000 x1.000000\n');
  t.equal(faketimeText({ offsetS: -3, rate: 4 }), '-3.000000 x4.000000\n');
  t.equal(faketimeText({ offsetS: 1.25, rate: 0.25 }), '+1.250000 x0.250000\n');
  for (const c of [realClock, { offsetS: -3, rate: 4 }, { offsetS: 12.345678, rate: 0.3 }]) t.same(parseFaketimeText(faketimeText(c)), c);
  t.same(parseFaketimeText('+0 x1'), realClock, "the measured form: '+0 x1'");
  t.equal(parseFaketimeText(''), null);
  t.equal(parseFaketimeText('@2020-01-01 00:00:00'), null, 'an absolute time is not ours');
  t.equal(parseFaketimeText('+1 x0'), null, 'a stopped clock is not ours');
});

t.test('an unknown start within a bound only ever moves the clock forward', async (t) => {
  // The harness measured 10 s since spawn; libfaketime started up to 0.1 s later: true elapsed in [9.9, 10].
  for (const trueElapsed of [9.9, 9.95, 10]) {
    for (const [from, to] of [
      [1, 4],
      [4, 1],
      [1, 0.25],
      [0.25, 1],
      [0.5, 3],
    ] as const) {
      const clock = { offsetS: 0.5, rate: from };
      const next = withRate(clock, to, switchElapsedS(from, to, 10, 0.1));
      const step = faked(next, trueElapsed) - faked(clock, trueElapsed);
      t.ok(
        step >= -1e-9 && step <= Math.abs(to - from) * 0.1 + 1e-9,
        `x${from} → x${to}, true start ${10 - trueElapsed} s late: ${step.toFixed(3)} s`,
      );
    }
  }
  t.equal(switchElapsedS(1, 4, 0.05, 0.1), 0, 'never below 0');
  t.throws(() => switchElapsedS(1, 4, -1, 0.1), /elapsed time must be ≥ 0/);
});
