import { bandColours } from '../band-colours.js';
import type { NemesisModule } from '../module.js';

/** No faults: the workload runs on a quiet cluster for the whole time limit. */
export const none: NemesisModule = {
  description: 'no faults',
  start: null,
  inMix: false,
  nodesMin: 1,
  suiteNodes: null,
  // Never drawn: it logs no period. The label matches the availability rows of quiet time.
  band: { label: 'none', colour: bandColours.process },
};
