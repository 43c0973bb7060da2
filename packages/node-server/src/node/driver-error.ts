import type { NodeId } from '@kvapp/core';

/**
 * Why a request did not get an answer from the state machine. `definite` says whether the
 * command certainly did not take effect (the client may report `fail` or retry freely) or its
 * fate is unknown (the client must report `indeterminate` unless a session makes a retry safe).
 */
export type DriverErrorCode =
  /** Not the leader; `leader` is the one this node knows of (0 if none). Definite. */
  | 'NOT_LEADER'
  /** Too much queued or uncommitted work; back off. Definite. */
  | 'OVERLOADED'
  /** The proposal's entry was replaced by another leader's: it never committed. Definite. */
  | 'PROPOSAL_DROPPED'
  /** No answer within the request deadline: it may still commit. Indeterminate. */
  | 'TIMEOUT'
  /** The node is shutting down; a proposal already in the log may still commit. Indeterminate. */
  | 'STOPPED'
  /** The command itself is malformed or too large to encode. Definite. */
  | 'BAD_REQUEST'
  /** The outcome was lost (e.g. a snapshot replaced the entries meanwhile). Indeterminate. */
  | 'OUTCOME_UNKNOWN';

export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
    readonly definite: boolean,
    readonly leader: NodeId = 0,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}
