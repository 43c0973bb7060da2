import { bandColours } from '../band-colours.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { oneWay } from '../partitions.js';

/** A single direction of one link cut (partitions.ts oneWay). */
export const partitionOneWay: NemesisModule = {
  description: 'a single direction of one link cut',
  start: async ({ cluster, random }) => cutOff(cluster, oneWay(cluster.ids, random)),
  inMix: true,
  nodesMin: 2,
  suiteNodes: { ci: 3, nightly: 3 },
  band: { label: 'partition-one-way', colour: bandColours.partition },
};
