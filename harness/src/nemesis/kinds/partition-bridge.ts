import { bandColours } from '../band-colours.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { bridge } from '../partitions.js';

/** Two sides cut apart, one bridge node talks to both (partitions.ts bridge). */
export const partitionBridge: NemesisModule = {
  description: 'two sides cut apart, one bridge node talks to both',
  start: async ({ cluster, random }) => cutOff(cluster, bridge(cluster.ids, random)),
  inMix: true,
  nodesMin: 3,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'partition-bridge', colour: bandColours.partition },
};
