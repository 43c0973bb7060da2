import type { NodeId } from './types.js';

/**
 * Operating errors: expected in a healthy cluster (leaders change, queues fill), so callers
 * branch on `code` and tell their clients what to do next.
 */
export type RaftErrorCode =
  /** Only the leader accepts this; `leaderHint` says whom to ask (NONE if unknown). */
  | 'NOT_LEADER'
  /** A leadership transfer is under way; retry after it finishes or times out. */
  | 'TRANSFER_IN_PROGRESS'
  /** The leader holds too many uncommitted bytes; back off until the log catches up. */
  | 'UNCOMMITTED_BYTES_EXCEEDED'
  /** A new leader cannot serve ReadIndex until it has committed an entry of its own term. */
  | 'READ_NOT_READY'
  /** Too many ReadIndex requests are waiting for a quorum. */
  | 'READ_QUEUE_FULL'
  /** The request names a node that is not a voter of the current configuration. */
  | 'UNKNOWN_NODE'
  /** A configuration change is already pending (one at a time). */
  | 'CONF_CHANGE_PENDING'
  /** The configuration change is not allowed from the current configuration. */
  | 'CONF_CHANGE_INVALID';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    readonly leaderHint: NodeId = 0,
  ) {
    super(message);
    this.name = 'RaftError';
  }
}
