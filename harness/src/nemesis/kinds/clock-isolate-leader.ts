import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import { cutOff } from '../cut-off.js';
import { fakeClockEnv } from '../libfaketime.js';
import type { NemesisModule } from '../module.js';
import { setNodeClockRate } from '../node-clock.js';
import { isolateNode } from '../partitions.js';

/**
 * The old leader's clock rate: its election timeout lasts four times as long as its peers' while
 * they elect a new leader without it.
 */
const slowRate = 0.25;
/** Share of the clients whose reads are pinned to the isolated old leader (as partition-isolate-leader). */
const pinnedShare = 0.5;

/**
 * The leader's clock slowed to x0.25, then the leader cut off from every peer while half of the
 * clients read only through it. A leader that serves reads from a lease timed on its own clock
 * (etcd's lease-based reads; kvapp-node --unsafe-lease-reads) keeps answering long after the
 * others elected a new leader and took writes: stale reads. kvapp confirms every read with a quorum
 * (ReadIndex), so the history must stay linearizable. Heal: links pass, the clock back to rate 1
 * (continuously: it stays behind).
 */
export const clockIsolateLeader: NemesisModule = {
  description: 'the leader on a x0.25 clock, cut from every peer (its clients pinned to it)',
  start: async ({ cluster, workload, random }) => {
    const leader = await cluster.leader();
    const node = leader ?? pick(cluster.ids, random);
    // Slowed first: by the time its peers stop hearing from it, its own election timeout is already long.
    setNodeClockRate(cluster, node, slowRate);
    const fault = cutOff(cluster, isolateNode(cluster.ids, node), { leaderKnown: leader !== null, rate: slowRate, pinnedShare });
    workload.setPin({ endpoint: cluster.clientEndpoint(node), share: pinnedShare });
    return {
      ...fault,
      heal: async () => {
        workload.setPin(null);
        await fault.heal();
        return { skewS: setNodeClockRate(cluster, node, 1).skewS };
      },
    };
  },
  nodeEnv: ({ id, runDir }) => fakeClockEnv(runDir, id),
  // mix already draws both of its halves (clock, partition-isolate-leader).
  inMix: false,
  nodesMin: 2,
  suiteNodes: { ci: 3, nightly: 5 },
  // CI: three 3 s faults in 12 s (the suite's CI time is short); nightly: the default.
  suiteTiming: { ci: { faultS: 3, recoverS: 1, timeLimitS: 12 }, nightly: { faultS: 8, recoverS: 4, timeLimitS: 240 } },
  band: { label: 'clock-isolate-leader', colour: bandColours.clock },
};
