import type { KvResult, KvSession, NodeId } from '@kvapp/core';

/** What a simulated client asks a node; `requestId` is unique in the run. */
export interface ClientRequest {
  readonly requestId: number;
  readonly op: RequestOp;
}

export type RequestOp =
  | { readonly kind: 'register' }
  | { readonly kind: 'read'; readonly key: string }
  | { readonly kind: 'write'; readonly key: string; readonly value: string; readonly session: KvSession }
  | { readonly kind: 'delete'; readonly key: string; readonly session: KvSession }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string; readonly session: KvSession };

export interface ClientReply {
  readonly requestId: number;
  readonly outcome: ReplyOutcome;
}

export type ReplyOutcome =
  /** The command was applied at its log position; the state machine's answer. */
  | { readonly type: 'applied'; readonly result: KvResult }
  | { readonly type: 'read'; readonly value: string | null }
  /** Not the leader; `leader` is who this node believes leads (0: nobody known). Nothing was proposed. */
  | { readonly type: 'not-leader'; readonly leader: NodeId }
  /** This attempt certainly had no effect (refused, or its log entry was replaced); try again. */
  | { readonly type: 'retry'; readonly reason: string }
  /** This attempt's fate is unknown (the node timed it out or stopped); a session makes trying again safe. */
  | { readonly type: 'unknown'; readonly reason: string };
