import { bytes, type TestCluster } from '../support/cluster.js';
import type { SafetyChecker } from '../support/safety.js';

/** Rounds of (tick every node, deliver everything) a healed cluster gets to converge. */
const SETTLE_ROUNDS_MAX = 200;

/**
 * Heals the network, restarts every node, then runs the cluster on a perfect network until a
 * leader commits a fresh entry and every node has applied the same log. Returns what did not
 * happen, or undefined. Safety is still checked on every round.
 */
export function settle(c: TestCluster, checker: SafetyChecker): string | undefined {
  c.heal();
  for (const id of c.ids()) if (c.down.has(id)) c.restart(id);
  let marker: { index: number; term: number } | undefined;
  for (let round = 0; round < SETTLE_ROUNDS_MAX; round++) {
    c.tickAll();
    c.stabilize();
    const violation = checker.check(c);
    if (violation) return `${violation.invariant} violated while settling: ${violation.detail}`;
    const leader = c.leader();
    if (leader === undefined) continue;
    const status = c.node(leader).status();
    if (marker === undefined || marker.term !== status.term) {
      try {
        marker = c.node(leader).propose(bytes(`settle-${round}`));
      } catch {
        continue; // e.g. a transfer in progress: try again next round
      }
      c.processReady(leader);
      continue;
    }
    const applied = c.ids().map((id) => c.node(id).status().applied);
    if (applied.every((a) => a >= marker!.index)) return undefined;
  }
  const states = c.ids().map((id) => `${id}:${JSON.stringify(c.node(id).status().progress.size)}`);
  return `the cluster did not converge within ${SETTLE_ROUNDS_MAX} rounds (${states.join(' ')})`;
}
