import { clockIsolateLeader } from './kinds/clock-isolate-leader.js';
import { clock } from './kinds/clock.js';
import { delay } from './kinds/delay.js';
import { failpointCrash } from './kinds/failpoint-crash.js';
import { kill } from './kinds/kill.js';
import { membership } from './kinds/membership.js';
import { mixNemesis } from './kinds/mix.js';
import { none } from './kinds/none.js';
import { partitionBridge } from './kinds/partition-bridge.js';
import { partitionHalves } from './kinds/partition-halves.js';
import { partitionIsolateLeader } from './kinds/partition-isolate-leader.js';
import { partitionMajoritiesRing } from './kinds/partition-majorities-ring.js';
import { partitionOneWay } from './kinds/partition-one-way.js';
import { pause } from './kinds/pause.js';
import { powerCut } from './kinds/power-cut.js';
import { slowDisk } from './kinds/slow-disk.js';
import { snapshotCatchUp } from './kinds/snapshot-catch-up.js';
import type { ActiveFault, FaultContext, NemesisModule } from './module.js';

/** Draws from the registry's other nemeses; typed apart so that the registry's type does not depend on itself. */
const mix: NemesisModule = mixNemesis({
  kinds: () => mixKinds,
  nodesMin: () => Math.max(...mixKinds.map((k) => nemeses[k].nodesMin)),
  startFault,
  nodeEnv: (kind) => nemeses[kind].nodeEnv,
});

/**
 * Every nemesis, one module each. A scenario names one by its key (NemesisKind), nemesis.jsonl logs
 * its periods under that key, and the chaos suite runs one scenario per nemesis that has suite
 * nodes, in this order. Adding a nemesis: one file in kinds/ and one line here.
 */
export const nemeses = {
  'partition-halves': partitionHalves,
  'partition-isolate-leader': partitionIsolateLeader,
  'partition-majorities-ring': partitionMajoritiesRing,
  'partition-bridge': partitionBridge,
  'partition-one-way': partitionOneWay,
  kill,
  pause,
  delay,
  'failpoint-crash': failpointCrash,
  'power-cut': powerCut,
  'slow-disk': slowDisk,
  'snapshot-catch-up': snapshotCatchUp,
  membership,
  clock,
  'clock-isolate-leader': clockIsolateLeader,
  mix,
  none,
} as const satisfies Record<string, NemesisModule>;

/** A scenario's nemesis: a key of the registry. */
export type NemesisKind = keyof typeof nemeses;

/** Every kind, in registry order. */
export const nemesisKinds: readonly NemesisKind[] = Object.keys(nemeses) as NemesisKind[];

/** The kinds `mix` draws from: those whose module says inMix, in registry order. */
export const mixKinds: readonly NemesisKind[] = nemesisKinds.filter((k) => nemeses[k].inMix);

export function isNemesisKind(name: string): name is NemesisKind {
  return Object.hasOwn(nemeses, name);
}

/** Starts one fault of `kind`; its period is logged under the kind the fault names (mix: the kind drawn). */
export async function startFault(kind: NemesisKind, ctx: FaultContext): Promise<ActiveFault> {
  const { start } = nemeses[kind];
  if (start === null) throw new Error(`nemesis ${kind} starts no faults`);
  const fault = await start(ctx);
  return { name: fault.kind ?? kind, detail: fault.detail, heal: fault.heal };
}
