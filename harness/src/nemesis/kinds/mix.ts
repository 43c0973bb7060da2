import { bandColours } from '../band-colours.js';
import { pick } from '../choose.js';
import type { ActiveFault, FaultContext, NemesisModule } from '../module.js';

/** What `mix` needs of the registry; passed in, so that this module does not import the registry that lists it. */
export interface MixMembers<Kind extends string> {
  /** The kinds it draws from, in registry order (registry.ts mixKinds). */
  readonly kinds: () => readonly Kind[];
  /** Their smallest cluster: mix may draw any of them. */
  readonly nodesMin: () => number;
  readonly startFault: (kind: Kind, ctx: FaultContext) => Promise<ActiveFault>;
  /** The node environment of each kind it draws from, if any (NemesisModule.nodeEnv). */
  readonly nodeEnv: (kind: Kind) => NemesisModule['nodeEnv'];
}

/** A seeded mix: each period draws one of the kinds that may join a mix, logged under that kind's name. */
export function mixNemesis<Kind extends string>(members: MixMembers<Kind>): NemesisModule {
  return {
    description: 'a seeded mix of every fault above',
    start: async (ctx) => {
      const fault = await members.startFault(pick(members.kinds(), ctx.random), ctx);
      return { detail: fault.detail, kind: fault.name, heal: fault.heal };
    },
    inMix: false,
    // Every node starts ready for any kind the mix may draw (libfaketime preloaded, the disk probe on).
    nodeEnv: (node) => Object.assign({}, ...members.kinds().map((k) => members.nodeEnv(k)?.(node) ?? {})),
    get nodesMin() {
      return members.nodesMin();
    },
    suiteNodes: { ci: 5, nightly: 5 },
    band: { label: 'mix', colour: bandColours.partition },
  };
}
