import type { ErrorCode, MemberInfo, NodeStatus, SnapshotInfo } from './protocol.js';

/**
 * How an operation ended. Never a guess:
 * - ok: it happened (exactly once, when it carried a session).
 * - fail: it certainly did not change anything (e.g. cas_mismatch, or no attempt ever left).
 * - indeterminate: it may have happened, or may still happen later, or never.
 */
export type Outcome =
  | {
      readonly status: 'ok';
      /** get: the value read (null: absent). */
      readonly value?: string | null;
      /** put, delete, cas: the value before (null: absent). */
      readonly prev?: string | null;
      /** listMembers, addMember: the members. */
      readonly members?: readonly MemberInfo[];
      /** promoteMember, removeMember: the change's log index; snapshotNow: the index covered. */
      readonly index?: number;
    }
  | {
      readonly status: 'fail';
      readonly error: {
        readonly code: ErrorCode;
        readonly message: string;
        /** cas_mismatch: the value found (null: absent). */
        readonly current?: string | null;
      };
    }
  | { readonly status: 'indeterminate'; readonly reason: string };

export type StatusOutcome =
  | { readonly endpoint: string; readonly ok: true; readonly status: NodeStatus }
  | { readonly endpoint: string; readonly ok: false; readonly message: string };

/** What `kvapp endpoint health` reports for one endpoint. */
export interface EndpointHealth {
  readonly endpoint: string;
  /** A connection to its client port opened. */
  readonly reachable: boolean;
  /** It answered a status request in time. */
  readonly answers: boolean;
  /** It answers and knows a leader, so a request sent to it can be served (there or by redirect). */
  readonly healthy: boolean;
  /** Why it is not healthy; absent when healthy. */
  readonly error?: string;
}

/**
 * How KvClient.saveSnapshot ended. ok: the file holds the snapshot `snapshot` of `endpoint`,
 * checked. fail: nothing is at the file (code 'file': it could not be written or did not match).
 */
export type SnapshotSaveOutcome =
  | {
      readonly status: 'ok';
      readonly snapshot: SnapshotInfo;
      /** The node the snapshot was taken on and read from. */
      readonly endpoint: string;
      readonly chunks: number;
      /** How often the read started again because the node's snapshot changed meanwhile. */
      readonly restarts: number;
    }
  | { readonly status: 'fail'; readonly error: { readonly code: ErrorCode | 'file'; readonly message: string } };
