import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import { fakeClockEnv } from '../libfaketime.js';
import type { NemesisModule } from '../module.js';
import { jumpNodeClock, setNodeClockRate } from '../node-clock.js';
import type { Random } from '../partitions.js';

/** The fault's shapes: whose clock, and which way it goes. */
const shapes = ['leader-fast', 'leader-slow', 'follower-fast', 'follower-slow', 'jump'] as const;

/** A uniform draw in [min, max), rounded to `decimals` so that nemesis.jsonl stays readable. */
function between(random: Random, min: number, max: number, decimals: number): number {
  return Number((min + random() * (max - min)).toFixed(decimals));
}

/**
 * One node's clock skewed through libfaketime (every node runs with it preloaded; nodeEnv): the
 * leader or a follower running fast (x2–x4) or slow (x0.25–x0.5), or one node's clock jumping 1–10
 * s forward. Heal returns a skewed rate to 1 without a jump, so a clock that ran slow stays behind
 * (and a fast or jumped one ahead), as a real machine's would. kvapp serves reads by ReadIndex, not
 * by a lease on its clock, so the history must stay linearizable.
 */
export const clock: NemesisModule = {
  description: "one node's clock fast (x2-x4) or slow (x0.25-x0.5), leader or follower, or jumping 1-10 s forward",
  start: async ({ cluster, random }) => {
    const shape = pick(shapes, random);
    const leader = await cluster.leader();
    const followers = cluster.ids.filter((id) => id !== leader);
    const node = shape.startsWith('leader') && leader !== null ? leader : pick(shape === 'jump' ? cluster.ids : followers, random);
    const role = node === leader ? 'leader' : leader === null ? 'unknown' : 'follower';
    if (shape === 'jump') {
      const jumpS = between(random, 1, 10, 1);
      const { skewS } = jumpNodeClock(cluster, node, jumpS);
      // Nothing to undo: the clock stays ahead, as after a VM pause.
      return { detail: { shape, node, role, jumpS, skewS }, heal: async () => ({}) };
    }
    const rate = shape.endsWith('fast') ? between(random, 2, 4, 2) : between(random, 0.25, 0.5, 2);
    setNodeClockRate(cluster, node, rate);
    return {
      detail: { shape, node, role, rate },
      heal: async () => ({ skewS: setNodeClockRate(cluster, node, 1).skewS }),
    };
  },
  nodeEnv: ({ id, runDir }) => fakeClockEnv(runDir, id),
  note: (end) =>
    typeof end.skewS === 'number' && typeof end.node === 'string'
      ? `node ${end.node} (${String(end.role)}) ${end.shape === 'jump' ? `jumped ${String(end.jumpS)} s` : `ran at x${String(end.rate)}`}: its clock ended ${Math.abs(end.skewS).toFixed(2)} s ${end.skewS >= 0 ? 'ahead' : 'behind'}`
      : null,
  inMix: true,
  nodesMin: 2,
  suiteNodes: { ci: 3, nightly: 5 },
  // CI: three 3 s faults in 12 s (the suite's CI time is short); nightly: the default.
  suiteTiming: { ci: { faultS: 3, recoverS: 1, timeLimitS: 12 }, nightly: { faultS: 8, recoverS: 4, timeLimitS: 240 } },
  band: { label: 'clock', colour: bandColours.clock },
};
