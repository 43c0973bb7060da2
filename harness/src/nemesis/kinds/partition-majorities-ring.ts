import { bandColours } from '../band-colours.js';
import { cutOff } from '../cut-off.js';
import type { NemesisModule } from '../module.js';
import { majoritiesRing } from '../partitions.js';

/** Every node hears a different majority (partitions.ts majoritiesRing). */
export const partitionMajoritiesRing: NemesisModule = {
  description: 'every node hears a different majority (partly one-way on 3 nodes)',
  start: async ({ cluster, random }) => cutOff(cluster, majoritiesRing(cluster.ids, random)),
  inMix: true,
  nodesMin: 3,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'partition-majorities-ring', colour: bandColours.partition },
};
