import { bandColours } from '../band-colours.js';
import { minority } from '../choose.js';
import type { NemesisModule } from '../module.js';

/** kill -9 of a minority (1 of 3, 1–2 of 5); heal starts them again. */
export const kill: NemesisModule = {
  description: 'kill -9 of a minority, restarted after the fault',
  start: async ({ cluster, random }) => {
    const nodes = minority(cluster.ids, random);
    await Promise.all(nodes.map((id) => cluster.kill(id)));
    return {
      detail: { nodes },
      heal: async () => {
        for (const id of nodes) await cluster.ensureRunning(id);
        return {};
      },
    };
  },
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'kill', colour: bandColours.process },
};
