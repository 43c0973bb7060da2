import { bandColours } from '../band-colours.js';
import { minority } from '../choose.js';
import type { NemesisModule } from '../module.js';

/** SIGSTOP of the leader (half the time) or of a minority; heal sends SIGCONT. */
export const pause: NemesisModule = {
  description: 'SIGSTOP of the leader or a minority, then SIGCONT',
  start: async ({ cluster, random }) => {
    const leader = random() < 0.5 ? await cluster.leader() : null;
    const nodes = leader !== null ? [leader] : minority(cluster.ids, random);
    for (const id of nodes) await cluster.pause(id);
    return {
      detail: { nodes, leader: leader !== null },
      heal: async () => {
        for (const id of nodes) await cluster.resume(id);
        return {};
      },
    };
  },
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'pause', colour: bandColours.freeze },
};
