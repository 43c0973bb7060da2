import type { KvCluster } from '../run/kv-cluster.js';
import { jumpedForward, skewS, switchElapsedS, withRate } from './fake-clock.js';
import type { FakeClock } from './fake-clock.js';
import { clockFile, readClock, writeClock } from './libfaketime.js';

/**
 * A live node's libfaketime clock, changed through its timestamp file. The file is the only state:
 * it is read, changed by fake-clock.ts's arithmetic, and written back, against the start of the
 * node's CURRENT process (each process starts its own libfaketime clock from the file). A node
 * restarted while its rate is not 1 therefore keeps the file's offset and counts the rate from its
 * new start: the skew its old process gathered since the last write is lost, and the next change
 * is continuous with what the new process sees.
 */

/**
 * How long after spawn returns libfaketime may start its clock: measured 0–30 ms on an idle 2-core
 * machine, up to ~115 ms under heavy load. A rate rise computed with this bound steps the clock
 * forward by at most (rise) · bound (0.75 s for x1 → x4), never back unless the start came later.
 */
const startDelayMaxS = 0.25;

/** Real seconds since the node's current process was spawned (0 before its first start). */
function elapsedS(cluster: KvCluster, id: string): number {
  const startedAt = cluster.process(id).startedAt;
  return startedAt === undefined ? 0 : Math.max(0, (performance.now() - startedAt) / 1000);
}

function change(cluster: KvCluster, id: string, next: (clock: FakeClock, elapsedS: number) => FakeClock): { readonly skewS: number } {
  const file = clockFile(cluster.runDir, id);
  const elapsed = elapsedS(cluster, id);
  const clock = next(readClock(file), elapsed);
  writeClock(file, clock);
  return { skewS: roundMs(skewS(clock, elapsed)) };
}

/** The node's clock runs at `rate` from now on, without a jump; returns how far it is ahead now (s). */
export function setNodeClockRate(cluster: KvCluster, id: string, rate: number): { readonly skewS: number } {
  return change(cluster, id, (clock, elapsed) => withRate(clock, rate, switchElapsedS(clock.rate, rate, elapsed, startDelayMaxS)));
}

/** The node's clock jumps `jumpS` seconds forward now; returns how far it is ahead now (s). */
export function jumpNodeClock(cluster: KvCluster, id: string, jumpS: number): { readonly skewS: number } {
  return change(cluster, id, (clock) => jumpedForward(clock, jumpS));
}

function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
