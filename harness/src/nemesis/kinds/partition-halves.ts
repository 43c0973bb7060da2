import { bandColours } from '../band-colours.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { randomHalves } from '../partitions.js';

/** Random halves of the cluster cut from each other (partitions.ts randomHalves). */
export const partitionHalves: NemesisModule = {
  description: 'random halves cut from each other, then healed',
  start: async ({ cluster, random }) => cutOff(cluster, randomHalves(cluster.ids, random)),
  inMix: true,
  nodesMin: 2,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'partition-halves', colour: bandColours.partition },
};
