import { bytes } from '../support/cluster.js';
import { formatViolation, type ScheduleRun } from './schedule.js';

/** Rounds of (tick every node, deliver everything) a healed cluster gets to converge. */
const SETTLE_ROUNDS_MAX = 200;

/**
 * Heals the network, restarts every node, then runs the cluster on a perfect network until a
 * leader commits a fresh entry, every member of its configuration (voters and learners) has
 * applied it, and the configuration is not joint. Nodes removed from the configuration may stay
 * behind: they are not members. Returns what did not happen, or undefined. Every property is
 * still checked on every round.
 */
export function settle(run: ScheduleRun): string | undefined {
  const c = run.c;
  c.heal();
  for (const id of c.ids()) if (c.down.has(id)) c.restart(id);
  let marker: { index: number; term: number } | undefined;
  for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
    c.tickAll();
    c.stabilize();
    const violation = run.check();
    if (violation) return `${formatViolation(violation)} (while settling)`;
    const leader = c.leader();
    if (leader === undefined) continue;
    const status = c.node(leader).status();
    if (marker === undefined || marker.term !== status.term) {
      try {
        marker = c.node(leader).propose(bytes(`settle-${round}`));
      } catch {
        continue; // e.g. a transfer in progress, or a removed leader: try again next round
      }
      c.processReady(leader);
      continue;
    }
    const { voters, learners, votersOutgoing } = status.conf;
    if (votersOutgoing.length > 0) continue; // the leader leaves a joint configuration on its own
    const members = [...voters, ...learners];
    if (members.every((id) => c.node(id).status().applied >= marker!.index)) return undefined;
  }
  const states = c.ids().map((id) => {
    const s = c.node(id).status();
    return `${id}:${s.role}@${s.term} applied=${s.applied} conf=${JSON.stringify(s.conf)}`;
  });
  return `the cluster did not converge within ${SETTLE_ROUNDS_MAX} rounds (${states.join(' ')})`;
}
