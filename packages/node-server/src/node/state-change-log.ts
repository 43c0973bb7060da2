import type { Logger } from 'pino';
import { NONE, type StateChange } from '@kvapp/core';

/**
 * One info line per change of role, term or known leader, with the core's own cause. The logger
 * is expected to name the node already (start-node's child logger has `node`), so every field
 * appears once per line: role, term, leader, their previous values, reason, and `from` (the peer
 * whose message caused it) when a peer did.
 */
export function logStateChange(logger: Logger, change: StateChange): void {
  const fields = {
    role: change.role,
    term: change.term,
    leader: change.leader,
    previousRole: change.previousRole,
    previousTerm: change.previousTerm,
    previousLeader: change.previousLeader,
    reason: change.reason,
    ...(change.from !== NONE ? { from: change.from } : {}),
  };
  logger.info(fields, describe(change));
}

/** The message says what changed, most important first; the fields say the rest. */
function describe(change: StateChange): string {
  if (change.role !== change.previousRole) return `became ${change.role}`;
  if (change.leader !== change.previousLeader && change.leader !== NONE) return 'new leader';
  if (change.term !== change.previousTerm) return 'new term';
  return 'leader lost';
}
