/**
 * Pure arithmetic of a libfaketime clock set through its timestamp file. libfaketime measures a
 * rate from the moment the process loaded it (its start), so a file reading `<offset> x<rate>`
 * makes the process see
 *
 *     faked elapsed = offsetS + rate · real elapsed        (both since the process started)
 *
 * on every clock: wall (Date.now, log timestamps) and monotonic (performance.now, and libuv's
 * timers with it). Changing only the rate would move the clock by (new − old rate) · elapsed at
 * once; withRate moves the offset so that the clock goes on from where it was.
 */

/** One setting of the file: the faked elapsed time is offsetS + rate · real elapsed seconds. */
export interface FakeClock {
  readonly offsetS: number;
  readonly rate: number;
}

/** What every node's file says before any fault: the real clock. */
export const realClock: FakeClock = { offsetS: 0, rate: 1 };

/** Decimals written to the file: micro-seconds for the offset, more than libfaketime's rates need. */
const offsetDecimals = 6;
const rateDecimals = 6;

/** How far the faked clock is ahead of the real one `elapsedS` after the process started (negative: behind). */
export function skewS(clock: FakeClock, elapsedS: number): number {
  return clock.offsetS + (clock.rate - 1) * elapsedS;
}

/**
 * The setting that runs at `rate` from `elapsedS` on without a jump: at elapsedS both give the same
 * faked time (o + r·e = o' + r'·e, so o' = o + e·(r − r')).
 */
export function withRate(clock: FakeClock, rate: number, elapsedS: number): FakeClock {
  checkRate(rate);
  checkElapsed(elapsedS);
  return { offsetS: clock.offsetS + elapsedS * (clock.rate - rate), rate };
}

/**
 * The elapsed time to give withRate when libfaketime's start is known only to lie within
 * `startDelayMaxS` after the moment the harness measures from (it starts when the child's loader
 * runs it, after spawn returned), so that `elapsedS` is an upper bound and elapsedS −
 * startDelayMaxS a lower bound of the true elapsed time. A switch computed with e instead of the
 * true e* moves the clock by (to − from) · (e* − e): a rate rise takes the lower bound and a fall the
 * upper one, so the error only ever moves the clock forward, never back (see jumpedForward).
 */
export function switchElapsedS(from: number, to: number, elapsedS: number, startDelayMaxS: number): number {
  checkElapsed(elapsedS);
  return to > from ? Math.max(0, elapsedS - startDelayMaxS) : elapsedS;
}

/**
 * The clock jumped `jumpS` seconds forward at once (as after a VM pause). Only forward: a monotonic
 * clock never runs backwards on a real machine, so a backward jump would test what cannot happen.
 */
export function jumpedForward(clock: FakeClock, jumpS: number): FakeClock {
  if (!(Number.isFinite(jumpS) && jumpS > 0)) throw new RangeError(`a clock jump must be a positive number of seconds, got ${jumpS}`);
  return { offsetS: clock.offsetS + jumpS, rate: clock.rate };
}

/** The timestamp file's text, e.g. `-3.000000 x4.000000`: libfaketime's relative offset and rate. */
export function faketimeText(clock: FakeClock): string {
  checkRate(clock.rate);
  if (!Number.isFinite(clock.offsetS)) throw new RangeError(`a clock offset must be finite, got ${clock.offsetS}`);
  const offset = clock.offsetS.toFixed(offsetDecimals);
  // libfaketime wants the sign: "+0" is an offset, "0" alone would not parse as one.
  const signed = offset.startsWith('-') ? offset : `+${offset}`;
  return `${signed} x${clock.rate.toFixed(rateDecimals)}\n`;
}

/** Reads back what faketimeText wrote (also the `+0 x1` a node starts with); null for anything else. */
export function parseFaketimeText(text: string): FakeClock | null {
  const match = /^\s*([+-]\d+(?:\.\d+)?)\s+x(\d+(?:\.\d+)?)\s*$/.exec(text);
  if (match === null) return null;
  const clock = { offsetS: Number(match[1]), rate: Number(match[2]) };
  return clock.rate > 0 ? clock : null;
}

function checkRate(rate: number): void {
  if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`a clock rate must be a positive number, got ${rate}`);
}

function checkElapsed(elapsedS: number): void {
  if (!(Number.isFinite(elapsedS) && elapsedS >= 0)) throw new RangeError(`elapsed time must be ≥ 0 seconds, got ${elapsedS}`);
}
