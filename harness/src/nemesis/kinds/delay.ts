import { bandColours } from '../band-colours.js';
import type { NemesisModule } from '../module.js';

/** Every node-to-node link delayed 20–120 ms with ±ms/2 jitter; client links are left alone. */
export const delay: NemesisModule = {
  description: 'every node-to-node link delayed with jitter',
  start: async ({ cluster, random }) => {
    const ms = 20 + Math.floor(random() * 100);
    const jitterMs = Math.floor(ms / 2);
    const links = cluster.proxies.names().filter((n) => !n.startsWith('client->'));
    cluster.proxies.setModes(links, { kind: 'delay', ms, jitterMs });
    return {
      detail: { ms, jitterMs, links },
      heal: async () => {
        cluster.proxies.setModes(links, { kind: 'pass' });
        return {};
      },
    };
  },
  inMix: true,
  nodesMin: 1,
  suiteNodes: { ci: 3, nightly: 5 },
  band: { label: 'delay', colour: bandColours.network },
};
