import { bandColours } from './band-colours.js';
import { isNemesisKind, nemeses } from './registry.js';

/**
 * The families of faults a long run's totals count apart (kvapp-chaos --totals). Every other kind
 * is counted under its own name only.
 */
export type FaultFamily = 'kill' | 'power-cut' | 'partition' | 'pause';

/** The kinds that are a family by name: one kind each. */
const familyByKind: Readonly<Record<string, FaultFamily>> = { kill: 'kill', 'power-cut': 'power-cut', pause: 'pause' };

/**
 * The family of a kind as nemesis.jsonl names its periods. Partitions are every registered kind
 * the report draws in the partition colour, so a new partition shape joins by its band; `mix` too
 * is drawn in it but is no fault of its own (it logs each period under the kind it drew). A kind
 * the registry no longer has (an older run) is a partition when its name starts with `partition-`.
 */
export function faultFamily(kind: string): FaultFamily | null {
  if (Object.hasOwn(familyByKind, kind)) return familyByKind[kind]!;
  if (isNemesisKind(kind)) return kind !== 'mix' && nemeses[kind].band.colour === bandColours.partition ? 'partition' : null;
  return kind.startsWith('partition-') ? 'partition' : null;
}

/** The process deaths one ended fault period stands for, from its end line's detail. */
export interface PeriodKills {
  /** kill -9s the harness sent (a kill period's victims go down together: one round). */
  readonly kills: number;
  /** Crashes of a node at an armed failpoint (the process exits at that exact point). */
  readonly crashes: number;
}

const none: PeriodKills = { kills: 0, crashes: 0 };

/**
 * The kinds that kill a node as a means rather than as their fault, and what their end detail says
 * of it: failpoint-crash kills -9 its node to restart it armed, then counts the crashes at the
 * failpoint (`crashes`); a membership step logs a kill among its `actions` ("kill 3 12 ms later").
 */
const killsBy: Readonly<Record<string, (detail: Record<string, unknown>) => PeriodKills>> = {
  'failpoint-crash': (d) => ({ kills: 1, crashes: typeof d['crashes'] === 'number' ? d['crashes'] : 0 }),
  membership: (d) => ({
    kills: Array.isArray(d['actions']) ? d['actions'].filter((a) => typeof a === 'string' && /^kill \d/.test(a)).length : 0,
    crashes: 0,
  }),
};

/** kill -9 rounds and crashes in one ended period of `kind` (a kill period is one round). */
export function periodKills(kind: string, endDetail: unknown): PeriodKills {
  if (faultFamily(kind) === 'kill') return { kills: 1, crashes: 0 };
  const by = Object.hasOwn(killsBy, kind) ? killsBy[kind] : undefined;
  if (by === undefined || typeof endDetail !== 'object' || endDetail === null) return none;
  return by(endDetail as Record<string, unknown>);
}
