import { RaftError, type NodeId } from '@kvapp/core';

/**
 * Why a request got no answer from the state machine. `definite` says whether the command
 * certainly did not take effect (the client may report `fail` or retry freely) or its fate is
 * unknown (the client must report `indeterminate`, unless a session makes a retry safe).
 */
export type RequestErrorCode =
  /** Not the leader; `leader` is the one this node knows of (0 if none). Definite. */
  | 'NOT_LEADER'
  /** Too much queued or uncommitted work, or the leader refused a read for now; back off. Definite. */
  | 'OVERLOADED'
  /** The entry at the proposal's index committed with another term: it never will. Definite. */
  | 'PROPOSAL_DROPPED'
  /** No answer within the request deadline: it may still commit. Indeterminate for writes. */
  | 'TIMEOUT'
  /** The node is shutting down; a proposal already in the log may still commit. Indeterminate. */
  | 'STOPPED'
  /** The command itself is malformed or too large to encode. Definite. */
  | 'BAD_REQUEST'
  /** The outcome was lost (a snapshot replaced the entries meanwhile). Indeterminate. */
  | 'OUTCOME_UNKNOWN';

export class RequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
    readonly definite: boolean,
    readonly leader: NodeId = 0,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

/** The core's refusals as request errors; anything that is not a RaftError is a bug and is rethrown. */
export function requestErrorOf(error: unknown): RequestError {
  if (!(error instanceof RaftError)) throw error;
  if (error.code === 'NOT_LEADER') return new RequestError('NOT_LEADER', error.message, true, error.leaderHint);
  return new RequestError('OVERLOADED', error.message, true, error.leaderHint);
}
