import { KvClient, type MemberInfo } from '@kvapp/client';
import type { MemberAddresses, NodeId } from '@kvapp/core';
import { StartError } from './start-error.js';

export interface JoinOptions {
  /** Client endpoints of the running cluster. */
  readonly endpoints: readonly string[];
  readonly id: NodeId;
  /** What the cluster is told to use for this node. */
  readonly addresses: MemberAddresses;
  readonly adminToken: string | null;
  readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | null;
  /** The whole join, retries included, ends within this. */
  readonly deadlineMs: number;
}

/**
 * Asks a running cluster to add this node as a learner; resolves with the members after the
 * addition (their addresses seed this node's directory). Refused or unreachable: JOIN_FAILED.
 */
export async function joinCluster(o: JoinOptions): Promise<readonly MemberInfo[]> {
  const client = new KvClient({
    endpoints: o.endpoints,
    opDeadlineMs: o.deadlineMs,
    // Nothing listening on any endpoint is a wrong flag, not a moment to wait out.
    giveUpWhenAllRefused: true,
    ...(o.adminToken !== null ? { adminToken: o.adminToken } : {}),
    ...(o.tls !== null ? { tls: o.tls } : {}),
  });
  try {
    const outcome = await client.addMember(o.id, o.addresses);
    if (outcome.status === 'ok' && outcome.members !== undefined) return outcome.members;
    const reason =
      outcome.status === 'fail'
        ? `${outcome.error.code}: ${outcome.error.message}`
        : outcome.status === 'indeterminate'
          ? `outcome unknown (${outcome.reason}); start again to retry`
          : 'no member list in the answer';
    throw new StartError('JOIN_FAILED', `cannot join the cluster at ${o.endpoints.join(',')} as node ${o.id}: ${reason}`, {
      endpoints: [...o.endpoints],
      reason,
    });
  } finally {
    client.close();
  }
}
