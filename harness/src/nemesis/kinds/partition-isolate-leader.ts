import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { isolateNode } from '../partitions.js';

/** Share of the clients whose reads are pinned to the isolated old leader. */
const pinnedShare = 0.5;

/**
 * The current leader cut from every peer. Meanwhile some clients read only through the old leader:
 * a node that serves reads without confirming its leadership shows stale values to exactly these
 * clients (the planted bug of the bug-local-reads scenario).
 */
export const partitionIsolateLeader: NemesisModule = {
  description: 'the current leader cut from every peer',
  start: async ({ cluster, workload, random }) => {
    // Asked straight at each node's http port: the harness's view is never partitioned.
    const leader = await cluster.leader();
    const node = leader ?? pick(cluster.ids, random);
    const fault = cutOff(cluster, isolateNode(cluster.ids, node), { leaderKnown: leader !== null, pinnedShare });
    workload.setPin({ endpoint: cluster.clientEndpoint(node), share: pinnedShare });
    return {
      ...fault,
      heal: async () => {
        workload.setPin(null);
        return fault.heal();
      },
    };
  },
  inMix: true,
  nodesMin: 2,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'partition-isolate-leader', colour: bandColours.partition },
};
